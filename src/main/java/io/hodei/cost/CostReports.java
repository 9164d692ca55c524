package io.hodei.cost;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Cost reports from the ledger: rows per tenant, pool, UTC day or job attempt, totals, and the reconciliation of
 * job + idle cost against pool cost. Amounts are decimal strings (see {@link Money}).
 */
final class CostReports {
  static final int MAX_ROWS = 10_000;
  /** Job + idle must equal pool cost within this fraction (0.01%). */
  static final BigDecimal TOLERANCE = new BigDecimal("0.0001");

  /** How a grouping selects its key (SQL constants) and which key columns its rows have. */
  private record Group(String keyColumns, String groupBy, boolean jobsOnly, List<String> keys) {}

  private static final Map<String, Group> GROUPS = Map.of(
      "tenant", new Group("tenant_id", "tenant_id", true, List.of("tenant_id")),
      "pool", new Group("pool_id", "pool_id", false, List.of("pool_id")),
      "day", new Group("to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day", "1", false, List.of("day")),
      "job", new Group("min(job_id) AS job_id, min(attempt_started_at) AS attempt_started_at, min(tenant_id) AS "
          + "tenant_id, min(pool_id) AS pool_id, min(burst_grant_id) AS burst_grant_id", "source_id", true,
          List.of("job_id", "attempt_started_at", "tenant_id", "pool_id", "burst_grant_id")));
  private static final List<String> JOB_AMOUNTS = List.of("job_cost", "burst_cost", "burst_cpu_m_seconds", "jobs",
      "job_seconds");
  private static final List<String> POOL_AMOUNTS = List.of("pool_cost", "idle_cost", "efficiency", "worker_seconds");

  private final CostStore store;

  CostReports(CostStore store) { this.store = store; }

  /** The columns of a report's rows, in CSV order. */
  static List<String> columns(CostQuery query) {
    List<String> columns = new ArrayList<>(GROUPS.get(query.groupBy()).keys());
    columns.addAll(JOB_AMOUNTS);
    if (showsPoolCost(query)) columns.addAll(POOL_AMOUNTS);
    return columns;
  }

  /** Pool and idle cost are platform costs: shown unscoped, and never per tenant or per job. */
  private static boolean showsPoolCost(CostQuery query) {
    return !query.tenantScoped() && !GROUPS.get(query.groupBy()).jobsOnly();
  }

  Future<JsonObject> report(CostQuery query) {
    Group group = GROUPS.get(query.groupBy());
    Future<RowSet<Row>> rows = store.aggregate(group.keyColumns(), group.groupBy(), group.jobsOnly(), query.from(),
        query.to(), query.tenantId(), query.poolId(), MAX_ROWS);
    Future<RowSet<Row>> totals = store.aggregate("'all' AS total", null, false, query.from(), query.to(),
        query.tenantId(), query.poolId(), 1);
    Future<RowSet<Row>> perPool = store.aggregate("pool_id", "pool_id", false, query.from(), query.to(),
        query.tenantId(), query.poolId(), MAX_ROWS);
    return Future.all(rows, totals, perPool).map(all -> {
      JsonArray out = new JsonArray();
      boolean pools = showsPoolCost(query);
      for (Row r : rows.result()) {
        JsonObject row = new JsonObject();
        for (String key : group.keys()) {
          Object value = r.getValue(key);
          row.put(key, value instanceof java.time.OffsetDateTime t ? t.toInstant().toString() : value);
        }
        if (row.getValue(group.keys().get(0)) == null) continue;
        amounts(row, r, pools);
        out.add(row);
      }
      JsonObject total = amounts(new JsonObject(), totals.result().iterator().next(), !query.tenantScoped());
      JsonObject report = query.toJson().put("columns", new JsonArray(columns(query))).put("rows", out)
          .put("truncated", out.size() >= MAX_ROWS).put("totals", total).put("generated_at", Instant.now().toString());
      if (!query.tenantScoped()) report.put("reconciliation", reconcile(totals.result().iterator().next(),
          perPool.result()));
      return report;
    });
  }

  /** Adds the amounts of one aggregate row; with {@code pools}, pool cost, idle cost and efficiency too. */
  static JsonObject amounts(JsonObject row, Row r, boolean pools) {
    BigDecimal job = Money.orZero(r.getBigDecimal("job_cost"));
    row.put("job_cost", Money.show(job))
        .put("burst_cost", Money.show(r.getBigDecimal("burst_cost")))
        .put("burst_cpu_m_seconds", seconds(r.getBigDecimal("burst_cpu_m_seconds")))
        .put("jobs", r.getLong("jobs") == null ? 0L : r.getLong("jobs"))
        .put("job_seconds", seconds(r.getBigDecimal("job_seconds")));
    if (pools) {
      BigDecimal pool = Money.orZero(r.getBigDecimal("pool_cost"));
      row.put("pool_cost", Money.show(pool)).put("idle_cost", Money.show(pool.subtract(job)))
          .put("efficiency", Money.ratio(job, pool))
          .put("worker_seconds", seconds(r.getBigDecimal("worker_seconds")));
    }
    return row;
  }

  private static String seconds(BigDecimal value) {
    return Money.orZero(value).setScale(3, java.math.RoundingMode.HALF_EVEN).toPlainString();
  }

  /**
   * Job cost + idle cost against pool cost: the totals query against the sum of the per-pool rows (two independent
   * aggregations), within {@link #TOLERANCE}.
   */
  private static JsonObject reconcile(Row totals, RowSet<Row> perPool) {
    BigDecimal pool = Money.orZero(totals.getBigDecimal("pool_cost"));
    BigDecimal job = BigDecimal.ZERO;
    BigDecimal idle = BigDecimal.ZERO;
    for (Row r : perPool) {
      BigDecimal poolCost = Money.orZero(r.getBigDecimal("pool_cost"));
      BigDecimal jobCost = Money.orZero(r.getBigDecimal("job_cost"));
      job = job.add(jobCost);
      idle = idle.add(poolCost.subtract(jobCost));
    }
    BigDecimal difference = pool.subtract(job.add(idle)).abs();
    boolean ok = difference.compareTo(pool.multiply(TOLERANCE)) <= 0;
    return new JsonObject().put("pool_cost", Money.show(pool)).put("job_cost", Money.show(job))
        .put("idle_cost", Money.show(idle)).put("difference", Money.show(difference))
        .put("tolerance", TOLERANCE.toPlainString()).put("reconciled", ok);
  }
}
