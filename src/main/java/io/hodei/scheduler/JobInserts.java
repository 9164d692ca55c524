package io.hodei.scheduler;

import io.hodei.common.DomainException;
import io.hodei.store.GroupCommit;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.hodei.store.Timestamps.utc;
import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Submitted jobs into PostgreSQL, with their idempotency keys honoured: a key sent again with the same submission
 * answers the stored job, with another submission a 422. The job store's part for submissions.
 */
final class JobInserts {
  private static final Logger LOG = LoggerFactory.getLogger(JobInserts.class);
  /**
   * Job rows and their {@code queued} events. A row whose idempotency key its tenant used before is skipped, and so
   * is a row whose tenant no longer exists: each distinct tenant is locked once per statement (FOR KEY SHARE) in
   * place of a per-row foreign key, so a tenant deletion waits for the insert and then sees its jobs (V12).
   */
  /**
   * The submitted jobs (arrays, one element per job), each with its queued event's sequence number, and one
   * job_event_log row for the statement. Two forms: jobs with an idempotency key insert with ON CONFLICT (a
   * speculative insertion, which costs an extra WAL record per row), jobs without one insert plainly.
   */
  private static final String INSERT_ROWS = "WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], "
      + "$4::int[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], "
      + "$12::text[], $13::int[], $14::int[], $15::int[], $16::timestamptz[], $17::text[], $18::timestamptz[], "
      + "$19::text[], $20::text[]) AS d(id, tenant_id, name, priority, cpu_m, memory_mb, pool_id, pool_labels, "
      + "command, env, payload, labels, timeout_s, max_attempts, max_queue_seconds, sla_deadline, idempotency_key, "
      + "submitted_at, trace_id, idempotency_fingerprint)), "
      + "t AS (SELECT id FROM tenant WHERE id IN (SELECT DISTINCT tenant_id FROM d) FOR KEY SHARE), "
      + "j AS (INSERT INTO job (id, tenant_id, name, state, priority, cpu_m, memory_mb, pool_id, "
      + "pool_labels, command, env, payload, labels, timeout_s, max_attempts, max_queue_seconds, sla_deadline, "
      + "idempotency_key, submitted_at, trace_id, idempotency_fingerprint, queued_seq, last_seq) SELECT id, "
      + "tenant_id, name, 'queued', priority, cpu_m, memory_mb, pool_id, pool_labels::jsonb, command::jsonb, "
      + "env::jsonb, payload::jsonb, labels::jsonb, timeout_s, max_attempts, max_queue_seconds, sla_deadline, "
      + "idempotency_key, submitted_at, trace_id, idempotency_fingerprint, seq, seq FROM (SELECT d.*, "
      + "nextval('job_event_id_seq') AS seq FROM d WHERE tenant_id IN (SELECT id FROM t)) d";
  private static final String INSERT_LOGGED = " RETURNING id, queued_seq), "
      + "l AS (INSERT INTO job_event_log (last_seq, first_seq, job_ids) SELECT max(queued_seq), min(queued_seq), "
      + "array_agg(id) FROM j HAVING count(*) > 0) SELECT id AS job_id FROM j";
  private static final String INSERT = INSERT_ROWS + INSERT_LOGGED;
  private static final String INSERT_IDEMPOTENT = INSERT_ROWS + " ON CONFLICT (tenant_id, idempotency_key) "
      + "WHERE idempotency_key IS NOT NULL DO NOTHING" + INSERT_LOGGED;
  private static final Class<?>[] INSERT_COLUMNS = {String.class, String.class, String.class, Integer.class,
      Long.class, Long.class, String.class, String.class, String.class, String.class, String.class, String.class,
      Integer.class, Integer.class, Integer.class, OffsetDateTime.class, String.class, OffsetDateTime.class,
      String.class, String.class};
  private static final String BY_IDEMPOTENCY = "SELECT " + JobStore.COLUMNS + ", idempotency_fingerprint FROM job "
      + "WHERE tenant_id = $1 AND idempotency_key = $2";
  private static final String FINGERPRINT = "SELECT id, idempotency_fingerprint FROM job WHERE tenant_id = $1 "
      + "AND idempotency_key = $2";

  private final Pool pool;
  private final GroupCommit writer;

  JobInserts(Pool pool, GroupCommit writer) {
    this.pool = pool;
    this.writer = writer;
  }

  /**
   * Inserts jobs, each with its {@code queued} event, in one write of the group commit (a batch commits whole or not
   * at all). A job whose idempotency key its tenant used before is not inserted: the result holds the stored job
   * instead, marked {@code idempotent_replay}. Results are in input order; an inserted job's result is an empty
   * object (the caller holds the job). Completes once committed.
   */
  Future<List<JsonObject>> insert(List<Job> jobs) {
    if (jobs.isEmpty()) return Future.succeededFuture(new ArrayList<>());
    return checkKeyReuse(jobs).compose(v -> write(jobs));
  }

