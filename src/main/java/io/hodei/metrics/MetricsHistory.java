package io.hodei.metrics;

import io.hodei.common.DomainException;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.hodei.store.Timestamps.utc;

/**
 * The historical store: samples the catalog's gauges and counters into {@code metric_sample}, rolls them up to 1 m,
 * 5 m and 1 h buckets (min/max/avg/sum/count and p50/p95/p99 from the raw samples), enforces retention per
 * resolution, and answers range queries at the resolution that fits the range.
 */
final class MetricsHistory {
  /** Labels that become columns; any other label is folded into the stored metric name. */
  private static final Set<String> KEY_LABELS = Set.of(MetricCatalog.POOL, MetricCatalog.TENANT_ID);
  /** Series not stored: per-worker and per-endpoint meters would multiply rows without adding history value. */
  private static final Set<String> SKIPPED_LABELS = Set.of(MetricCatalog.WORKER_ID, MetricCatalog.ENDPOINT,
      MetricCatalog.METHOD);
  static final int MAX_POINTS = 10_000;

  private static final String INSERT_SAMPLE = "INSERT INTO metric_sample (ts, metric, pool, tenant, value) "
      + "VALUES ($1, $2, $3, $4, $5)";
  private static final String ROLLUP = "INSERT INTO metric_rollup (resolution, bucket, metric, pool, tenant, min, max, "
      + "avg, sum, count, p50, p95, p99) SELECT $1, b, metric, pool, tenant, min(value), max(value), avg(value), "
      + "sum(value), count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY value), "
      + "percentile_cont(0.95) WITHIN GROUP (ORDER BY value), percentile_cont(0.99) WITHIN GROUP (ORDER BY value) "
      + "FROM (SELECT to_timestamp(floor(extract(epoch FROM ts) / $2) * $2) AS b, metric, pool, tenant, value "
      + "FROM metric_sample WHERE ts >= $3 AND ts < $4) s GROUP BY b, metric, pool, tenant "
      + "ON CONFLICT (resolution, metric, pool, tenant, bucket) DO UPDATE SET min = EXCLUDED.min, max = EXCLUDED.max, "
      + "avg = EXCLUDED.avg, sum = EXCLUDED.sum, count = EXCLUDED.count, p50 = EXCLUDED.p50, p95 = EXCLUDED.p95, "
      + "p99 = EXCLUDED.p99";
  private static final String DELETE_RAW = "DELETE FROM metric_sample WHERE ts < $1";
  private static final String DELETE_ROLLUPS = "DELETE FROM metric_rollup WHERE resolution = $1 AND bucket < $2";
  private static final String QUERY_RAW = "SELECT ts, metric, pool, tenant, value FROM metric_sample "
      + "WHERE (metric = $1 OR metric LIKE $2) AND ($3::text IS NULL OR pool = $3) AND ($4::text IS NULL OR tenant = $4) "
      + "AND ts >= $5 AND ts < $6 ORDER BY metric, pool, tenant, ts LIMIT $7";
  private static final String QUERY_ROLLUP = "SELECT bucket, metric, pool, tenant, min, max, avg, sum, count, p50, "
      + "p95, p99 FROM metric_rollup WHERE resolution = $1 AND (metric = $2 OR metric LIKE $3) "
      + "AND ($4::text IS NULL OR pool = $4) AND ($5::text IS NULL OR tenant = $5) AND bucket >= $6 AND bucket < $7 "
      + "ORDER BY metric, pool, tenant, bucket LIMIT $8";

  /** Resolutions with their bucket length. */
  enum Resolution {
    RAW("raw", 0), MINUTE("1m", 60), FIVE_MINUTES("5m", 300), HOUR("1h", 3600);

    final String wire;
    final int seconds;

    Resolution(String wire, int seconds) {
      this.wire = wire;
      this.seconds = seconds;
    }

    static Resolution parse(String wire) {
      for (Resolution r : values()) if (r.wire.equals(wire)) return r;
      throw DomainException.unprocessable("step must be one of raw, 1m, 5m, 1h (or omitted to pick one)");
    }
  }

