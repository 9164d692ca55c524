package io.hodei.bench;

import com.sun.management.OperatingSystemMXBean;
import io.hodei.app.config.ConfigSchema;
import io.hodei.metrics.MetricCatalog;
import io.hodei.support.Fixtures;
import io.hodei.support.Prometheus;
import io.hodei.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Row;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The metrics accuracy and overhead benchmark (not a test: run it with {@code bench/metrics-accuracy-bench.sh}).
 * After discarded warm-up rounds, rounds alternate (in turn first) a fresh server with {@code metrics.enabled=false} and one with {@code true}, each driving the same
 * workload on simulated pools (T tenants, P pools of W workers, N jobs submitted in batches through REST, every
 * F-th job forced to fail through its payload):
 * <ul>
 *   <li>overhead: this process's CPU seconds (server, its Vert.x threads and the bench client; embedded PostgreSQL
 *   is another process and is not counted) per 1,000 jobs and throughput (jobs / (first submit .. last job ended)),
 *   metrics on vs off, as ratios;</li>
 *   <li>accuracy (every metrics-on round): after the run, every job/worker/queue counter and gauge of
 *   {@code /metrics} against ground truth from the {@code job} and {@code worker} tables; agreement = series equal
 *   to the database's count / series compared.</li>
 * </ul>
 */
public final class MetricsAccuracyBench {
  private static final String OPEN_JOBS = "SELECT count(*) AS n FROM job WHERE state IN ('queued', 'admitted', 'running')";
  private static final String JOBS_BY_TENANT = "SELECT tenant_id, state, coalesce(error_type, 'unknown') AS error_type, "
      + "coalesce(placed_pool_id, '') AS pool, (started_at IS NOT NULL) AS started, count(*) AS n "
      + "FROM job GROUP BY 1, 2, 3, 4, 5";
  private static final String WORKERS_BY_STATE = "SELECT pool_id, state, count(*) AS n FROM worker "
      + "WHERE state <> 'terminated' GROUP BY 1, 2";
  private static final List<String> WORKER_STATES = List.of("provisioning", "idle", "busy", "terminating", "unhealthy");
  private static final List<String> TERMINAL = List.of("succeeded", "failed", "cancelled", "timed_out", "abandoned");

  record Options(int jobs, int tenants, int pools, int workers, int failEvery, int durationMs, int batch, int lanes,
                 int rounds, int warmup, String out) {
    static Options parse(String[] args) {
      String[] defaults = {"jobs", "10000", "tenants", "10", "pools", "4", "workers", "10", "fail-every", "10",
          "duration-ms", "20", "batch", "50", "lanes", "4", "rounds", "2", "warmup", "2", "out", "bench/results"};
      Map<String, String> a = new HashMap<>();
      for (int i = 0; i + 1 < defaults.length; i += 2) a.put(defaults[i], defaults[i + 1]);
      for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
      Function<String, Integer> n = k -> Integer.parseInt(a.get(k));
      return new Options(n.apply("jobs"), n.apply("tenants"), n.apply("pools"), n.apply("workers"),
          n.apply("fail-every"), n.apply("duration-ms"), n.apply("batch"), n.apply("lanes"), n.apply("rounds"),
          n.apply("warmup"), a.get("out"));
    }

    JsonObject json() {
      return new JsonObject().put("jobs", jobs).put("tenants", tenants).put("pools", pools)
          .put("workers_per_pool", workers).put("fail_every", failEvery).put("job_duration_ms", durationMs)
          .put("batch", batch).put("http_lanes", lanes).put("rounds", rounds).put("warmup_rounds", warmup);
    }
  }

  private final Options opt;
  private final Vertx vertx = Vertx.vertx();
  private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private MetricsAccuracyBench(Options opt) { this.opt = opt; }

