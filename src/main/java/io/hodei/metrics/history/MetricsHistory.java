package io.hodei.metrics.history;

import io.hodei.common.MetricCatalog;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.hodei.store.Timestamps.utc;

/**
 * The historical store, packed: every sample of a series in a UTC minute is one row of {@code metric_raw} (parallel
 * arrays of second-within-minute and value, appended by an upsert at each sample), keyed by the integer id of its
 * {@code metric_series} row. The 1 m resolution is aggregated from those minute rows at query time; 5 m and 1 h
 * buckets (min/max/avg/sum/count and p50/p95/p99 of the raw values) are stored in {@code metric_rollup} by the rollup
 * timer. Retention is enforced per resolution; range queries are answered at the resolution that fits the range.
 */
final class MetricsHistory {
  /** Labels that become columns; any other label is folded into the stored metric name. */
  private static final Set<String> KEY_LABELS = Set.of(MetricCatalog.POOL, MetricCatalog.TENANT_ID);
  /** Series not stored: per-worker and per-endpoint meters would multiply rows without adding history value. */
  private static final Set<String> SKIPPED_LABELS = Set.of(MetricCatalog.WORKER_ID, MetricCatalog.ENDPOINT,
      MetricCatalog.METHOD);
  static final int MAX_POINTS = 10_000;

  private static final String SERIES_INSERT = "INSERT INTO metric_series (metric, pool, tenant) "
      + "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (metric, pool, tenant) DO NOTHING";
  private static final String SERIES_IDS = "SELECT s.id, s.metric, s.pool, s.tenant FROM metric_series s "
      + "JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(metric, pool, tenant) USING (metric, pool, tenant)";
  private static final String APPEND = "INSERT INTO metric_raw (series_id, minute, offsets, vals) "
      + "SELECT u.s, $2, ARRAY[$3::smallint], ARRAY[u.v] FROM unnest($1::int[], $4::float8[]) AS u(s, v) "
      + "ON CONFLICT (series_id, minute) DO UPDATE SET offsets = metric_raw.offsets || EXCLUDED.offsets, "
      + "vals = metric_raw.vals || EXCLUDED.vals";
  /** The aggregates of one bucket over the unnested raw values {@code v}. */
  private static final String AGGREGATES = "min(v) AS min, max(v) AS max, avg(v) AS avg, sum(v) AS sum, "
      + "count(*) AS count, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50, "
      + "percentile_cont(0.95) WITHIN GROUP (ORDER BY v) AS p95, percentile_cont(0.99) WITHIN GROUP (ORDER BY v) AS p99";
  private static final String ROLLUP = "INSERT INTO metric_rollup (series_id, step, bucket, min, max, avg, sum, count, "
      + "p50, p95, p99) SELECT r.series_id, $1::int, to_timestamp(floor(extract(epoch FROM r.minute) / $1::int) * $1::int) "
      + "AS b, " + AGGREGATES + " FROM metric_raw r CROSS JOIN LATERAL unnest(r.vals) AS v "
      + "WHERE r.minute >= $2 AND r.minute < $3 GROUP BY r.series_id, b "
      + "ON CONFLICT (series_id, step, bucket) DO UPDATE SET min = EXCLUDED.min, max = EXCLUDED.max, "
      + "avg = EXCLUDED.avg, sum = EXCLUDED.sum, count = EXCLUDED.count, p50 = EXCLUDED.p50, p95 = EXCLUDED.p95, "
      + "p99 = EXCLUDED.p99";
  private static final String DELETE_RAW = "DELETE FROM metric_raw WHERE minute < $1";
  private static final String DELETE_ROLLUPS = "DELETE FROM metric_rollup WHERE step = $1 AND bucket < $2";
  /** The series filter shared by the queries: $1 metric, $2 its labelled variants (LIKE), $3 pool, $4 tenant. */
  private static final String SERIES_FILTER = "(s.metric = $1 OR s.metric LIKE $2) AND ($3::text IS NULL OR s.pool = $3) "
      + "AND ($4::text IS NULL OR s.tenant = $4)";
  private static final String SERIES_ORDER = " ORDER BY s.metric, s.pool, s.tenant, ";
  private static final String QUERY_RAW = "SELECT s.metric, s.pool, s.tenant, r.minute + u.o * interval '1 second' AS ts, "
      + "u.v AS value FROM metric_series s JOIN metric_raw r ON r.series_id = s.id "
      + "CROSS JOIN LATERAL unnest(r.offsets, r.vals) AS u(o, v) WHERE " + SERIES_FILTER
      + " AND r.minute >= date_trunc('minute', $5::timestamptz) AND r.minute < $6 "
      + "AND r.minute + u.o * interval '1 second' >= $5 AND r.minute + u.o * interval '1 second' < $6"
      + SERIES_ORDER + "ts LIMIT $7";
  private static final String QUERY_MINUTE = "SELECT s.metric, s.pool, s.tenant, r.minute AS bucket, a.* "
      + "FROM metric_series s JOIN metric_raw r ON r.series_id = s.id "
      + "CROSS JOIN LATERAL (SELECT " + AGGREGATES + " FROM unnest(r.vals) AS v) a WHERE " + SERIES_FILTER
      + " AND r.minute >= $5 AND r.minute < $6" + SERIES_ORDER + "r.minute LIMIT $7";
  private static final String QUERY_ROLLUP = "SELECT s.metric, s.pool, s.tenant, r.bucket, r.min, r.max, r.avg, r.sum, "
      + "r.count, r.p50, r.p95, r.p99 FROM metric_series s JOIN metric_rollup r ON r.series_id = s.id WHERE "
      + SERIES_FILTER + " AND r.step = $5 AND r.bucket >= $6 AND r.bucket < $7" + SERIES_ORDER + "r.bucket LIMIT $8";

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
  /**
   * Gauges derived from stored counters over a recent window (throughput, a running mean) or about the series bound
   * itself: their history adds rows, not information (rate() of the stored counters gives them back).
   */
  private static final Set<MetricCatalog.Def> DERIVED = Set.of(MetricCatalog.POOL_LATENCY_AVG,
      MetricCatalog.POOL_THROUGHPUT_JOBS, MetricCatalog.POOL_THROUGHPUT_WORKERS, MetricCatalog.WORKER_SERIES_DROPPED);
  private final HistorySettings settings;
  private final Set<String> stored;
  /** Ids of the series rows, filled as series are first sampled (touched on the verticle's context only). */
  private final Map<SeriesKey, Integer> seriesIds = new HashMap<>();