  private final Pool sql;
  private final MeterRegistry registry;
  private final HistorySettings settings;
  private final Set<String> stored;

  MetricsHistory(Pool sql, MeterRegistry registry, HistorySettings settings) {
    this.sql = sql;
    this.registry = registry;
    this.settings = settings;
    this.stored = MetricCatalog.ALL.stream().filter(d -> d.type() != MetricCatalog.Type.HISTOGRAM)
        .filter(d -> d.labels().stream().noneMatch(SKIPPED_LABELS::contains))
        .map(MetricCatalog.Def::meterName).collect(Collectors.toSet());
  }

  /** Names that can be queried (the exported catalog names). */
  static boolean queryable(String name) {
    return MetricCatalog.ALL.stream().anyMatch(d -> d.name().equals(name) && d.type() != MetricCatalog.Type.HISTOGRAM
        && d.labels().stream().noneMatch(SKIPPED_LABELS::contains));
  }

  /** One sample of every stored series, now. Returns the number of rows written. */
  Future<Integer> sample() {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    List<Tuple> rows = new ArrayList<>();
    for (Meter meter : registry.getMeters()) {
      String name = meter.getId().getName();
      if (!stored.contains(name)) continue;
      MetricCatalog.Def def = MetricCatalog.ALL.stream().filter(d -> d.meterName().equals(name)).findFirst().orElse(null);
      if (def == null) continue;
      double value = meter.measure().iterator().hasNext() ? meter.measure().iterator().next().getValue() : Double.NaN;
      if (!Double.isFinite(value)) continue;
      String pool = "";
      String tenant = "";
      StringBuilder extra = new StringBuilder();
      for (Tag tag : meter.getId().getTags()) {
        if (tag.getKey().equals(MetricCatalog.POOL)) pool = tag.getValue();
        else if (tag.getKey().equals(MetricCatalog.TENANT_ID)) tenant = tag.getValue();
        else if (!KEY_LABELS.contains(tag.getKey())) {
          extra.append(extra.length() == 0 ? "{" : ",").append(tag.getKey()).append('=').append(tag.getValue());
        }
      }
      String metric = def.name() + (extra.length() == 0 ? "" : extra.append('}').toString());
      rows.add(Tuple.of(now, metric, pool, tenant, value));
    }
    if (rows.isEmpty()) return Future.succeededFuture(0);
    return sql.preparedQuery(INSERT_SAMPLE).executeBatch(rows).map(r -> rows.size());
  }

  /**
   * Recomputes the rollups of recent buckets from the raw samples (idempotent upserts): the last 15 minutes for 1 m,
   * the last hour for 5 m and the last 3 hours for 1 h, so late samples and restarts are covered. The current bucket
   * is included and refined on every run until it closes.
   */
  Future<Void> rollup() {
    Instant now = Instant.now();
    return rollup(Resolution.MINUTE, now, Duration.ofMinutes(15))
        .compose(v -> rollup(Resolution.FIVE_MINUTES, now, Duration.ofHours(1)))
        .compose(v -> rollup(Resolution.HOUR, now, Duration.ofHours(3)));
  }

  private Future<Void> rollup(Resolution r, Instant now, Duration window) {
    long to = (now.getEpochSecond() / r.seconds + 1) * r.seconds;
    long from = (now.minus(window).getEpochSecond()) / r.seconds * r.seconds;
    return sql.preparedQuery(ROLLUP).execute(Tuple.of(r.wire, r.seconds, utc(Instant.ofEpochSecond(from)),
        utc(Instant.ofEpochSecond(to)))).mapEmpty();
  }

