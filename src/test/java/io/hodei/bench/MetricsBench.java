package io.hodei.bench;

import io.hodei.app.config.ConfigSchema;
import io.hodei.common.MetricCatalog;
import io.hodei.metrics.exposition.PrometheusText;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The metrics benchmark (not a test: run it with {@code bench/metrics-bench.sh}). One run, one real server on an
 * ephemeral embedded PostgreSQL:
 * <ol>
 *   <li>registry memory of the catalog at P pools x T tenants: a fresh Prometheus registry holding every pool and
 *   tenant series of the catalog (bounded label values as the collector uses them), heap delta after GC;</li>
 *   <li>collection time: P simulated pools and T tenants (one job each) on the server, the collector's own
 *   {@code last_duration_ms} over the cycles;</li>
 *   <li>history storage: the series the server stored over the cycles; a two-hour slice of them at the default 10 s
 *   interval (minute rows of 6 samples, 5 m and 1 h rollups) written into copies of the real tables,
 *   {@code pg_total_relation_size} (indexes included) per row, extrapolated to a day, plus the series table;</li>
 *   <li>scrape time: pushed worker-pool series until {@code /metrics} has S series, then HTTP scrapes timed.</li>
 * </ol>
 */
public final class MetricsBench {
  /** metrics.collection_interval_seconds by default: the samples of a minute row in the history sizing. */
  private static final int DEFAULT_INTERVAL_SECONDS = 5;
  private static final int SAMPLES_PER_MINUTE = 60 / DEFAULT_INTERVAL_SECONDS;
  /** The history tables, sized together (every index included). */
  private static final String HISTORY_TABLES = "'metric_series', 'metric_raw', 'metric_rollup'";
  private static final String LIVE = "SELECT (SELECT count(*) FROM metric_series) AS series, "
      + "(SELECT count(DISTINCT series_id) FROM metric_raw WHERE minute = (SELECT max(minute) FROM metric_raw)) "
      + "AS series_per_cycle, (SELECT count(*) FROM metric_raw) AS raw_rows, "
      + "(SELECT count(*) FROM metric_rollup) AS rollup_rows, pg_total_relation_size('metric_series') AS series_bytes, "
      + "(SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(ARRAY[" + HISTORY_TABLES + "]) t)::bigint "
      + "AS live_bytes";
  /**
   * A day's slice at the default interval in copies of the real tables (same columns, constraints, indexes): every
   * live series with one minute row of SAMPLES_PER_MINUTE samples per minute for SIZING_MINUTES, and its 5 m and 1 h rollups for
   * the same span, built from the values the server stored.
   */
  private static final int SIZING_MINUTES = 120;
  private static final String[] SIZING = {
      "DROP TABLE IF EXISTS bench_raw, bench_rollup",
      "CREATE TABLE bench_raw (LIKE metric_raw INCLUDING ALL)",
      "CREATE TABLE bench_rollup (LIKE metric_rollup INCLUDING ALL)",
      "INSERT INTO bench_raw SELECT r.series_id, date_trunc('hour', now()) + m * interval '1 minute', "
          + "ARRAY(SELECT generate_series(0, 59, " + DEFAULT_INTERVAL_SECONDS + "))::smallint[], "
          + "array_fill(r.vals[1], ARRAY[" + SAMPLES_PER_MINUTE + "]) FROM (SELECT DISTINCT ON (series_id) "
          + "series_id, vals FROM metric_raw ORDER BY series_id, minute DESC) r, generate_series(0, "
          + (SIZING_MINUTES - 1) + ") m ORDER BY m, r.series_id",
      "INSERT INTO bench_rollup SELECT r.series_id, s.step, to_timestamp(floor(extract(epoch FROM r.minute) / s.step) "
          + "* s.step), min(v), max(v), avg(v), sum(v), count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
          + "percentile_cont(0.95) WITHIN GROUP (ORDER BY v), percentile_cont(0.99) WITHIN GROUP (ORDER BY v) "
          + "FROM bench_raw r CROSS JOIN LATERAL unnest(r.vals) v, (VALUES (300), (3600)) s(step) "
          + "GROUP BY 1, 2, 3 ORDER BY 3, 1",
      "ANALYZE bench_raw, bench_rollup"};
  private static final String SIZED = "SELECT (SELECT count(*) FROM bench_raw) AS raw_rows, "
      + "(SELECT count(*) FROM bench_rollup) AS rollup_rows, pg_total_relation_size('bench_raw') AS raw_bytes, "
      + "pg_total_relation_size('bench_rollup') AS rollup_bytes";