  public static void main(String[] args) throws Exception {
    Options opt = Options.parse(args);
    MetricsAccuracyBench bench = new MetricsAccuracyBench(opt);
    JsonObject result = bench.run();
    print(result);
    Path dir = Path.of(opt.out());
    Files.createDirectories(dir);
    Path file = dir.resolve("metrics-accuracy-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".json");
    Files.writeString(file, result.encodePrettily());
    System.out.println("results written to " + file);
    System.exit(0);
  }

  private JsonObject run() {
    // warm-up (JIT, embedded PostgreSQL start-up paths), discarded: the first server in a JVM is far slower
    for (int w = 0; w < opt.warmup(); w++) round(w % 2 == 0, -1 - w);
    JsonArray runs = new JsonArray();
    for (int r = 0; r < opt.rounds(); r++) {
      // alternate which goes first, so that drift (JIT, the other engineers' load) does not favour one side
      runs.add(round(r % 2 == 1, r));
      runs.add(round(r % 2 == 0, r));
    }
    JsonObject off = mean(runs, false);
    JsonObject on = mean(runs, true);
    JsonObject accuracy = new JsonObject();
    int compared = 0;
    int agreed = 0;
    JsonArray mismatches = new JsonArray();
    for (Object o : runs) {
      JsonObject acc = ((JsonObject) o).getJsonObject("accuracy");
      if (acc == null) continue;
      compared += acc.getInteger("compared");
      agreed += acc.getInteger("agreed");
      acc.getJsonArray("mismatches").forEach(mismatches::add);
    }
    accuracy.put("compared", compared).put("agreed", agreed)
        .put("agreement_pct", compared == 0 ? 0 : 100.0 * agreed / compared).put("mismatches", mismatches);
    JsonObject overhead = new JsonObject().put("off", off).put("on", on)
        .put("cpu_cost_pct", 100.0 * (on.getDouble("cpu_s_per_1000_jobs") / off.getDouble("cpu_s_per_1000_jobs") - 1))
        .put("throughput_cost_pct", 100.0 * (1 - on.getDouble("jobs_per_s") / off.getDouble("jobs_per_s")));
    return new JsonObject().put("at", java.time.Instant.now().toString()).put("options", opt.json())
        .put("machine", new JsonObject().put("cores", Runtime.getRuntime().availableProcessors())
            .put("load_average", os.getSystemLoadAverage()))
        .put("runs", runs).put("accuracy", accuracy).put("overhead", overhead);
  }

  // ------------------------------------------------------------------ one round on a fresh server

  private JsonObject round(boolean metrics, int round) {
    log("round " + round + ", metrics.enabled=" + metrics + ": starting a fresh server");
    // the default collection interval (10 s): the overhead as deployed
    try (TestServer server = TestServer.start(Map.of(ConfigSchema.METRICS_ENABLED, metrics, ConfigSchema.DB_POOL_SIZE, 8,
        ConfigSchema.QUOTA_CONCURRENT, 1_000_000, ConfigSchema.QUOTA_QUEUED, 10_000_000,
        ConfigSchema.TOKEN_CACHE_SECONDS, 5))) {
      Fixtures fx = new Fixtures(server);
      List<String> tokens = new ArrayList<>();
      for (int t = 0; t < opt.tenants(); t++) tokens.add(fx.tenant("acc-t" + t, null, 1, "submitter"));
      for (int p = 0; p < opt.pools(); p++) fx.pool(Fixtures.simulatedPool("acc-p" + p, opt.workers(), 100), opt.workers());
      WebClient http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
          .setDefaultPort(server.port()).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(opt.lanes()));
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      int accepted = submit(http, tokens);
      waitUntilDrained(server);
      double seconds = (System.nanoTime() - t0) / 1e9;
      double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
      http.close();
      JsonObject out = new JsonObject().put("round", round).put("metrics_enabled", metrics).put("accepted", accepted)
          .put("seconds", seconds).put("jobs_per_s", accepted / seconds).put("cpu_s", cpuSeconds)
          .put("cpu_s_per_1000_jobs", cpuSeconds * 1000 / accepted);
      log(out.encode());
      if (metrics) out.put("accuracy", accuracy(server));
      return out;
    }
  }

