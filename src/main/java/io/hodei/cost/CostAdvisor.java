package io.hodei.cost;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.pool.PoolAddresses;
import io.hodei.tenant.TenantAddresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;

/**
 * Utilisation breakdown and rightsizing recommendations from the ledger (see docs/cost.md for every rule and
 * saving formula). Savings are estimates over the analysed window, as exact decimals.
 */
final class CostAdvisor {
  /** A pool is flagged for idle time when idle cost is more than this share of its cost. */
  static final BigDecimal IDLE_THRESHOLD = new BigDecimal("0.5");
  /** Idle cost a well-run pool keeps (headroom); the idle saving is what lies above it. */
  static final BigDecimal TARGET_IDLE = new BigDecimal("0.2");
  /** Workers are too large when no job reserved more than this share of one. */
  static final BigDecimal LARGE_WORKER_SHARE = new BigDecimal("0.5");
  /** A tenant's quota is mostly unused when its peak reserved cpu_m stays below this share of its cpu quota. */
  static final BigDecimal UNUSED_QUOTA_SHARE = new BigDecimal("0.5");
  private static final int TENANT_PAGE = 500;

  private final Vertx vertx;
  private final CostStore store;

  CostAdvisor(Vertx vertx, CostStore store) {
    this.vertx = vertx;
    this.store = store;
  }

  /** Per tenant and per pool: cost, efficiency (job / pool cost), wastage (idle cost) and burst impact. */
  Future<JsonObject> breakdown(CostQuery query) {
    Future<RowSet<Row>> tenants = store.aggregate("tenant_id", "tenant_id", true, query.from(), query.to(),
        query.tenantId(), null, CostReports.MAX_ROWS);
    Future<RowSet<Row>> pools = query.tenantScoped() ? Future.succeededFuture(null)
        : store.aggregate("pool_id", "pool_id", false, query.from(), query.to(), null, null, CostReports.MAX_ROWS);
    Future<RowSet<Row>> impact = store.impactByTenant(query.from(), query.to(), query.tenantId());
    return Future.all(tenants, pools, impact).map(all -> {
      Map<String, Row> impacts = new HashMap<>();
      impact.result().forEach(r -> impacts.put(r.getString("tenant_id"), r));
      BigDecimal allJobs = BigDecimal.ZERO;
      for (Row r : tenants.result()) allJobs = allJobs.add(Money.orZero(r.getBigDecimal("job_cost")));
      JsonArray tenantRows = new JsonArray();
      for (Row r : tenants.result()) {
        String tenant = r.getString("tenant_id");
        if (tenant == null) continue;
        Row hit = impacts.get(tenant);
        JsonObject row = CostReports.amounts(new JsonObject().put("tenant_id", tenant), r, false)
            .put("share_of_job_cost", Money.ratio(r.getBigDecimal("job_cost"), allJobs))
            .put("burst_impact_seconds", hit == null ? "0.000"
                : hit.getBigDecimal("impact_seconds").setScale(3, RoundingMode.HALF_EVEN).toPlainString())
            .put("burst_delayed_jobs", hit == null ? 0L : hit.getLong("delayed_jobs"));
        tenantRows.add(row);
      }
      JsonObject out = query.toJson().put("tenants", tenantRows);
      out.remove(CostQuery.GROUP_BY);
      if (pools.result() != null) {
        JsonArray poolRows = new JsonArray();
        for (Row r : pools.result()) {
          JsonObject row = CostReports.amounts(new JsonObject().put("pool_id", r.getString("pool_id")), r, true);
          BigDecimal pool = Money.orZero(r.getBigDecimal("pool_cost"));
          BigDecimal idle = pool.subtract(Money.orZero(r.getBigDecimal("job_cost")));
          poolRows.add(row.put("wastage", Money.show(idle)).put("wastage_ratio", Money.ratio(idle, pool)));
        }
        out.put("pools", poolRows);
      }
      return out;
    });
  }

