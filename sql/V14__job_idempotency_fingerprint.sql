-- An idempotency key names one request: a replay with the same key must carry the same submission. The fingerprint
-- (SHA-256 of the canonical submission, hex) lets the server tell a retry (same body: the first job is answered) from
-- a reuse of the key for another job (422, as the IETF Idempotency-Key draft asks). Rows written before this
-- migration have none and are answered as replays.
-- (V13 is taken by another branch's migration; this one is numbered after it so that both can be merged.)
ALTER TABLE job ADD COLUMN IF NOT EXISTS idempotency_fingerprint text;
