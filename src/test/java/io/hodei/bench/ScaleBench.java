package io.hodei.bench;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The scale benchmark (not a test: run it with {@code bench/scale-bench.sh}): how the server holds {@code --jobs}
 * concurrent long-running jobs on as many simulated workers, on one node. For each size it starts a fresh server on
 * an ephemeral embedded PostgreSQL (fsync on), creates simulated pools of {@code --pool-size} workers until there is
 * one worker per job, submits the jobs (10 minutes each) in batches through REST from several clients, waits until
 * every job runs, then measures the API while they all run (a mix of reads), the {@code /metrics} scrape, and the
 * server's memory. Sizes are given as a list ({@code --jobs 10000,100000}) and printed side by side.
 */
public final class ScaleBench {
  private static final String ADMIN = TestServer.ADMIN_TOKEN;
  private static final long P95_BUDGET_MS = 200;
  private static final long SCRAPE_BUDGET_MS = 1000;

  private final Options opt;
  private final Vertx vertx = Vertx.vertx();
  private WebClient http;
  private TestServer server;

  private ScaleBench(Options opt) { this.opt = opt; }

  public static void main(String[] args) throws Exception {
    Options opt = Options.parse(args);
    JsonArray results = new JsonArray();
    ScaleBench bench = new ScaleBench(opt);
    try {
      for (String size : opt.jobs.split(",")) results.add(bench.runSize(Integer.parseInt(size.trim())));
      bench.report(results);
    } finally {
      bench.vertx.close().await();
    }
    System.exit(0);
  }

  record Options(String jobs, int poolSize, int clients, int batch, int reads, int readClients, int scrapes,
                 long jobMs, String out) {
    static Options parse(String[] args) {
      Map<String, String> a = new HashMap<>(Map.of("jobs", "100000", "pool-size", "10000", "clients", "8",
          "batch", "500", "reads", "6000", "read-clients", "8", "scrapes", "10", "job-ms", "600000",
          "out", "bench/results"));
      for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
      Function<String, Integer> n = k -> Integer.parseInt(a.get(k));
      return new Options(a.get("jobs"), n.apply("pool-size"), n.apply("clients"), n.apply("batch"), n.apply("reads"),
          n.apply("read-clients"), n.apply("scrapes"), Long.parseLong(a.get("job-ms")), a.get("out"));
    }

    JsonObject json() {
      return new JsonObject().put("jobs", jobs).put("pool_size", poolSize).put("clients", clients).put("batch", batch)
          .put("reads", reads).put("read_clients", readClients).put("scrapes", scrapes).put("job_ms", jobMs)
          .put("postgresql", "embedded, fsync=on, synchronous_commit=on");
    }
  }

  // ------------------------------------------------------------------ one size