  /**
   * Recommendations over the last {@code windowHours}: pool_min_too_high, idle_time, workers_too_large (pools; admin
   * only) and tenant_unused_quota (for a tenant token, only its own tenant).
   */
  Future<JsonObject> recommendations(Caller caller, int windowHours) {
    Instant to = Instant.now().truncatedTo(ChronoUnit.HOURS).plus(Duration.ofHours(1));
    Instant from = to.minus(Duration.ofHours(windowHours));
    String scope = caller.isAdmin() ? null : caller.tenantId();
    JsonObject envelope = BusRequest.envelope(new JsonObject(), new JsonObject().put("detail", "false"),
        new JsonObject(), null);
    Future<JsonObject> snapshot = Bus.request(vertx, PoolAddresses.SNAPSHOT, envelope, Caller.system(), null);
    Future<JsonObject> tenantList = Bus.request(vertx, TenantAddresses.LIST, BusRequest.envelope(new JsonObject(),
        new JsonObject().put("limit", String.valueOf(TENANT_PAGE)), new JsonObject(), null), Caller.system(), null);
    Future<RowSet<Row>> costs = store.aggregate("pool_id", "pool_id", false, from, to, null, null,
        CostReports.MAX_ROWS);
    Future<RowSet<Row>> peaks = store.peaks(from, to);
    Future<RowSet<Row>> shapes = store.jobShapes(from, to);
    return Future.all(snapshot, tenantList, costs, peaks, shapes).map(all -> {
      Window w = new Window(from, to, BigDecimal.valueOf(windowHours));
      Map<String, Long> poolPeaks = new HashMap<>();
      Map<String, Long> tenantPeaks = new HashMap<>();
      for (Row r : peaks.result()) {
        if (r.getString("key") == null) continue;
        long peak = r.getBigDecimal("peak") == null ? 0 : r.getBigDecimal("peak").longValue();
        ("pool".equals(r.getString("scope")) ? poolPeaks : tenantPeaks).put(r.getString("key"), peak);
      }
      Map<String, Row> poolCosts = new HashMap<>();
      costs.result().forEach(r -> poolCosts.put(r.getString("pool_id"), r));
      Map<String, Row> poolShapes = new HashMap<>();
      shapes.result().forEach(r -> poolShapes.put(r.getString("pool_id"), r));
      JsonArray out = new JsonArray();
      BigDecimal cpuHourPrice = BigDecimal.ZERO;
      BigDecimal cpuHours = BigDecimal.ZERO;
      for (Object item : snapshot.result().getJsonArray("pools", new JsonArray())) {
        JsonObject pool = (JsonObject) item;
        Row cost = poolCosts.get(pool.getString("id"));
        if (cost == null) continue;
        BigDecimal workerHours = Money.orZero(cost.getBigDecimal("worker_seconds"))
            .divide(BigDecimal.valueOf(3600), 6, RoundingMode.HALF_EVEN);
        cpuHours = cpuHours.add(workerHours.multiply(BigDecimal.valueOf(pool.getLong("worker_cpu_m", 0L))));
        cpuHourPrice = cpuHourPrice.add(Money.orZero(cost.getBigDecimal("pool_cost")));
        if (scope != null) continue;
        poolRules(out, pool, cost, poolPeaks.getOrDefault(pool.getString("id"), 0L),
            poolShapes.get(pool.getString("id")), w);
      }
      // average price of one cpu_m-hour of provisioned capacity in the window
      BigDecimal perCpuMHour = cpuHours.signum() == 0 ? BigDecimal.ZERO
          : cpuHourPrice.divide(cpuHours, 12, RoundingMode.HALF_EVEN);
      for (Object item : tenantList.result().getJsonArray("items", new JsonArray())) {
        JsonObject tenant = (JsonObject) item;
        if (scope != null && !scope.equals(tenant.getString("id"))) continue;
        tenantRule(out, tenant, tenantPeaks.getOrDefault(tenant.getString("id"), 0L), perCpuMHour, w);
      }
      return new JsonObject().put("window_hours", windowHours).put("from", from.toString()).put("to", to.toString())
          .put("recommendations", out).put("generated_at", Instant.now().toString());
    });
  }

  private record Window(Instant from, Instant to, BigDecimal hours) {}