  /** Batches of {@code opt.batch} per tenant, {@code opt.lanes} requests in flight; every fail-every-th job fails. */
  private int submit(WebClient http, List<String> tokens) {
    List<JsonObject[]> requests = new ArrayList<>();
    int perTenant = (int) Math.ceil(opt.jobs() / (double) tokens.size());
    int n = 0;
    for (int from = 0; from < perTenant; from += opt.batch()) {
      for (int t = 0; t < tokens.size(); t++) {
        JsonArray jobs = new JsonArray();
        for (int i = from; i < Math.min(perTenant, from + opt.batch()) && n < opt.jobs(); i++, n++) {
          JsonObject payload = new JsonObject().put("duration_ms", opt.durationMs());
          if (n % opt.failEvery() == opt.failEvery() - 1) payload.put("fail", true);
          jobs.add(Fixtures.spec("acc-p" + (n % opt.pools()), "work").put("max_attempts", 1).put("payload", payload));
        }
        if (!jobs.isEmpty()) requests.add(new JsonObject[] {new JsonObject().put("token", tokens.get(t)),
            new JsonObject().put("jobs", jobs)});
      }
    }
    AtomicInteger next = new AtomicInteger();
    AtomicInteger accepted = new AtomicInteger();
    List<Future<Void>> lanes = new ArrayList<>();
    for (int l = 0; l < opt.lanes(); l++) lanes.add(lane(http, requests, next, accepted));
    Future.all(lanes).await();
    return accepted.get();
  }

  private Future<Void> lane(WebClient http, List<JsonObject[]> requests, AtomicInteger next, AtomicInteger accepted) {
    int i = next.getAndIncrement();
    if (i >= requests.size()) return Future.succeededFuture();
    JsonObject[] req = requests.get(i);
    return http.post("/api/v1/jobs:batch").bearerTokenAuthentication(req[0].getString("token"))
        .sendJsonObject(req[1]).compose(r -> {
          if (r.statusCode() != 201) throw new IllegalStateException("batch answered " + r.statusCode() + ": " + r.bodyAsString());
          accepted.addAndGet(r.bodyAsJsonObject().getJsonArray("items").size());
          return lane(http, requests, next, accepted);
        });
  }

  private static void waitUntilDrained(TestServer server) {
    long deadline = System.nanoTime() + 600_000_000_000L;
    while (System.nanoTime() < deadline) {
      Row row = server.server().database().pool().query(OPEN_JOBS).execute().await().iterator().next();
      if (row.getLong("n") == 0) return;
      pause(50);
    }
    throw new IllegalStateException("jobs did not drain in 10 minutes");
  }

  // ------------------------------------------------------------------ accuracy: /metrics vs the database

  private JsonObject accuracy(TestServer server) {
    // two more collector cycles so that the sampled gauges have seen the final state
    long runs = collectorRuns(server);
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (collectorRuns(server) < runs + 2 && System.nanoTime() < deadline) pause(200);
    Map<String, Double> truth = new TreeMap<>();
    for (Row row : server.server().database().pool().query(JOBS_BY_TENANT).execute().await()) {
      String tenant = row.getString("tenant_id");
      String state = row.getString("state");
      long n = row.getLong("n");
      if (!tenant.startsWith("acc-")) continue;
      if (row.getBoolean("started")) add(truth, key(MetricCatalog.JOBS_SCHEDULED, "tenant_id", tenant), n);
      if (!TERMINAL.contains(state)) continue;
      if (state.equals("succeeded")) add(truth, key(MetricCatalog.JOBS_COMPLETED, "tenant_id", tenant), n);
      else add(truth, key(MetricCatalog.JOBS_FAILED, "error_type", row.getString("error_type"), "tenant_id", tenant), n);
      add(truth, key(MetricCatalog.TENANT_JOBS, "state", state, "tenant_id", tenant), n);
      if (!row.getString("pool").isEmpty()) {
        add(truth, key(MetricCatalog.POOL_JOBS, "pool", row.getString("pool"), "state", state), n);
      }
    }
    long live = 0;
    for (int p = 0; p < opt.pools(); p++) {
      for (String s : WORKER_STATES) truth.put(key(MetricCatalog.POOL_WORKERS, "pool", "acc-p" + p, "state", s), 0.0);
    }
    for (Row row : server.server().database().pool().query(WORKERS_BY_STATE).execute().await()) {
      truth.put(key(MetricCatalog.POOL_WORKERS, "pool", row.getString("pool_id"), "state", row.getString("state")),
          (double) row.getLong("n"));
      if (!row.getString("state").equals("terminating")) live += row.getLong("n");
    }
    truth.put(key(MetricCatalog.WORKERS_TOTAL), (double) live);
    Row open = server.server().database().pool().query(OPEN_JOBS).execute().await().iterator().next();
    truth.put(key(MetricCatalog.QUEUE_SIZE), (double) open.getLong("n"));
    truth.put(key(MetricCatalog.JOBS_QUEUED), (double) open.getLong("n"));

    Map<String, Double> scraped = new HashMap<>();
    for (Prometheus.Sample s : Prometheus.parse(server.get("/metrics", null).body())) {
      scraped.merge(key(s.name(), new TreeMap<>(s.labels())), s.value(), Double::sum);
    }
    int agreed = 0;
    JsonArray mismatches = new JsonArray();
    for (Map.Entry<String, Double> e : truth.entrySet()) {
      double got = scraped.getOrDefault(e.getKey(), 0.0);
      if (Math.abs(got - e.getValue()) < 1e-9) agreed++;
      else mismatches.add(new JsonObject().put("series", e.getKey()).put("database", e.getValue()).put("metrics", got));
    }
    return new JsonObject().put("compared", truth.size()).put("agreed", agreed).put("mismatches", mismatches);
  }