  MetricsHistory(Pool sql, MeterRegistry registry, HistorySettings settings) {
    this.sql = sql;
    this.registry = registry;
    this.settings = settings;
    this.stored = MetricCatalog.ALL.stream().filter(MetricsHistory::kept)
        .map(MetricCatalog.Def::meterName).collect(Collectors.toSet());
  }

  /** Names that can be queried (the exported catalog names). */
  static boolean queryable(String name) {
    return MetricCatalog.ALL.stream().anyMatch(d -> d.name().equals(name) && kept(d));
  }

  /** Stored: counters and gauges without per-worker or per-endpoint labels, derived gauges aside. */
  private static boolean kept(MetricCatalog.Def d) {
    return d.type() != MetricCatalog.Type.HISTOGRAM && !DERIVED.contains(d)
        && d.labels().stream().noneMatch(SKIPPED_LABELS::contains);
  }

  /** A series' key columns. */
  private record SeriesKey(String metric, String pool, String tenant) {}

  /**
   * One sample of every stored series, now: appended to each series' row of the current minute (one statement for all
   * series; series seen for the first time get their id first). Returns the number of samples written.
   */
  Future<Integer> sample() {
    Instant now = Instant.now();
    Map<SeriesKey, Double> values = new LinkedHashMap<>();
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
      values.put(new SeriesKey(metric, pool, tenant), value);
    }
    if (values.isEmpty()) return Future.succeededFuture(0);
    List<SeriesKey> unknown = values.keySet().stream().filter(k -> !seriesIds.containsKey(k)).toList();
    return resolve(unknown).compose(v -> {
      Integer[] ids = new Integer[values.size()];
      Double[] vals = new Double[values.size()];
      int i = 0;
      for (Map.Entry<SeriesKey, Double> e : values.entrySet()) {
        ids[i] = seriesIds.get(e.getKey());
        vals[i++] = e.getValue();
      }
      long epoch = now.getEpochSecond();
      return sql.preparedQuery(APPEND).execute(Tuple.of(ids, utc(Instant.ofEpochSecond(epoch / 60 * 60)),
          (short) (epoch % 60), vals)).map(r -> ids.length);
    });
  }

  /** Creates the series rows of {@code keys} if needed and caches their ids (series rows are never deleted). */
  private Future<Void> resolve(List<SeriesKey> keys) {
    if (keys.isEmpty()) return Future.succeededFuture();
    Tuple columns = Tuple.of(keys.stream().map(SeriesKey::metric).toArray(String[]::new),
        keys.stream().map(SeriesKey::pool).toArray(String[]::new),
        keys.stream().map(SeriesKey::tenant).toArray(String[]::new));
    return sql.preparedQuery(SERIES_INSERT).execute(columns)
        .compose(r -> sql.preparedQuery(SERIES_IDS).execute(columns))
        .map(rows -> {
          rows.forEach(row -> seriesIds.put(new SeriesKey(row.getString("metric"), row.getString("pool"),
              row.getString("tenant")), row.getInteger("id")));
          return null;
        });
  }

  /**
   * Recomputes the stored rollups of recent buckets from the raw minute rows (idempotent upserts): the last hour for
   * 5 m and the last 3 hours for 1 h, so late samples and restarts are covered. The current bucket is included and
   * refined on every run until it closes. (1 m is aggregated from the minute rows at query time: always current.)
   */
  Future<Void> rollup() {
    Instant now = Instant.now();
    return rollup(Resolution.FIVE_MINUTES, now, Duration.ofHours(1))
        .compose(v -> rollup(Resolution.HOUR, now, Duration.ofHours(3)));
  }

  private Future<Void> rollup(Resolution r, Instant now, Duration window) {
    long to = (now.getEpochSecond() / r.seconds + 1) * r.seconds;
    long from = (now.minus(window).getEpochSecond()) / r.seconds * r.seconds;
    return sql.preparedQuery(ROLLUP).execute(Tuple.of(r.seconds, utc(Instant.ofEpochSecond(from)),
        utc(Instant.ofEpochSecond(to)))).mapEmpty();
  }

  /**
   * Deletes what is older than each resolution's retention. The minute rows carry both the raw and the 1 m
   * resolution, so they are kept for the longer of the two retentions.
   */
  Future<Void> enforceRetention() {
    Instant now = Instant.now();
    Duration raw = Duration.ofHours(Math.max(settings.rawRetentionHours(), settings.minuteRetentionDays() * 24L));
    return sql.preparedQuery(DELETE_RAW).execute(Tuple.of(utc(now.minus(raw))))
        .compose(r -> deleteRollups(Resolution.FIVE_MINUTES,
            now.minus(Duration.ofDays(settings.fiveMinuteRetentionDays()))))
        .compose(r -> deleteRollups(Resolution.HOUR, now.minus(Duration.ofDays(settings.hourRetentionDays()))));
  }

  private Future<Void> deleteRollups(Resolution r, Instant before) {
    return sql.preparedQuery(DELETE_ROLLUPS).execute(Tuple.of(r.seconds, utc(before))).mapEmpty();
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
    Future<List<Row>> rows = switch (r) {
      case RAW -> select(QUERY_RAW, metric, variants, pool, tenant, utc(from), utc(to), MAX_POINTS);
      case MINUTE -> select(QUERY_MINUTE, metric, variants, pool, tenant, utc(from), utc(to), MAX_POINTS);
      default -> select(QUERY_ROLLUP, metric, variants, pool, tenant, r.seconds, utc(from), utc(to), MAX_POINTS);
    };
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

  private Future<List<Row>> select(String statement, Object... params) {
    return sql.preparedQuery(statement).execute(Tuple.from(params)).map(rows -> {
      List<Row> result = new ArrayList<>();
      rows.forEach(result::add);
      return result;
    });
  }

  private static String emptyToNull(String s) { return s == null || s.isEmpty() ? null : s; }

}