  private JsonObject runSize(int jobs) throws Exception {
    log(jobs + " jobs: starting server (ephemeral embedded PostgreSQL, fsync on)");
    server = TestServer.start(Map.of(ConfigSchema.QUOTA_CPU, 10_000_000, ConfigSchema.QUOTA_MEMORY, 100_000_000,
        ConfigSchema.QUOTA_CONCURRENT, 1_000_000, ConfigSchema.QUOTA_QUEUED, 10_000_000,
        ConfigSchema.DB_EMBEDDED_DURABLE, true, ConfigSchema.TOKEN_CACHE_SECONDS, 5, ConfigSchema.DB_POOL_SIZE, 16));
    int lanes = Math.max(opt.clients, opt.readClients);
    http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(server.port())
        // idle connections are dropped before the server's idle timeout closes them under a request
        .setKeepAlive(true).setKeepAliveTimeout(20), new PoolOptions().setHttp1MaxSize(lanes));
    JsonObject result = new JsonObject().put("jobs", jobs);
    try {
      String token = new Fixtures(server).tenant("scale", null, 1, "submitter");
      long heapBefore = heapAfterGc();
      result.put("heap_before_mb", heapBefore / 1048576.0);

      // 1. workers: pools of --pool-size until one worker per job
      List<String> pools = new ArrayList<>();
      long start = System.nanoTime();
      for (int made = 0, i = 0; made < jobs; i++) {
        int size = Math.min(opt.poolSize, jobs - made);
        String id = "scale-" + i;
        HttpResponse<Buffer> r = http.post("/api/v1/pools").bearerTokenAuthentication(ADMIN)
            .sendJsonObject(Fixtures.simulatedPool(id, size, opt.jobMs)).await();
        if (r.statusCode() != 201) throw new IllegalStateException("pool " + id + ": " + r.statusCode() + " "
            + r.bodyAsString());
        pools.add(id);
        made += size;
      }
      waitUntil(() -> idle(pools) >= jobs, 900);
      double workersIdleSeconds = BenchSupport.seconds(start);
      log(jobs + " workers idle in " + round(workersIdleSeconds, 2) + " s");
      result.put("workers_idle_s", workersIdleSeconds);

      // 2. submissions: batches over the pools, several clients
      List<Buffer> bodies = new ArrayList<>();
      List<Integer> sizes = new ArrayList<>();
      for (int i = 0, b = 0; i < jobs; i += opt.batch, b++) {
        int n = Math.min(opt.batch, jobs - i);
        JsonArray items = new JsonArray();
        for (int k = 0; k < n; k++) {
          String pool = pools.get((i + k) / opt.poolSize);
          items.add(job(pool));
        }
        bodies.add(new JsonObject().put("jobs", items).toBuffer());
        sizes.add(n);
      }
      Set<String> ids = ConcurrentHashMap.newKeySet();
      ConcurrentLinkedQueue<Long> submitNanos = new ConcurrentLinkedQueue<>();
      AtomicInteger failures = new AtomicInteger();
      log("submitting " + jobs + " jobs in batches of " + opt.batch + " from " + opt.clients + " clients");
      start = System.nanoTime();
      BenchSupport.drive(vertx, bodies.size(), opt.clients, i -> {
        long sent = System.nanoTime();
        return http.post("/api/v1/jobs:batch").bearerTokenAuthentication(token)
            .putHeader("Content-Type", "application/json").sendBuffer(bodies.get(i)).map(r -> {
              submitNanos.add(System.nanoTime() - sent);
              if (r.statusCode() != 201 || SchedulerBench.jobIds(r.bodyAsString(), ids) != sizes.get(i)) {
                if (failures.getAndIncrement() < 5) log("submit answered " + r.statusCode() + ": " + r.bodyAsString());
              }
              return null;
            });
      });
      double submitSeconds = BenchSupport.seconds(start);
      long accepted = System.nanoTime();
      log(ids.size() + " accepted in " + round(submitSeconds, 2) + " s");
      waitUntil(() -> running() >= ids.size(), 900);
      double allRunningSeconds = BenchSupport.seconds(start);
      double runningAfterAcceptSeconds = BenchSupport.seconds(accepted);
      log("all running " + round(allRunningSeconds, 2) + " s after the first submit");
      result.put("accepted", ids.size()).put("failed_requests", failures.get())
          .put("submit_s", submitSeconds).put("accepted_per_s", ids.size() / submitSeconds)
          .put("all_running_s", allRunningSeconds).put("running_after_accept_s", runningAfterAcceptSeconds)
          .put("submit_latency", latency(submitNanos));

      // 3. the API while every job runs: a mix of reads
      List<String> idList = new ArrayList<>(ids);
      String[] kinds = {"get_job", "list_jobs", "health", "queue_status", "submit_one", "explain"};
      List<String> queuedIds = new java.util.concurrent.CopyOnWriteArrayList<>();
      Buffer one = job(pools.get(0)).toBuffer();
      Map<String, ConcurrentLinkedQueue<Long>> readNanos = new LinkedHashMap<>();
      for (String k : kinds) readNanos.put(k, new ConcurrentLinkedQueue<>());
      ConcurrentLinkedQueue<Long> allReads = new ConcurrentLinkedQueue<>();
      SplittableRandom random = new SplittableRandom(7);
      AtomicInteger readFailures = new AtomicInteger();
      double cpuBefore = jvmCpu();
      start = System.nanoTime();
      BenchSupport.drive(vertx, opt.reads, opt.readClients, i -> {
        String kind = kinds[i % kinds.length];
        String path = switch (kind) {
          case "get_job" -> "/api/v1/jobs/" + idList.get(random.nextInt(idList.size()));
          case "list_jobs" -> "/api/v1/jobs?state=running&limit=50";
          case "health" -> "/health";
          case "submit_one" -> "/api/v1/jobs";
          // a waiting job's view carries the scheduler's explanation (reasons, position, estimated start)
          case "explain" -> "/api/v1/jobs/" + (queuedIds.isEmpty() ? idList.get(0)
              : queuedIds.get(queuedIds.size() - 1));
          default -> "/api/v1/queues/status";
        };
        long sent = System.nanoTime();
        boolean submit = kind.equals("submit_one");
        return (submit ? http.request(HttpMethod.POST, path).bearerTokenAuthentication(token)
            .putHeader("Content-Type", "application/json").sendBuffer(one)
            : http.request(HttpMethod.GET, path).bearerTokenAuthentication(ADMIN).send()).map(r -> {
              long took = System.nanoTime() - sent;
              readNanos.get(kind).add(took);
              allReads.add(took);
              if (r.statusCode() != (submit ? 201 : 200) && readFailures.getAndIncrement() < 5) {
                log(path + " answered " + r.statusCode() + ": " + r.bodyAsString());
              }
              if (submit && r.statusCode() == 201) queuedIds.add(r.bodyAsJsonObject().getString("id"));
              return null;
            });
      });
      double readSeconds = BenchSupport.seconds(start);
      JsonObject reads = new JsonObject().put("all", latency(allReads)).put("failed", readFailures.get())
          .put("per_s", opt.reads / readSeconds);
      readNanos.forEach((k, v) -> reads.put(k, latency(v)));
      result.put("reads", reads);

      // 4. the server at rest with every job running: CPU over a quiet window, /metrics scrapes, memory
      double quietCpu = jvmCpu();
      long quietStart = System.nanoTime();
      BenchSupport.sleep(10_000);
      result.put("idle_cpu_cores", (jvmCpu() - quietCpu) / BenchSupport.seconds(quietStart));
      List<Long> scrapeNanos = new ArrayList<>();
      int scrapeBytes = 0;
      int series = 0;
      for (int s = 0; s < opt.scrapes; s++) {
        long sent = System.nanoTime();
        HttpResponse<Buffer> r = http.get("/metrics").send().await();
        scrapeNanos.add(System.nanoTime() - sent);
        if (r.statusCode() != 200) throw new IllegalStateException("/metrics answered " + r.statusCode());
        scrapeBytes = r.body().length();
        series = seriesCount(r.bodyAsString());
        BenchSupport.sleep(300);
      }
      result.put("scrape", latency(scrapeNanos).put("bytes", scrapeBytes).put("series", series));
      long heap = heapAfterGc();
      result.put("heap_after_gc_mb", heap / 1048576.0)
          .put("heap_per_job_kb", (heap - heapBefore) / 1024.0 / Math.max(1, jobs))
          .put("rss_mb", rssKb("self") / 1024.0).put("postgresql_rss_mb", postgresRssKb() / 1024.0)
          .put("read_cpu_cores", 0.0 + (quietCpu - cpuBefore) / readSeconds);

      // 5. stop: the server ends every running job as it stops
      long stopStart = System.nanoTime();
      http.close();
      server.close();
      server = null;
      result.put("stop_s", BenchSupport.seconds(stopStart));
      log(jobs + " jobs: done, server stopped in " + round(result.getDouble("stop_s"), 2) + " s");
    } finally {
      if (server != null) {
        http.close();
        server.close();
        server = null;
      }
    }
    return result;
  }

  /** Polls every 200 ms: each poll is a request that walks the server's workers or jobs. */
  private static void waitUntil(java.util.function.BooleanSupplier condition, int timeoutSeconds) {
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("not reached in " + timeoutSeconds + " s");
      BenchSupport.sleep(200);
    }
  }

  /**
   * One long job: small enough that the tenant's CPU quota (at most 10,000,000 millicores) holds every job of the
   * largest run at once.
   */
  private JsonObject job(String pool) {
    return Fixtures.spec(pool, "sleep").put("cpu_m", 50).put("memory_mb", 64)
        .put("payload", new JsonObject().put("duration_ms", opt.jobMs));
  }

  private int idle(List<String> pools) {
    int idle = 0;
    for (String p : pools) idle += admin("/api/v1/pools/" + p).getJsonObject("workers")
        .getInteger("idle", 0);
    return idle;
  }

  private int running() {
    int running = 0;
    for (Object t : admin("/api/v1/queues/status").getJsonArray("tenants")) {
      running += ((JsonObject) t).getInteger("running", 0);
    }
    return running;
  }

  /** A poll: a failed one (a connection closed under it) is tried again once. */
  private JsonObject admin(String path) {
    try {
      return BenchSupport.admin(http, path);
    } catch (RuntimeException e) {
      log(path + " failed (" + e + "), trying again");
      return BenchSupport.admin(http, path);
    }
  }

  private static int seriesCount(String text) {
    int n = 0;
    for (int at = 0; at < text.length(); ) {
      int end = text.indexOf('\n', at);
      if (end < 0) end = text.length();
      if (end > at && text.charAt(at) != '#') n++;
      at = end + 1;
    }
    return n;
  }

  // ------------------------------------------------------------------ measures

  private static JsonObject latency(java.util.Collection<Long> nanos) {
    long[] ms = new long[nanos.size()];
    int i = 0;
    for (long n : nanos) ms[i++] = n / 1_000;
    return new JsonObject().put("count", ms.length).put("p50_ms", BenchSupport.pct(ms, 50) / 1000.0)
        .put("p95_ms", BenchSupport.pct(ms, 95) / 1000.0).put("p99_ms", BenchSupport.pct(ms, 99) / 1000.0)
        .put("max_ms", BenchSupport.pct(ms, 100) / 1000.0);
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 2; i++) {
      System.gc();
      BenchSupport.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static double jvmCpu() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }

  private static long rssKb(String pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (Exception e) {
      // the process ended meanwhile
    }
    return 0;
  }

  /** Resident memory of PostgreSQL's processes (shared buffers are counted in each that touched them). */
  private static long postgresRssKb() {
    return BenchSupport.postgresPids().stream().mapToLong(ScaleBench::rssKb).sum();
  }

  // ------------------------------------------------------------------ report

  private void report(JsonArray results) throws Exception {
    StringBuilder out = new StringBuilder("\n").append(String.format("%-56s", "figure"));
    for (Object r : results) out.append(String.format("%24s", ((JsonObject) r).getInteger("jobs") + " jobs"));
    out.append('\n');
    row(out, results, "simulated workers idle, s", r -> fmt(r.getDouble("workers_idle_s"), 2));
    row(out, results, "jobs accepted (batches of " + opt.batch + ", " + opt.clients + " clients), s",
        r -> fmt(r.getDouble("submit_s"), 2));
    row(out, results, "accepted jobs/s", r -> fmt(r.getDouble("accepted_per_s"), 0));
    row(out, results, "all running: after the first submit / after the last accept, s",
        r -> fmt(r.getDouble("all_running_s"), 2) + " / " + fmt(r.getDouble("running_after_accept_s"), 2));
    row(out, results, "submit (batch) latency p50 / p95 / p99 ms", r -> pcts(r.getJsonObject("submit_latency")));
    row(out, results, "API while all run, all p50 / p95 / p99 ms", r -> pcts(r.getJsonObject("reads")
        .getJsonObject("all")));
    for (String k : new String[] {"get_job", "list_jobs", "health", "queue_status", "submit_one", "explain"}) {
      row(out, results, "  " + readLabel(k) + " p50 / p95 / p99 ms", r -> pcts(r.getJsonObject("reads")
          .getJsonObject(k)));
    }
    row(out, results, "/metrics scrape p50 / max ms", r -> fmt(r.getJsonObject("scrape").getDouble("p50_ms"), 1)
        + " / " + fmt(r.getJsonObject("scrape").getDouble("max_ms"), 1));
    row(out, results, "/metrics size KB / series", r -> fmt(r.getJsonObject("scrape").getInteger("bytes") / 1024.0, 0)
        + " / " + r.getJsonObject("scrape").getInteger("series"));
    row(out, results, "server CPU with every job running (cores)", r -> fmt(r.getDouble("idle_cpu_cores"), 2));
    row(out, results, "heap used after GC, MB (before the pools)", r -> fmt(r.getDouble("heap_after_gc_mb"), 0)
        + " (" + fmt(r.getDouble("heap_before_mb"), 0) + ")");
    row(out, results, "heap per job + worker, KB", r -> fmt(r.getDouble("heap_per_job_kb"), 2));
    row(out, results, "process RSS MB (JVM) / PostgreSQL", r -> fmt(r.getDouble("rss_mb"), 0) + " / "
        + fmt(r.getDouble("postgresql_rss_mb"), 0));
    row(out, results, "server stop with every job running, s", r -> fmt(r.getDouble("stop_s"), 2));
    row(out, results, "failed requests (submit / read)", r -> r.getInteger("failed_requests") + " / "
        + r.getJsonObject("reads").getInteger("failed"));
    out.append('\n');
    for (Object o : results) {
      JsonObject r = (JsonObject) o;
      // judged: the API while every job runs (reads, and single submits that queue); the batches of the fill are
      // reported, not judged: a batch waits behind the batches in flight, so its latency is set by the submit
      // throughput and the number of clients
      double apiP95 = r.getJsonObject("reads").getJsonObject("all").getDouble("p95_ms");
      double scrapeMax = r.getJsonObject("scrape").getDouble("max_ms");
      boolean pass = apiP95 < P95_BUDGET_MS && scrapeMax < SCRAPE_BUDGET_MS
          && r.getInteger("accepted") == r.getInteger("jobs").intValue()
          && r.getInteger("failed_requests") == 0 && r.getJsonObject("reads").getInteger("failed") == 0;
      out.append(String.format("%s %d jobs: API p95 while all run %.0f ms (< %d); /metrics scrape max %.0f ms (< %d); "
          + "%d of %d accepted, %d failed requests%n", pass ? "PASS" : "FAIL", r.getInteger("jobs"), apiP95,
          P95_BUDGET_MS, scrapeMax, SCRAPE_BUDGET_MS, r.getInteger("accepted"), r.getInteger("jobs"),
          r.getInteger("failed_requests") + r.getJsonObject("reads").getInteger("failed")));
    }
    System.out.println(out);
    JsonObject all = new JsonObject().put("at", Instant.now().toString()).put("options", opt.json())
        .put("load_average", BenchSupport.loadAverage()).put("machine", new JsonObject()
            .put("cores", Runtime.getRuntime().availableProcessors()).put("java", System.getProperty("java.version"))
            .put("max_heap_mb", Runtime.getRuntime().maxMemory() / 1048576))
        .put("runs", results);
    BenchSupport.writeResults(opt.out, "scale", all);
  }

  private static String readLabel(String kind) {
    return switch (kind) {
      case "get_job" -> "GET /api/v1/jobs/{id}";
      case "list_jobs" -> "GET /api/v1/jobs?state=running&limit=50";
      case "health" -> "GET /health";
      case "submit_one" -> "POST /api/v1/jobs (one job, queues)";
      case "explain" -> "GET /api/v1/jobs/{id} of a waiting job";
      default -> "GET /api/v1/queues/status";
    };
  }

  private static void row(StringBuilder out, JsonArray results, String label, Function<JsonObject, String> value) {
    out.append(String.format("%-56s", label));
    for (Object r : results) out.append(String.format("%24s", value.apply((JsonObject) r)));
    out.append('\n');
  }

  private static String pcts(JsonObject l) {
    return fmt(l.getDouble("p50_ms"), 0) + " / " + fmt(l.getDouble("p95_ms"), 0) + " / "
        + fmt(l.getDouble("p99_ms"), 0);
  }

  private static String fmt(Double v, int decimals) {
    return v == null ? "-" : String.format("%,." + decimals + "f", v);
  }

  private static double round(double v, int decimals) {
    double f = Math.pow(10, decimals);
    return Math.round(v * f) / f;
  }

  private static void log(String message) {
    System.out.println("[bench " + Instant.now().toString().substring(11, 19) + "] " + message);
  }
}