  private static long collectorRuns(TestServer server) {
    return server.get("/api/v1/observability/collector", TestServer.ADMIN_TOKEN).json().getJsonObject("collector")
        .getLong("runs");
  }

  private static void add(Map<String, Double> truth, String key, long n) { truth.merge(key, (double) n, Double::sum); }

  /** Series key: exposition name and sorted labels (JOBS_FAILED sums its error types per tenant in its own key). */
  private static String key(MetricCatalog.Def def, String... labels) {
    TreeMap<String, String> m = new TreeMap<>();
    for (int i = 0; i + 1 < labels.length; i += 2) m.put(labels[i], labels[i + 1]);
    return key(def.name(), m);
  }

  private static String key(String name, TreeMap<String, String> labels) { return name + labels; }

  // ------------------------------------------------------------------ output

  private static JsonObject mean(JsonArray runs, boolean metrics) {
    double jobs = 0;
    double seconds = 0;
    double cpu = 0;
    for (Object o : runs) {
      JsonObject r = (JsonObject) o;
      if (r.getBoolean("metrics_enabled") != metrics) continue;
      jobs += r.getInteger("accepted");
      seconds += r.getDouble("seconds");
      cpu += r.getDouble("cpu_s");
    }
    return new JsonObject().put("jobs", (long) jobs).put("jobs_per_s", jobs / seconds)
        .put("cpu_s_per_1000_jobs", cpu * 1000 / jobs);
  }

  private static void print(JsonObject r) {
    JsonObject acc = r.getJsonObject("accuracy");
    JsonObject ov = r.getJsonObject("overhead");
    JsonObject off = ov.getJsonObject("off");
    JsonObject on = ov.getJsonObject("on");
    System.out.println();
    System.out.println("| figure | metrics off | metrics on | cost | target |");
    System.out.println("|---|---:|---:|---:|---|");
    System.out.printf("| process CPU s per 1,000 jobs | %.2f | %.2f | %+.1f%% | < 1%% |%n",
        off.getDouble("cpu_s_per_1000_jobs"), on.getDouble("cpu_s_per_1000_jobs"), ov.getDouble("cpu_cost_pct"));
    System.out.printf("| throughput, jobs/s (submit to last end) | %.0f | %.0f | %+.1f%% | < 3%% |%n",
        off.getDouble("jobs_per_s"), on.getDouble("jobs_per_s"), ov.getDouble("throughput_cost_pct"));
    System.out.printf("| accuracy: /metrics series equal to the database | | %d / %d (%.2f%%) | | > 99.9%% |%n",
        acc.getInteger("agreed"), acc.getInteger("compared"), acc.getDouble("agreement_pct"));
    System.out.println("per round:");
    for (Object o : r.getJsonArray("runs")) {
      JsonObject run = (JsonObject) o;
      System.out.printf("  round %d metrics %-5s %5d jobs %6.1f s %6.0f jobs/s %6.2f CPU s/1000 jobs%n",
          run.getInteger("round"), run.getBoolean("metrics_enabled"), run.getInteger("accepted"),
          run.getDouble("seconds"), run.getDouble("jobs_per_s"), run.getDouble("cpu_s_per_1000_jobs"));
    }
    for (Object m : acc.getJsonArray("mismatches")) System.out.println("  mismatch " + m);
  }

  private static void log(String message) { System.out.println("[metrics-accuracy] " + message); }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
