package io.hodei.scaling;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static io.hodei.store.Timestamps.iso;
import static io.hodei.store.Timestamps.utc;

/** Policies, triggers, cooldowns and the decision ledger in PostgreSQL. The scaling verticle is the only writer. */
final class ScalingStore {
  private static final String POLICY_COLUMNS = "id, pool_id, type, enabled, target, min_step, max_step, schedule, "
      + "created_at, updated_at, version";
  private static final String LOAD_POLICIES = "SELECT " + POLICY_COLUMNS + " FROM scaling_policy ORDER BY id";
  private static final String UPSERT_POLICY = "INSERT INTO scaling_policy (" + POLICY_COLUMNS + ") VALUES ($1, $2, "
      + "$3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO UPDATE SET type = $3, enabled = $4, target = $5, "
      + "min_step = $6, max_step = $7, schedule = $8, updated_at = $10, version = $11";
  private static final String DELETE_POLICY = "DELETE FROM scaling_policy WHERE id = $1";
  private static final String TRIGGER_COLUMNS = "id, pool_id, metric, comparison, threshold, for_duration_s, action, "
      + "step, enabled, created_at, updated_at, version";
  private static final String LOAD_TRIGGERS = "SELECT " + TRIGGER_COLUMNS + " FROM scaling_trigger ORDER BY id";
  private static final String UPSERT_TRIGGER = "INSERT INTO scaling_trigger (" + TRIGGER_COLUMNS + ") VALUES ($1, $2, "
      + "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO UPDATE SET metric = $3, comparison = $4, "
      + "threshold = $5, for_duration_s = $6, action = $7, step = $8, enabled = $9, updated_at = $11, version = $12";
  private static final String DELETE_TRIGGER = "DELETE FROM scaling_trigger WHERE id = $1";
  private static final String LOAD_COOLDOWNS = "SELECT pool_id, scale_out_cooldown_s, scale_in_cooldown_s, "
      + "scale_in_stabilisation_s, updated_at, version FROM scaling_cooldown";
  private static final String UPSERT_COOLDOWN = "INSERT INTO scaling_cooldown (pool_id, scale_out_cooldown_s, "
      + "scale_in_cooldown_s, scale_in_stabilisation_s, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6) "
      + "ON CONFLICT (pool_id) DO UPDATE SET scale_out_cooldown_s = $2, scale_in_cooldown_s = $3, "
      + "scale_in_stabilisation_s = $4, updated_at = $5, version = $6";
  private static final String EVENT_COLUMNS = "id, pool_id, at, source, source_id, reason_code, direction, "
      + "size_before, size_after, inputs, reason, cooldown, capacity_ready_ms, capacity_ready_at, idle_worker_seconds";
  private static final String INSERT_EVENT = "INSERT INTO scaling_event (pool_id, at, source, source_id, reason_code, "
      + "direction, size_before, size_after, inputs, reason, cooldown) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      + "$10, $11) RETURNING id";
  private static final String EVENT_READY = "UPDATE scaling_event SET capacity_ready_ms = $2, capacity_ready_at = $3 "
      + "WHERE id = $1";
  private static final String EVENT_IDLE = "UPDATE scaling_event SET idle_worker_seconds = $2 WHERE id = $1";
  private static final String HISTORY = "SELECT " + EVENT_COLUMNS + " FROM scaling_event WHERE pool_id = $1 "
      + "AND at >= $2 AND at < $3 AND ($4::bigint IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";
  private static final String LAST_CHANGES = "SELECT pool_id, direction, max(at) AS at FROM scaling_event "
      + "GROUP BY pool_id, direction";

  private final Pool pool;

  ScalingStore(Pool pool) { this.pool = pool; }

  Future<List<Policy>> policies() { return load(LOAD_POLICIES, ScalingStore::toPolicy); }

  Future<List<Trigger>> triggers() { return load(LOAD_TRIGGERS, ScalingStore::toTrigger); }

  Future<List<Cooldown>> cooldowns() {
    return load(LOAD_COOLDOWNS, r -> new Cooldown(r.getString("pool_id"), r.getInteger("scale_out_cooldown_s"),
        r.getInteger("scale_in_cooldown_s"), r.getInteger("scale_in_stabilisation_s"),
        r.getOffsetDateTime("updated_at").toInstant(), r.getLong("version")));
  }

  /** {@code {pool_id, direction, at}} of each pool's last scale-out and scale-in, for the cooldown clocks. */
  Future<List<JsonObject>> lastChanges() {
    return load(LAST_CHANGES, r -> new JsonObject().put("pool_id", r.getString("pool_id"))
        .put("direction", r.getString("direction")).put("at", iso(r.getOffsetDateTime("at"))));
  }

  Future<Void> savePolicy(Policy p) {
    return execute(UPSERT_POLICY, Tuple.from(new Object[] {p.id(), p.poolId(), p.type(), p.enabled(), p.target(),
        p.minStep(), p.maxStep(), p.schedule(), utc(p.createdAt()), utc(p.updatedAt()), p.version()}));
  }

  Future<Void> deletePolicy(String id) { return execute(DELETE_POLICY, Tuple.of(id)); }

  Future<Void> saveTrigger(Trigger t) {
    return execute(UPSERT_TRIGGER, Tuple.from(new Object[] {t.id(), t.poolId(), t.metric(), t.comparison(),
        t.threshold(), t.forDurationS(), t.action(), t.step(), t.enabled(), utc(t.createdAt()), utc(t.updatedAt()),
        t.version()}));
  }

  Future<Void> deleteTrigger(String id) { return execute(DELETE_TRIGGER, Tuple.of(id)); }

  Future<Void> saveCooldown(Cooldown c) {
    return execute(UPSERT_COOLDOWN, Tuple.of(c.poolId(), c.scaleOutS(), c.scaleInS(), c.stabilisationS(),
        utc(c.updatedAt()), c.version()));
  }

  /** Appends a ledger row and returns its id. */
  Future<Long> insertEvent(String poolId, Instant at, Decision d) {
    return pool.preparedQuery(INSERT_EVENT).execute(Tuple.from(new Object[] {poolId, utc(at), d.source(),
            d.sourceId(), d.reasonCode(), d.direction(), d.before(), d.after(), d.inputs().toJson(), d.reason(),
            d.cooldown()}))
        .map(rows -> rows.iterator().next().getLong("id"));
  }

  Future<Void> capacityReady(long eventId, long ms, Instant at) {
    return execute(EVENT_READY, Tuple.of(eventId, ms, utc(at)));
  }

  Future<Void> idleWorkerSeconds(long eventId, double seconds) {
    return execute(EVENT_IDLE, Tuple.of(eventId, seconds));
  }

  /** Ledger rows of a pool in [from, to), newest first, {@code limit} of them after the cursor (an id). */
  Future<List<JsonObject>> history(String poolId, Instant from, Instant to, Long before, int limit) {
    return pool.preparedQuery(HISTORY).execute(Tuple.of(poolId, utc(from), utc(to), before, limit))
        .map(rows -> {
          List<JsonObject> items = new ArrayList<>();
          rows.forEach(r -> items.add(toEvent(r)));
          return items;
        });
  }

  private <T> Future<List<T>> load(String sql, Function<Row, T> map) {
    return pool.query(sql).execute().map(rows -> {
      List<T> result = new ArrayList<>();
      rows.forEach(r -> result.add(map.apply(r)));
      return result;
    });
  }

  private Future<Void> execute(String sql, Tuple args) { return pool.preparedQuery(sql).execute(args).mapEmpty(); }

  private static Policy toPolicy(Row r) {
    Object schedule = r.getValue("schedule");
    return new Policy(r.getString("id"), r.getString("pool_id"), r.getString("type"), r.getBoolean("enabled"),
        r.getDouble("target"), r.getInteger("min_step"), r.getInteger("max_step"),
        schedule instanceof JsonArray a ? a : new JsonArray(), r.getOffsetDateTime("created_at").toInstant(),
        r.getOffsetDateTime("updated_at").toInstant(), r.getLong("version"));
  }

  private static Trigger toTrigger(Row r) {
    return new Trigger(r.getString("id"), r.getString("pool_id"), r.getString("metric"), r.getString("comparison"),
        r.getDouble("threshold"), r.getInteger("for_duration_s"), r.getString("action"), r.getInteger("step"),
        r.getBoolean("enabled"), r.getOffsetDateTime("created_at").toInstant(),
        r.getOffsetDateTime("updated_at").toInstant(), r.getLong("version"));
  }

  private static JsonObject toEvent(Row r) {
    return new JsonObject()
        .put("id", String.valueOf(r.getLong("id")))
        .put("pool_id", r.getString("pool_id"))
        .put("at", iso(r.getOffsetDateTime("at")))
        .put("source", r.getString("source"))
        .put("source_id", r.getString("source_id"))
        .put("reason_code", r.getString("reason_code"))
        .put("direction", r.getString("direction"))
        .put("size_before", r.getInteger("size_before"))
        .put("size_after", r.getInteger("size_after"))
        .put("inputs", r.getValue("inputs"))
        .put("reason", r.getString("reason"))
        .put("cooldown", r.getValue("cooldown"))
        .put("capacity_ready_ms", r.getLong("capacity_ready_ms"))
        .put("capacity_ready_at", iso(r.getOffsetDateTime("capacity_ready_at")))
        .put("idle_worker_seconds", Inputs.round(r.getDouble("idle_worker_seconds")));
  }
}