  /** Deletes what is older than each resolution's retention. */
  Future<Void> enforceRetention() {
    Instant now = Instant.now();
    return sql.preparedQuery(DELETE_RAW).execute(Tuple.of(utc(now.minus(Duration.ofHours(settings.rawRetentionHours())))))
        .compose(r -> deleteRollups(Resolution.MINUTE, now.minus(Duration.ofDays(settings.minuteRetentionDays()))))
        .compose(r -> deleteRollups(Resolution.FIVE_MINUTES,
            now.minus(Duration.ofDays(settings.fiveMinuteRetentionDays()))))
        .compose(r -> deleteRollups(Resolution.HOUR, now.minus(Duration.ofDays(settings.hourRetentionDays()))));
  }

  private Future<Void> deleteRollups(Resolution r, Instant before) {
    return sql.preparedQuery(DELETE_ROLLUPS).execute(Tuple.of(r.wire, utc(before))).mapEmpty();
  }

  /** The finest resolution whose retention covers {@code from} and whose points over the range stay bounded. */
  Resolution pick(Instant from, Instant to) {
    Instant now = Instant.now();
    long seconds = Math.max(1, Duration.between(from, to).getSeconds());
    if (!from.isBefore(now.minus(Duration.ofHours(settings.rawRetentionHours())))
        && seconds / Math.max(1, settings.sampleIntervalSeconds()) <= 720) {
      return Resolution.RAW;
    }
    if (!from.isBefore(now.minus(Duration.ofDays(settings.minuteRetentionDays()))) && seconds / 60 <= 1440) {
      return Resolution.MINUTE;
    }
    if (!from.isBefore(now.minus(Duration.ofDays(settings.fiveMinuteRetentionDays()))) && seconds / 300 <= 2016) {
      return Resolution.FIVE_MINUTES;
    }
    return Resolution.HOUR;
  }

  Future<JsonObject> query(String metric, String pool, String tenant, Instant from, Instant to, Resolution r) {
    String variants = metric.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "{%";
    Future<List<Row>> rows = r == Resolution.RAW
        ? sql.preparedQuery(QUERY_RAW).execute(Tuple.from(new Object[] {metric, variants, pool, tenant, utc(from),
            utc(to), MAX_POINTS})).map(MetricsHistory::list)
        : sql.preparedQuery(QUERY_ROLLUP).execute(Tuple.from(new Object[] {r.wire, metric, variants, pool, tenant,
            utc(from), utc(to), MAX_POINTS})).map(MetricsHistory::list);
    return rows.map(list -> {
      Map<String, JsonObject> series = new LinkedHashMap<>();
      for (Row row : list) {
        String key = row.getString("metric") + '|' + row.getString("pool") + '|' + row.getString("tenant");
        JsonObject s = series.computeIfAbsent(key, k -> new JsonObject().put("metric", row.getString("metric"))
            .put("pool", emptyToNull(row.getString("pool"))).put("tenant_id", emptyToNull(row.getString("tenant")))
            .put("points", new JsonArray()));
        JsonObject point;
        if (r == Resolution.RAW) {
          point = new JsonObject().put("t", row.getOffsetDateTime("ts").toInstant().toString())
              .put("value", row.getDouble("value"));
        } else {
          point = new JsonObject().put("t", row.getOffsetDateTime("bucket").toInstant().toString())
              .put("min", row.getDouble("min")).put("max", row.getDouble("max")).put("avg", row.getDouble("avg"))
              .put("sum", row.getDouble("sum")).put("count", row.getLong("count")).put("p50", row.getDouble("p50"))
              .put("p95", row.getDouble("p95")).put("p99", row.getDouble("p99"));
        }
        s.getJsonArray("points").add(point);
      }
      return new JsonObject().put("metric", metric).put("resolution", r.wire).put("from", from.toString())
          .put("to", to.toString()).put("truncated", list.size() >= MAX_POINTS)
          .put("series", new JsonArray(new ArrayList<>(series.values())));
    });
  }

  private static List<Row> list(io.vertx.sqlclient.RowSet<Row> rows) {
    List<Row> result = new ArrayList<>();
    rows.forEach(result::add);
    return result;
  }

  private static String emptyToNull(String s) { return s == null || s.isEmpty() ? null : s; }

}