  private static void poolRules(JsonArray out, JsonObject pool, Row cost, long peak, Row shape, Window w) {
    String id = pool.getString("id");
    BigDecimal price = new BigDecimal(String.valueOf(pool.getValue("price_per_worker_hour", "0")));
    BigDecimal poolCost = Money.orZero(cost.getBigDecimal("pool_cost"));
    BigDecimal jobCost = Money.orZero(cost.getBigDecimal("job_cost"));
    BigDecimal idle = poolCost.subtract(jobCost);
    int min = pool.getInteger("min_size", 0);
    if (min > peak) {
      BigDecimal saving = BigDecimal.valueOf(min - peak).multiply(price).multiply(w.hours());
      out.add(recommendation("pool_min_too_high", "pool", id,
          "min_size " + min + " is above the peak of " + peak + " concurrent jobs in the window; set min_size to "
              + peak, saving, new JsonObject().put("min_size", min).put("peak_concurrent_jobs", peak)
              .put("recommended_min_size", peak).put("price_per_worker_hour", price.toPlainString())));
    }
    if (poolCost.signum() > 0 && idle.compareTo(poolCost.multiply(IDLE_THRESHOLD)) > 0) {
      BigDecimal saving = idle.subtract(poolCost.multiply(TARGET_IDLE)).max(BigDecimal.ZERO);
      out.add(recommendation("idle_time", "pool", id, "workers were idle for " + pct(idle, poolCost)
              + "% of their cost; scale the pool down when idle", saving,
          new JsonObject().put("pool_cost", Money.show(poolCost)).put("job_cost", Money.show(jobCost))
              .put("idle_cost", Money.show(idle)).put("efficiency", Money.ratio(jobCost, poolCost))
              .put("target_idle_ratio", TARGET_IDLE.toPlainString())));
    }
    if (shape != null && shape.getBigDecimal("max_share") != null
        && shape.getBigDecimal("max_share").compareTo(LARGE_WORKER_SHARE) <= 0) {
      long workerCpu = pool.getLong("worker_cpu_m", 0L);
      long workerMemory = pool.getLong("worker_memory_mb", 0L);
      long cpu = Math.max(1, shape.getLong("max_cpu_m"));
      long memory = Math.max(1, shape.getLong("max_memory_mb"));
      BigDecimal fraction = CostRecord.share(cpu, memory, workerCpu, workerMemory);
      BigDecimal saving = poolCost.multiply(BigDecimal.ONE.subtract(fraction));
      out.add(recommendation("workers_too_large", "pool", id, "no job reserved more than "
              + pct(shape.getBigDecimal("max_share"), BigDecimal.ONE) + "% of a worker; use workers of "
              + cpu + " cpu_m / " + memory + " MB", saving,
          new JsonObject().put("worker_cpu_m", workerCpu).put("worker_memory_mb", workerMemory)
              .put("max_job_share", shape.getBigDecimal("max_share").toPlainString())
              .put("max_job_cpu_m", cpu).put("max_job_memory_mb", memory)
              .put("recommended_worker_cpu_m", cpu).put("recommended_worker_memory_mb", memory)
              .put("pool_cost", Money.show(poolCost))));
    }
  }

  private static void tenantRule(JsonArray out, JsonObject tenant, long peakCpuM, BigDecimal perCpuMHour, Window w) {
    long quota = tenant.getJsonObject("quota", new JsonObject()).getLong("cpu_m", 0L);
    if (quota <= 0) return;
    if (BigDecimal.valueOf(peakCpuM).compareTo(BigDecimal.valueOf(quota).multiply(UNUSED_QUOTA_SHARE)) >= 0) return;
    long recommended = Math.max(100, ((peakCpuM * 12 / 10) + 99) / 100 * 100);
    if (recommended >= quota) return;
    BigDecimal saving = BigDecimal.valueOf(quota - recommended).multiply(perCpuMHour).multiply(w.hours());
    out.add(recommendation("tenant_unused_quota", "tenant", tenant.getString("id"),
        "peak reserved cpu_m " + peakCpuM + " is below " + pct(UNUSED_QUOTA_SHARE, BigDecimal.ONE)
            + "% of the cpu quota " + quota + "; lower the quota to " + recommended, saving,
        new JsonObject().put("quota_cpu_m", quota).put("peak_cpu_m", peakCpuM)
            .put("recommended_quota_cpu_m", recommended)
            .put("price_per_cpu_m_hour", perCpuMHour.setScale(9, RoundingMode.HALF_EVEN).toPlainString())));
  }

  private static JsonObject recommendation(String type, String targetKind, String target, String action,
                                           BigDecimal saving, JsonObject evidence) {
    return new JsonObject().put("type", type).put(targetKind + "_id", target).put("action", action)
        .put("estimated_saving", Money.show(saving)).put("evidence", evidence);
  }

  private static String pct(BigDecimal part, BigDecimal whole) {
    return part.multiply(BigDecimal.valueOf(100)).divide(whole, 1, RoundingMode.HALF_EVEN).toPlainString();
  }
}