  record Options(int pools, int tenants, int series, int scrapes, int cycles, String out) {
    static Options parse(String[] args) {
      Map<String, String> a = new HashMap<>(Map.of("pools", "100", "tenants", "100", "series", "10000",
          "scrapes", "50", "cycles", "30", "out", "bench/results"));
      for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
      Function<String, Integer> n = k -> Integer.parseInt(a.get(k));
      return new Options(n.apply("pools"), n.apply("tenants"), n.apply("series"), n.apply("scrapes"),
          n.apply("cycles"), a.get("out"));
    }
  }

  public static void main(String[] args) throws Exception {
    Options opt = Options.parse(args);
    JsonObject results = new JsonObject().put("at", java.time.Instant.now().toString())
        .put("options", new JsonObject().put("pools", opt.pools()).put("tenants", opt.tenants())
            .put("series", opt.series()).put("scrapes", opt.scrapes()).put("cycles", opt.cycles()));
    results.put("registry_memory", registryMemory(opt.pools(), opt.tenants()));
    try (TestServer server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1,
        ConfigSchema.METRICS_ROLLUP_INTERVAL, 5, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1,
        ConfigSchema.DB_POOL_SIZE, 8))) {
      populate(server, opt);
      results.put("collection", collection(server, opt.cycles()));
      results.put("history", history(server));
      results.put("scrape", scrape(server, opt.series(), opt.scrapes()));
    }
    print(results);
    BenchSupport.writeResults(opt.out(), "metrics", results);
    System.exit(0);
  }

  // ------------------------------------------------------------------ 1. registry memory

  private static final Map<String, List<String>> LABEL_VALUES = Map.of(
      MetricCatalog.BOUND, List.of("current", "min", "max", "target"),
      MetricCatalog.STATE, List.of("provisioning", "idle", "busy", "terminating", "unhealthy"),
      MetricCatalog.HEALTH, List.of("healthy", "unhealthy", "unknown"),
      MetricCatalog.RESULT, List.of("success", "failure"),
      MetricCatalog.ERROR_TYPE, List.of("exit_code", "timeout", "worker_lost"));

  static JsonObject registryMemory(int pools, int tenants) {
    long before = usedHeap();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<Object> holders = new ArrayList<>();
    for (int p = 0; p < pools; p++) {
      for (MetricCatalog.Def def : MetricCatalog.COLLECTED) {
        if (def.labels().contains(MetricCatalog.POOL)) register(registry, def, MetricCatalog.POOL, "pool-" + p, holders);
      }
    }
    for (int t = 0; t < tenants; t++) {
      for (MetricCatalog.Def def : MetricCatalog.ALL) {
        if (def.labels().contains(MetricCatalog.TENANT_ID)) {
          register(registry, def, MetricCatalog.TENANT_ID, "tenant-" + t, holders);
        }
      }
    }
    long after = usedHeap();
    int series = (int) registry.scrape().lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count();
    long bytes = Math.max(0, after - before);
    JsonObject out = new JsonObject().put("meters", registry.getMeters().size()).put("series", series)
        .put("bytes", bytes).put("mb", bytes / 1048576.0).put("bytes_per_series", series == 0 ? 0 : bytes / series);
    registry.close();
    holders.clear();
    return out;
  }

  /** One meter per combination of the bounded label values of {@code def} (the key label fixed). */
  private static void register(MeterRegistry registry, MetricCatalog.Def def, String key, String keyValue,
                               List<Object> holders) {
    List<Map<String, String>> combos = new ArrayList<>(List.of(Map.of(key, keyValue)));
    for (String label : def.labels()) {
      if (label.equals(key)) continue;
      List<String> values = LABEL_VALUES.getOrDefault(label, List.of("x"));
      List<Map<String, String>> next = new ArrayList<>();
      for (Map<String, String> c : combos) {
        for (String v : values) {
          Map<String, String> m = new HashMap<>(c);
          m.put(label, v);
          next.add(m);
        }
      }
      combos = next;
    }
    for (Map<String, String> tags : combos) {
      List<io.micrometer.core.instrument.Tag> t = tags.entrySet().stream()
          .map(e -> io.micrometer.core.instrument.Tag.of(e.getKey(), e.getValue())).toList();
      switch (def.type()) {
        case COUNTER -> Counter.builder(def.meterName()).tags(t).register(registry).increment();
        case HISTOGRAM -> Timer.builder(def.meterName()).tags(t).serviceLevelObjectives(Arrays.stream(new long[] {
                10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000,
                1_800_000, 3_600_000}).mapToObj(Duration::ofMillis).toArray(Duration[]::new))
            .register(registry).record(Duration.ofMillis(5));
        case GAUGE -> {
          AtomicLong holder = new AtomicLong(1);
          holders.add(holder);
          Gauge.builder(def.meterName(), holder, AtomicLong::get).tags(t).register(registry);
        }
      }
    }
  }

  private static long usedHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  // ------------------------------------------------------------------ 2. the server's pools and tenants

  private static void populate(TestServer server, Options opt) {
    for (int p = 0; p < opt.pools(); p++) {
      JsonObject pool = Fixtures.simulatedPool("bench-" + p, 1, 1);
      Response r = server.admin(HttpMethod.POST, "/api/v1/pools", pool);
      if (r.status() != 201) throw new IllegalStateException("pool: " + r);
    }
    Poll.until(() -> server.get("/api/v1/observability/collector", TestServer.ADMIN_TOKEN).json()
        .getJsonObject("collector").getInteger("pools"), n -> n >= opt.pools(), Duration.ofMinutes(5), "pools sampled");
    Fixtures fixtures = new Fixtures(server);
    List<String[]> jobs = new ArrayList<>();
    for (int t = 0; t < opt.tenants(); t++) {
      String tenant = "bench-t" + t;
      String token = fixtures.tenant(tenant, null, 1, "submitter");
      jobs.add(new String[] {token, fixtures.submitted(token, Fixtures.spec("bench-" + (t % opt.pools()), "true"))});
    }
    for (String[] job : jobs) fixtures.awaitState(job[0], job[1], "succeeded");
  }

  private static JsonObject collection(TestServer server, int cycles) {
    List<Long> durations = new ArrayList<>();
    long lastRuns = -1;
    while (durations.size() < cycles) {
      JsonObject c = Poll.until(() -> server.get("/api/v1/observability/collector", TestServer.ADMIN_TOKEN).json()
          .getJsonObject("collector"), x -> true, Duration.ofSeconds(5), "collector");
      long runs = c.getLong("runs");
      if (runs != lastRuns && c.getValue("last_duration_ms") != null) {
        durations.add(((Number) c.getValue("last_duration_ms")).longValue());
        lastRuns = runs;
      }
      pause(300);
    }
    long[] sorted = durations.stream().mapToLong(Long::longValue).sorted().toArray();
    return new JsonObject().put("cycles", sorted.length).put("p50_ms", sorted[sorted.length / 2])
        .put("max_ms", sorted[sorted.length - 1]).put("target_ms", 1000);
  }

  // ------------------------------------------------------------------ 3. history storage

  private static JsonObject history(TestServer server) {
    io.vertx.sqlclient.Pool db = server.server().database().pool();
    Row live = db.query(LIVE).execute().await().iterator().next();
    for (String statement : SIZING) db.query(statement).execute().await();
    Row sized = db.query(SIZED).execute().await().iterator().next();
    db.query(SIZING[0]).execute().await();
    long series = live.getLong("series_per_cycle");
    double rawBytesPerRow = (double) sized.getLong("raw_bytes") / Math.max(1, sized.getLong("raw_rows"));
    double rollupBytesPerRow = (double) sized.getLong("rollup_bytes") / Math.max(1, sized.getLong("rollup_rows"));
    // per day: one minute row per series per minute (1440), 288 five-minute and 24 hourly rollups per series
    double rawPerDay = series * 1440.0 * rawBytesPerRow;
    double rollupPerDay = series * (288.0 + 24) * rollupBytesPerRow;
    long seriesBytes = live.getLong("series_bytes");
    return new JsonObject().put("series_per_cycle", series).put("series_rows", live.getLong("series"))
        .put("samples_per_minute_row", SAMPLES_PER_MINUTE).put("sizing_minutes", SIZING_MINUTES)
        .put("raw_bytes_per_row", Math.round(rawBytesPerRow)).put("rollup_bytes_per_row", Math.round(rollupBytesPerRow))
        .put("series_table_bytes", seriesBytes).put("live_raw_rows", live.getLong("raw_rows"))
        .put("live_rollup_rows", live.getLong("rollup_rows")).put("live_history_bytes", live.getLong("live_bytes"))
        .put("raw_bytes_per_day", Math.round(rawPerDay)).put("rollup_bytes_per_day", Math.round(rollupPerDay))
        .put("total_mb_per_day", (rawPerDay + rollupPerDay + seriesBytes) / 1048576.0).put("budget_mb_per_day", 1024);
  }

  // ------------------------------------------------------------------ 4. scrape time

  /**
   * The gather alone (002: "< 1 ms to gather"): the registry to Prometheus text in-process with the scrape handler's
   * writer, no HTTP and no transfer, p50/p95 over {@code renders} renders after a first (layout) one.
   */
  static JsonObject gather(io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry, int renders) {
    PrometheusText text = PrometheusText.forCatalog(registry);
    int bytes = text.render().length();
    long[] nanos = new long[renders];
    for (int i = 0; i < renders; i++) {
      long start = System.nanoTime();
      text.render();
      nanos[i] = System.nanoTime() - start;
    }
    Arrays.sort(nanos);
    int series = (int) registry.scrape().lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count();
    return new JsonObject().put("series", series).put("bytes", bytes).put("renders", renders)
        .put("p50_ms", nanos[renders / 2] / 1e6).put("p95_ms", nanos[(int) (renders * 0.95)] / 1e6)
        .put("target_ms", 1);
  }

  /** The seed's 17 metrics alone, one series each (label values of a small deployment), gathered as above. */
  static JsonObject gatherSeedOnly(int renders) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<Object> holders = new ArrayList<>();
    for (MetricCatalog.Def def : List.of(MetricCatalog.JOBS_SCHEDULED, MetricCatalog.JOBS_COMPLETED,
        MetricCatalog.JOBS_FAILED, MetricCatalog.JOBS_QUEUED, MetricCatalog.WORKERS_REGISTERED,
        MetricCatalog.WORKERS_HEALTHY, MetricCatalog.WORKERS_TOTAL, MetricCatalog.SCHEDULING_LATENCY,
        MetricCatalog.SCHEDULING_DECISIONS, MetricCatalog.CPU_USAGE, MetricCatalog.MEMORY_USAGE,
        MetricCatalog.QUEUE_SIZE, MetricCatalog.QUEUE_WAIT, MetricCatalog.HTTP_REQUESTS, MetricCatalog.HTTP_DURATION,
        MetricCatalog.EVENTS_PUBLISHED, MetricCatalog.EVENTS_RECEIVED, MetricCatalog.EVENT_BUS_SUBSCRIBERS)) {
      List<String> tags = new ArrayList<>();
      for (String label : def.labels()) {
        tags.add(label);
        tags.add(label + "-1");
      }
      String[] kv = tags.toArray(String[]::new);
      switch (def.type()) {
        case COUNTER -> def.counter().tags(kv).register(registry).increment();
        case HISTOGRAM -> def.timer().tags(kv).serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5),
                Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
                Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
                Duration.ofSeconds(5), Duration.ofSeconds(10)).register(registry)
            .record(java.time.Duration.ofMillis(5));
        case GAUGE -> {
          io.hodei.metrics.GaugeValue v = new io.hodei.metrics.GaugeValue();
          holders.add(v);
          def.gauge(v, io.hodei.metrics.GaugeValue::get).tags(kv).strongReference(true).register(registry);
        }
      }
    }
    return gather(registry, renders).put("holders", holders.size());
  }

  private static JsonObject scrape(TestServer server, int target, int scrapes) {
    int present = seriesOnMetrics(server);
    JsonObject gatherAtStart = gather(server.server().registry(), 200);
    int names = MetricCatalog.PUSHABLE.size();
    int pairs = Math.max(0, (int) Math.ceil((target - present) / (double) names));
    String token = new Fixtures(server).tenant("bench-pusher", null, 1, "submitter");
    for (int from = 0; from < pairs; from += 500 / names) {
      JsonArray samples = new JsonArray();
      for (int i = from; i < Math.min(pairs, from + 500 / names); i++) {
        for (MetricCatalog.Def def : MetricCatalog.PUSHABLE) {
          samples.add(new JsonObject().put("name", def.name()).put("labels", new JsonObject()
              .put("pool", "scrape-" + (i % 50)).put("model", "model-" + i)).put("value", i));
        }
      }
      Response r = server.send(HttpMethod.POST, "/api/v1/metrics", token, new JsonObject().put("samples", samples));
      if (r.status() != 202) throw new IllegalStateException("push: " + r);
    }
    int series = seriesOnMetrics(server);
    // the handler's writer, in-process: its first render lays out every series' prefixes (what a scrape after the
    // meters changed pays once), the later ones reuse them
    PrometheusText text = PrometheusText.forCatalog(server.server().registry());
    long start0 = System.nanoTime();
    text.render();
    double layoutMs = (System.nanoTime() - start0) / 1e6;
    // the five ways are interleaved per iteration, so that the machine's load bursts hit them alike
    long[] nanos = new long[scrapes];
    long[] rendered = new long[scrapes];
    long[] gzipNanos = new long[scrapes];
    long[] inProcess = new long[scrapes];
    long[] streamed = new long[scrapes];
    long bytes = 0;
    String encoding = null;
    for (int i = 0; i < scrapes; i++) {
      long start = System.nanoTime();
      Response r = server.get("/metrics", null);
      nanos[i] = System.nanoTime() - start;
      bytes = r.body().length();
      // the same scrape as Prometheus sends it (Accept-Encoding: gzip; the server compresses when the client accepts)
      start = System.nanoTime();
      r = server.send(server.request(HttpMethod.GET, "/metrics", null).putHeader("Accept-Encoding", "gzip"), null);
      gzipNanos[i] = System.nanoTime() - start;
      encoding = r.header("Content-Encoding");
      // the registry's own formatting, in-process (no HTTP, no transfer), into a String
      start = System.nanoTime();
      server.server().registry().scrape("text/plain; version=0.0.4; charset=utf-8");
      inProcess[i] = System.nanoTime() - start;
      // as the scrape handler renders now: straight into an output stream, no String of the whole exposition
      start = System.nanoTime();
      try {
        server.server().registry().scrape(java.io.OutputStream.nullOutputStream(),
            "text/plain; version=0.0.4; charset=utf-8");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      streamed[i] = System.nanoTime() - start;
      // the handler's path now: our writer into a Buffer
      start = System.nanoTime();
      text.render();
      rendered[i] = System.nanoTime() - start;
    }
    Arrays.sort(rendered);
    Arrays.sort(nanos);
    Arrays.sort(gzipNanos);
    Arrays.sort(inProcess);
    Arrays.sort(streamed);
    JsonObject gatherFull = gather(server.server().registry(), scrapes);
    return new JsonObject().put("gather_populated", gatherAtStart).put("gather_full", gatherFull)
        .put("gather_seed_only", gatherSeedOnly(1000))
        .put("series", series).put("bytes", bytes).put("scrapes", scrapes)
        .put("registry_p50_ms", inProcess[scrapes / 2] / 1e6).put("registry_p95_ms", inProcess[(int) (scrapes * 0.95)] / 1e6)
        .put("registry_stream_p50_ms", streamed[scrapes / 2] / 1e6)
        .put("registry_stream_p95_ms", streamed[(int) (scrapes * 0.95)] / 1e6)
        .put("p50_ms", nanos[scrapes / 2] / 1e6).put("p95_ms", nanos[(int) (scrapes * 0.95)] / 1e6)
        .put("max_ms", nanos[scrapes - 1] / 1e6).put("target_ms", 20)
        .put("gzip_p50_ms", gzipNanos[scrapes / 2] / 1e6).put("gzip_p95_ms", gzipNanos[(int) (scrapes * 0.95)] / 1e6)
        .put("gzip_content_encoding", encoding)
        .put("writer_p50_ms", rendered[scrapes / 2] / 1e6).put("writer_p95_ms", rendered[(int) (scrapes * 0.95)] / 1e6)
        .put("writer_layout_ms", layoutMs).put("writer_layouts", text.layouts())
        .put("writer_falls_back", text.fallsBack());
  }

  private static int seriesOnMetrics(TestServer server) {
    return (int) server.get("/metrics", null).body().lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count();
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void print(JsonObject r) {
    JsonObject mem = r.getJsonObject("registry_memory");
    JsonObject col = r.getJsonObject("collection");
    JsonObject his = r.getJsonObject("history");
    JsonObject scr = r.getJsonObject("scrape");
    System.out.println();
    System.out.println("| figure | measured | target |");
    System.out.println("|---|---|---|");
    System.out.printf("| /metrics scrape, %d series (%d KB), p50 / p95 / max | %.1f / %.1f / %.1f ms | < 20 ms |%n",
        scr.getInteger("series"), scr.getLong("bytes") / 1024, scr.getDouble("p50_ms"), scr.getDouble("p95_ms"),
        scr.getDouble("max_ms"));
    System.out.printf("| /metrics scrape with Accept-Encoding: gzip (answered %s), p50 / p95 | %.1f / %.1f ms | |%n",
        scr.getString("gzip_content_encoding"), scr.getDouble("gzip_p50_ms"), scr.getDouble("gzip_p95_ms"));
    System.out.printf("| registry.scrape() in-process, same %d series, p50 / p95 | %.1f / %.1f ms | |%n",
        scr.getInteger("series"), scr.getDouble("registry_p50_ms"), scr.getDouble("registry_p95_ms"));
    System.out.printf("| registry.scrape(OutputStream) in-process (the handler's path until issue #6), p50 / p95 | %.1f / %.1f ms | |%n",
        scr.getDouble("registry_stream_p50_ms"), scr.getDouble("registry_stream_p95_ms"));
    System.out.printf("| PrometheusText.render() in-process (the handler's path now), p50 / p95 | %.1f / %.1f ms | |%n",
        scr.getDouble("writer_p50_ms"), scr.getDouble("writer_p95_ms"));
    System.out.printf("| PrometheusText first render (prefix layout of every series) | %.1f ms; %d layouts over %d "
            + "renders; falls back: %s | |%n", scr.getDouble("writer_layout_ms"), scr.getLong("writer_layouts"),
        scr.getInteger("scrapes") + 1, scr.getBoolean("writer_falls_back"));
    for (String[] g : new String[][] {{"gather_seed_only", "the seed's 17 metrics alone"},
        {"gather_populated", "the populated server before the pushed series"},
        {"gather_full", "the same server with the pushed series"}}) {
      JsonObject o = scr.getJsonObject(g[0]);
      System.out.printf("| gather alone (registry to text, no HTTP), %s: %d series (%d KB), p50 / p95 | %.3f / %.3f ms "
              + "| < 1 ms |%n", g[1], o.getInteger("series"), o.getInteger("bytes") / 1024, o.getDouble("p50_ms"),
          o.getDouble("p95_ms"));
    }
    System.out.printf("| registry memory, catalog at %d pools x %d tenants (%d series) | %.1f MB (%d B/series) | reported |%n",
        r.getJsonObject("options").getInteger("pools"), r.getJsonObject("options").getInteger("tenants"),
        mem.getInteger("series"), mem.getDouble("mb"), mem.getLong("bytes_per_series"));
    System.out.printf("| collection of %d simulated pools per cycle, p50 / max over %d cycles | %d / %d ms | < 1000 ms |%n",
        r.getJsonObject("options").getInteger("pools"), col.getInteger("cycles"), col.getLong("p50_ms"),
        col.getLong("max_ms"));
    System.out.printf("| history storage at the default " + DEFAULT_INTERVAL_SECONDS + " s interval (%d series/cycle; minute row of "
            + SAMPLES_PER_MINUTE + " samples %d B, "
            + "rollup %d B, incl. indexes) | %.0f MB/day (raw minute rows %.0f + 5m/1h rollups %.0f + series %.2f) "
            + "| < 1024 MB/day |%n",
        his.getLong("series_per_cycle"), his.getLong("raw_bytes_per_row"), his.getLong("rollup_bytes_per_row"),
        his.getDouble("total_mb_per_day"), his.getLong("raw_bytes_per_day") / 1048576.0,
        his.getLong("rollup_bytes_per_day") / 1048576.0, his.getLong("series_table_bytes") / 1048576.0);
  }
}