  /**
   * 422 when an idempotency key comes with a submission other than the one it was first used for (by a stored job
   * or by another job of the same batch): nothing is written then. A key reused concurrently is caught after the
   * write, see {@link #write}.
   */
  private Future<Void> checkKeyReuse(List<Job> jobs) {
    List<Tuple> keyed = new ArrayList<>();
    List<Job> keyedJobs = new ArrayList<>();
    Map<String, String> inBatch = new HashMap<>();
    for (Job j : jobs) {
      if (j.idempotencyKey == null) continue;
      String first = inBatch.putIfAbsent(j.tenantId + '\n' + j.idempotencyKey, j.idempotencyFingerprint);
      if (first != null && !first.equals(j.idempotencyFingerprint)) return Future.failedFuture(keyReused(j, null));
      keyed.add(Tuple.of(j.tenantId, j.idempotencyKey));
      keyedJobs.add(j);
    }
    if (keyed.isEmpty()) return Future.succeededFuture();
    return pool.preparedQuery(FINGERPRINT).executeBatch(keyed).compose(rows -> {
      RowSet<Row> result = rows;
      for (Job j : keyedJobs) {
        for (Row r : result) {
          if (!sameSubmission(r.getString("idempotency_fingerprint"), j)) {
            return Future.failedFuture(keyReused(j, r.getString("id")));
          }
        }
        result = result.next();
      }
      return Future.succeededFuture();
    });
  }

  /** Rows stored before fingerprints were kept have none: they are answered as replays. */
  private static boolean sameSubmission(String storedFingerprint, Job j) {
    return storedFingerprint == null || storedFingerprint.equals(j.idempotencyFingerprint);
  }

  private static DomainException keyReused(Job j, String firstJobId) {
    JsonObject ext = new JsonObject().put("reason", "idempotency_key_reused").put("errors", new JsonArray()
        .add(new JsonObject().put("field", "idempotency_key").put("message",
            "was used for a different submission; send the same body to retry, or a new key for a new job")));
    if (firstJobId != null) ext.put("job_id", firstJobId);
    return new DomainException(422, "Unprocessable Content", "the idempotency key '" + j.idempotencyKey
        + "' was already used for a different job submission", ext);
  }

  private Future<List<JsonObject>> write(List<Job> jobs) {
    boolean[] inserted = new boolean[jobs.size()];
    // every row of one combined execution sees the same result: read its job ids once, not once per row
    Map<RowSet<Row>, Set<String>> returned = new IdentityHashMap<>();
    List<GroupCommit.Statement> rows = new ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      Job j = jobs.get(i);
      int index = i;
      String sql = j.idempotencyKey == null ? INSERT : INSERT_IDEMPOTENT;
      rows.add(GroupCommit.Statement.row(j.id, sql, INSERT_COLUMNS, new Object[] {j.id, j.tenantId, j.name,
          j.priority, j.cpuM, j.memoryMb, j.poolId, JobStore.json(j.poolLabels), JobStore.json(j.command),
          JobStore.json(j.env), j.payloadText != null ? j.payloadText : JobStore.json(j.payload),
          JobStore.json(j.labels), j.timeoutSeconds, j.maxAttempts,
          j.maxQueueSeconds, utc(j.slaDeadline),
          j.idempotencyKey, utc(j.submittedAt), j.traceId, j.idempotencyFingerprint},
          result -> inserted[index] = returned.computeIfAbsent(result, JobInserts::jobIds).contains(j.id)));
    }
    return writer.tryWrite(rows).compose(v -> {
      List<Tuple> replays = new ArrayList<>();
      for (int i = 0; i < jobs.size(); i++) {
        Job j = jobs.get(i);
        if (inserted[i]) continue;
        // not inserted and no key to have conflicted on: its tenant was deleted since the caller checked it
        if (j.idempotencyKey == null) return Future.failedFuture(DomainException.notFound("tenant", j.tenantId));
        replays.add(Tuple.of(j.tenantId, j.idempotencyKey));
      }
      Future<RowSet<Row>> stored = replays.isEmpty() ? Future.succeededFuture(null)
          : pool.preparedQuery(BY_IDEMPOTENCY).executeBatch(replays);
      return stored.compose(replayed -> {
        List<JsonObject> results = new ArrayList<>(jobs.size());
        RowSet<Row> replay = replayed;
        for (int i = 0; i < jobs.size(); i++) {
          if (inserted[i]) {
            results.add(new JsonObject());
            continue;
          }
          if (replay.size() == 0) return Future.failedFuture(DomainException.notFound("tenant", jobs.get(i).tenantId));
          Row first = replay.iterator().next();
          if (!sameSubmission(first.getString("idempotency_fingerprint"), jobs.get(i))) {
            // the key was used concurrently for another submission; with nothing of this write committed it is
            // refused like one seen before the write, otherwise the batch's committed jobs must be answered
            if (noneInserted(inserted)) return Future.failedFuture(keyReused(jobs.get(i), first.getString("id")));
            LOG.warn("idempotency key reused concurrently within a committed batch: answered with the first job",
                kv("tenant_id", jobs.get(i).tenantId), kv("job_id", first.getString("id")));
          }
          results.add(JobStore.toJson(first).put("idempotent_replay", true));
          replay = replay.next();
        }
        return Future.succeededFuture(results);
      });
    });
  }

  private static boolean noneInserted(boolean[] inserted) {
    for (boolean b : inserted) if (b) return false;
    return true;
  }

  /** The job ids a multi-row statement's RETURNING job_id holds. */
  private static Set<String> jobIds(RowSet<Row> result) {
    Set<String> ids = new HashSet<>();
    for (Row r : result) ids.add(r.getString(0));
    return ids;
  }
}
