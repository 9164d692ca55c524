package io.hodei.bench;

import com.sun.management.OperatingSystemMXBean;
import io.hodei.app.config.ConfigSchema;
import io.hodei.common.MetricCatalog;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The metrics accuracy and overhead benchmark (not a test: run it with {@code bench/metrics-accuracy-bench.sh}).
 * After discarded warm-up rounds, pairs of rounds run a fresh server with {@code metrics.enabled=false} and one with
 * {@code true} back to back (which goes first alternates), each driving the same workload on simulated pools (T
 * tenants, P pools of W workers, N jobs submitted in batches through REST, every F-th job forced to fail through its
 * payload):
 * <ul>
 *   <li>overhead: CPU seconds from the OS per 1,000 jobs, this JVM (server, its Vert.x threads and the bench client)
 *   plus the server's embedded PostgreSQL processes, from first submit until the bench saw no open job, and throughput
 *   (jobs / (first submit .. last job ended, the jobs' latest {@code finished_at})); per
 *   side the median and range over the rounds, and the paired cost of each on/off pair with its 95% confidence
 *   interval (see {@link #overhead});</li>
 *   <li>accuracy (every metrics-on round): after the run, every job/worker/queue counter and gauge of
 *   {@code /metrics} against ground truth from the {@code job} and {@code worker} tables; agreement = series equal
 *   to the database's count / series compared.</li>
 * </ul>
 * With {@code --quiet true} (the default) each round's PostgreSQL runs its measured window without autovacuum, after
 * a CHECKPOINT of the set-up ({@link #quietPostgres}), and every round records what PostgreSQL did besides the
 * workload ({@link PgWatch}) and the CPU the rest of the machine used meanwhile.
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
                 int rounds, int warmup, boolean quiet, String jvms, boolean history, int attribution, String out) {
    static Options parse(String[] args) {
      String[] defaults = {"jobs", "10000", "tenants", "10", "pools", "4", "workers", "10", "fail-every", "10",
          "duration-ms", "20", "batch", "50", "lanes", "4", "rounds", "6", "warmup", "3", "quiet", "true",
          "jvms", "split", "history", "true", "attribution-rounds", "3", "out", "bench/results"};
      Map<String, String> a = new HashMap<>();
      for (int i = 0; i + 1 < defaults.length; i += 2) a.put(defaults[i], defaults[i + 1]);
      for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
      Function<String, Integer> n = k -> Integer.parseInt(a.get(k));
      return new Options(n.apply("jobs"), n.apply("tenants"), n.apply("pools"), n.apply("workers"),
          n.apply("fail-every"), n.apply("duration-ms"), n.apply("batch"), n.apply("lanes"), n.apply("rounds"),
          n.apply("warmup"), Boolean.parseBoolean(a.get("quiet")), a.get("jvms"),
          Boolean.parseBoolean(a.get("history")), n.apply("attribution-rounds"), a.get("out"));
    }

    JsonObject json() {
      return new JsonObject().put("jobs", jobs).put("tenants", tenants).put("pools", pools)
          .put("workers_per_pool", workers).put("fail_every", failEvery).put("job_duration_ms", durationMs)
          .put("batch", batch).put("http_lanes", lanes).put("rounds", rounds).put("warmup_rounds", warmup)
          .put("quiet_postgres", quiet).put("jvms", jvms).put("history_on_the_metrics_side", history)
          .put("attribution_rounds", attribution);
    }
  }

  private final Options opt;
  private final Vertx vertx = Vertx.vertx();
  private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private MetricsAccuracyBench(Options opt) { this.opt = opt; }

  public static void main(String[] args) throws Exception {
    if (args.length > 1 && args[0].equals("--child")) {
      child(Boolean.parseBoolean(args[1]), java.util.Arrays.copyOfRange(args, 2, args.length));
      return;
    }
    Options opt = Options.parse(args);
    MetricsAccuracyBench bench = new MetricsAccuracyBench(opt);
    JsonObject result = switch (opt.jvms()) {
      case "split" -> bench.runSplit(args);
      case "one" -> bench.run();
      default -> throw new IllegalArgumentException("--jvms is split or one, not " + opt.jvms());
    };
    print(result);
    BenchSupport.writeResults(opt.out(), "metrics-accuracy", result);
    System.exit(0);
  }

  /**
   * {@code --jvms split} (the default): each side runs in a JVM of its own, warmed up on its own side only, and the
   * rounds alternate between the two (the other JVM idles meanwhile). In one JVM, switching the configuration every
   * round made the JIT compiler deoptimise and recompile code whose type profiles the other side had changed: noise
   * (and a cost) that a server running one configuration does not have.
   */
  private JsonObject runSplit(String[] args) throws java.io.IOException {
    try (Child off = new Child(false, args); Child on = new Child(true, args)) {
      for (int w = 0; w < opt.warmup(); w++) {
        off.round(-1 - w);
        on.round(-1 - w);
      }
      JsonArray runs = pairs(off::round, on::round);
      JsonArray attribution = new JsonArray();
      for (int a = 0; a < opt.attribution(); a++) {
        attribution.add(on.round(ATTRIBUTION + a));
        attribution.add(off.round(ATTRIBUTION + a));
      }
      return result(runs).put("attribution", attribution(attribution));
    }
  }

  /** The measured rounds: pairs of one round per side, which side goes first alternating. */
  private JsonArray pairs(java.util.function.IntFunction<JsonObject> off,
                          java.util.function.IntFunction<JsonObject> on) {
    JsonArray runs = new JsonArray();
    for (int r = 0; r < opt.rounds(); r++) {
      // alternate which goes first, so that drift (JIT, the other engineers' load) does not favour one side
      runs.add((r % 2 == 1 ? on : off).apply(r));
      runs.add((r % 2 == 1 ? off : on).apply(r));
    }
    return runs;
  }

  /** A child JVM running the rounds of one side: "round N" on its stdin, the round's JSON back on a RESULT line. */
  private static final class Child implements AutoCloseable {
    private final Process process;
    private final java.io.BufferedReader out;
    private final java.io.Writer in;

    Child(boolean metrics, String[] args) throws java.io.IOException {
      List<String> command = new ArrayList<>();
      command.add(ProcessHandle.current().info().command().orElse("java"));
      command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(MetricsAccuracyBench.class.getName());
      command.add("--child");
      command.add(String.valueOf(metrics));
      command.addAll(List.of(args));
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
          java.nio.charset.StandardCharsets.UTF_8));
      in = new java.io.OutputStreamWriter(process.getOutputStream(), java.nio.charset.StandardCharsets.UTF_8);
    }

    JsonObject round(int round) {
      try {
        in.write("round " + round + "\n");
        in.flush();
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          if (line.startsWith(RESULT)) return new JsonObject(line.substring(RESULT.length()));
          System.out.println(line);
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      throw new IllegalStateException("the child JVM ended during round " + round);
    }

    @Override
    public void close() {
      try {
        in.write("exit\n");
        in.flush();
        if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
      } catch (java.io.IOException | InterruptedException e) {
        process.destroyForcibly();
      }
    }
  }

  private static final String RESULT = "RESULT ";

  /** The child side of {@link Child}: one round per "round N" line, until "exit". */
  private static void child(boolean metrics, String[] args) throws java.io.IOException {
    MetricsAccuracyBench bench = new MetricsAccuracyBench(Options.parse(args));
    java.io.BufferedReader commands = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
        java.nio.charset.StandardCharsets.UTF_8));
    for (String line = commands.readLine(); line != null && !line.equals("exit"); line = commands.readLine()) {
      JsonObject result = bench.round(metrics, Integer.parseInt(line.substring("round ".length()).trim()));
      System.out.println(RESULT + result.encode());
      System.out.flush();
    }
    System.exit(0);
  }

  private JsonObject run() {
    // warm-up (JIT, embedded PostgreSQL start-up paths), discarded: the first server in a JVM is far slower
    for (int w = 0; w < opt.warmup(); w++) round(w % 2 == 0, -1 - w);
    JsonArray runs = pairs(r -> round(false, r), r -> round(true, r));
    JsonArray attribution = new JsonArray();
    for (int a = 0; a < opt.attribution(); a++) {
      attribution.add(round(true, ATTRIBUTION + a));
      attribution.add(round(false, ATTRIBUTION + a));
    }
    return result(runs).put("attribution", attribution(attribution));
  }

  private JsonObject result(JsonArray runs) {
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
    JsonObject overhead = overhead(runs);
    return new JsonObject().put("at", java.time.Instant.now().toString()).put("options", opt.json())
        .put("machine", new JsonObject().put("cores", Runtime.getRuntime().availableProcessors())
            .put("load_average", os.getSystemLoadAverage()))
        .put("runs", runs).put("accuracy", accuracy).put("overhead", overhead);
  }

  // ------------------------------------------------------------------ one round on a fresh server

  private JsonObject round(boolean metrics, int round) {
    log("round " + round + ", metrics.enabled=" + metrics + ": starting a fresh server");
    // the default collection interval (10 s): the overhead as deployed
    // --history false: the metrics side without its history writer (to see what the history costs)
    try (TestServer server = TestServer.start(Map.of(ConfigSchema.METRICS_ENABLED, metrics,
        ConfigSchema.METRICS_HISTORY, opt.history(), ConfigSchema.DB_POOL_SIZE, 8,
        ConfigSchema.QUOTA_CONCURRENT, 1_000_000, ConfigSchema.QUOTA_QUEUED, 10_000_000,
        ConfigSchema.TOKEN_CACHE_SECONDS, 5))) {
      Fixtures fx = new Fixtures(server);
      List<String> tokens = new ArrayList<>();
      for (int t = 0; t < opt.tenants(); t++) tokens.add(fx.tenant("acc-t" + t, null, 1, "submitter"));
      for (int p = 0; p < opt.pools(); p++) fx.pool(Fixtures.simulatedPool("acc-p" + p, opt.workers(), 100), opt.workers());
      WebClient http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
          .setDefaultPort(server.port()).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(opt.lanes()));
      io.vertx.sqlclient.Pool db = server.server().database().pool();
      if (opt.quiet()) quietPostgres(db);
      pause(1_100); // PostgreSQL's backends report their table statistics at most once a second
      ProcCpu.Postgres pg = ProcCpu.postgres(db);
      JsonObject self0 = selfCost(server);
      long allocated0 = allocatedBytes();
      PgWatch watch = PgWatch.start(db, pg);
      double machine0 = ProcCpu.machine();
      double jvm0 = ProcCpu.self();
      Map<String, Double> threads0 = ProcCpu.threads();
      double pg0 = pg.seconds();
      long t0 = System.nanoTime();
      java.time.Instant start = java.time.Instant.now();
      boolean sampled = round >= ATTRIBUTION;
      if (sampled) Samples.start();
      else profiler(round, metrics, "start");
      int accepted = submit(http, tokens);
      double submitSeconds = (System.nanoTime() - t0) / 1e9;
      int polls = waitUntilDrained(server);
      double detectedSeconds = (System.nanoTime() - t0) / 1e9;
      JsonObject samples = sampled ? Samples.stop() : null;
      if (!sampled) profiler(round, metrics, "stop");
      double jvmSeconds = ProcCpu.self() - jvm0;
      JsonObject byThreads = ProcCpu.byThreads(threads0, ProcCpu.threads(), jvmSeconds);
      double pgSeconds = pg.seconds() - pg0;
      double otherSeconds = ProcCpu.machine() - machine0 - jvmSeconds - pgSeconds;
      long allocated = allocatedBytes() - allocated0;
      JsonObject pgWatch = watch.stop(pgSeconds);
      JsonObject self = attributed(self0, selfCost(server), allocated, byThreads.getDouble("gc"),
          jvmSeconds + pgSeconds);
      http.close();
      double seconds = lastJobEnded(db, start);
      pgWatch.put("drain_polls", polls).put("drain_poll", explainOpenJobs(db));
      JsonObject out = new JsonObject().put("round", round).put("metrics_enabled", metrics).put("accepted", accepted)
          .put("seconds", seconds).put("jobs_per_s", accepted / seconds).put("submit_s", submitSeconds)
          .put("drained_seen_s", detectedSeconds)
          .put("jvm_cpu_s", jvmSeconds).put("pg_cpu_s", pgSeconds).put("pg_processes", pg.processes())
          .put("postmaster_pid", pg.postmaster()).put("cpu_s", jvmSeconds + pgSeconds)
          .put("jvm_cpu_s_per_1000_jobs", jvmSeconds * 1000 / accepted)
          .put("jvm_cpu_s_by_threads", byThreads)
          .put("pg_cpu_s_per_1000_jobs", pgSeconds * 1000 / accepted)
          .put("cpu_s_per_1000_jobs", (jvmSeconds + pgSeconds) * 1000 / accepted)
          .put("load_average_after", os.getSystemLoadAverage()).put("other_processes_cpu_s", otherSeconds)
          .put("pg_watch", pgWatch);
      if (metrics) out.put("metrics_self", self);
      if (samples != null && samples.getBoolean("available")) {
        samples.put("metrics_cpu_s", samples.getDouble("metrics_fraction") * jvmSeconds);
      }
      if (samples != null) out.put("samples", samples);
      log(out.encode());
      if (metrics) out.put("accuracy", accuracy(server));
      return out;
    }
  }

  /** Round numbers from here on are attribution rounds: profiled, and outside the pairs. */
  static final int ATTRIBUTION = 1000;

  /**
   * The attribution rounds: one more round per side with this JVM's CPU sampled (async-profiler, {@link Samples#start},
   * all threads; its own cost hits the round, which is why these rounds are not in the pairs).
   * Metrics code = samples with a frame of a class that only runs with {@code metrics.enabled=true} ({@link
   * Samples#METRICS_ONLY}); its CPU = its share of the samples x the JVM's CPU in the window. The metrics-off rounds
   * are the control: their share is what the pattern catches without the metrics. The cost of a metrics-on round =
   * that CPU + what runs outside the JVM's metrics frames: the PostgreSQL CPU of the metrics subsystem's own
   * connections ({@link PgWatch#METRICS_BACKENDS}) and the {@code collect} part of
   * {@code hodei_metrics_self_seconds_total} (wall time of the pool snapshot requests, an upper bound) + its share of
   * GC, as a % of the round's CPU without it.
   */
  static JsonObject attribution(JsonArray rounds) {
    List<Double> on = new ArrayList<>();
    List<Double> control = new ArrayList<>();
    for (Object o : rounds) {
      JsonObject r = (JsonObject) o;
      JsonObject samples = r.getJsonObject("samples");
      if (samples == null || !samples.getBoolean("available", false)) continue;
      double cpu = r.getDouble("cpu_s");
      if (!r.getBoolean("metrics_enabled")) {
        control.add(100.0 * samples.getDouble("metrics_cpu_s") / cpu);
        continue;
      }
      JsonObject self = r.getJsonObject("metrics_self");
      JsonObject parts = self.getJsonObject("seconds_by_part");
      double pgMetrics = r.getJsonObject("pg_watch").getJsonObject("cpu_s_by_backend_type")
          .getDouble(PgWatch.METRICS_BACKENDS, 0.0);
      double outside = pgMetrics + parts.getDouble("collect", 0.0);
      double total = samples.getDouble("metrics_cpu_s") + outside + self.getDouble("gc_share_s");
      double pct = 100.0 * total / Math.max(1e-9, cpu - total);
      r.put("attributed", new JsonObject().put("jvm_metrics_frames_s", samples.getDouble("metrics_cpu_s"))
          .put("outside_bound_s", outside).put("gc_share_s", self.getDouble("gc_share_s")).put("total_s", total)
          .put("cost_pct", pct));
      on.add(pct);
    }
    return new JsonObject().put("rounds", rounds).put("cost_pct", spread(on))
        .put("control_pct", spread(control));
  }

  /** async-profiler, for the attribution rounds. */
  static final class Samples {
    /** Classes that only run with metrics.enabled=true (the collector, its tap and meters, sampler and history). */
    static final java.util.regex.Pattern METRICS_ONLY = java.util.regex.Pattern.compile(
        "io[/.]hodei[/.](metrics[/.](EventTap|MetricsCollectorVerticle|PoolMeters|TenantMeters|LatencyMeter|Reservoir"
            + "|PoolHealth|CollectorStatus|RuntimeMetricsVerticle|RuntimeReports|HostStats|MetricsHistoryVerticle"
            + "|MetricsHistory|SelfCost)|common[/.]EventObservers)[.$]");

    /** perf_events CPU samples every 500 us where the kernel allows them, else itimer (about every 4 ms here). */
    static void start() {
      try {
        one.profiler.AsyncProfiler p = one.profiler.AsyncProfiler.getInstance();
        try {
          p.execute("start,event=cpu,interval=500us");
        } catch (IllegalStateException e) {
          log("perf_events CPU samples not available (" + e.getMessage() + "): itimer");
          p.execute("start,event=itimer,interval=1ms");
        }
      } catch (Exception | LinkageError e) {
        log("profiler not available: " + e);
      }
    }

    /** Samples in the window: all, those in metrics code, their share, and the metrics samples by outermost class. */
    static JsonObject stop() {
      try {
        one.profiler.AsyncProfiler p = one.profiler.AsyncProfiler.getInstance();
        p.execute("stop");
        String collapsed = p.dumpCollapsed(one.profiler.Counter.SAMPLES);
        String dir = System.getProperty("bench.attribution.stacks");
        if (dir != null) {
          Files.writeString(Path.of(dir).resolve("attribution-" + System.nanoTime() + ".collapsed"), collapsed);
        }
        return count(collapsed);
      } catch (Exception | LinkageError e) {
        return new JsonObject().put("available", false).put("reason", String.valueOf(e));
      }
    }

    /** Counts collapsed stacks ({@code frame;frame;... count} per line). */
    static JsonObject count(String collapsed) {
      long all = 0;
      long metrics = 0;
      Map<String, Long> byClass = new TreeMap<>();
      for (String line : collapsed.split("\n")) {
        int space = line.lastIndexOf(' ');
        if (space < 0) continue;
        long n = Long.parseLong(line.substring(space + 1).trim());
        all += n;
        java.util.regex.Matcher m = METRICS_ONLY.matcher(line.substring(0, space));
        if (m.find()) {
          metrics += n;
          byClass.merge(m.group(1).replace('/', '.'), n, Long::sum);
        }
      }
      JsonObject classes = new JsonObject();
      byClass.forEach(classes::put);
      return new JsonObject().put("available", all > 0).put("samples", all).put("metrics_samples", metrics)
          .put("metrics_fraction", all == 0 ? 0.0 : (double) metrics / all).put("metrics_by_class", classes);
    }
  }

  /** The server's {@code hodei_metrics_self_*} counters: {seconds: {part: s}, bytes: {part: n}} (empty when off). */
  static JsonObject selfCost(TestServer server) {
    JsonObject seconds = new JsonObject();
    JsonObject bytes = new JsonObject();
    for (Prometheus.Sample m : Prometheus.parse(server.get("/metrics", null).body())) {
      String part = m.labels().get(MetricCatalog.PART);
      if (m.name().equals(MetricCatalog.METRICS_SELF_SECONDS.name())) seconds.put(part, m.value());
      else if (m.name().equals(MetricCatalog.METRICS_SELF_BYTES.name())) bytes.put(part, m.value());
    }
    return new JsonObject().put("seconds", seconds).put("bytes", bytes);
  }

  /** Bytes allocated so far by this JVM's live threads. */
  static long allocatedBytes() {
    com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long b : t.getThreadAllocatedBytes(t.getAllThreadIds())) sum += Math.max(0, b);
    return sum;
  }

  /**
   * The metrics-on round's cost as the server measured it ({@link io.hodei.metrics.SelfCost}): the window's
   * {@code hodei_metrics_self_seconds_total} (CPU of its own work, wall time of its SQL and snapshot requests) plus
   * its share of the GC threads' CPU (its allocated bytes / all bytes the JVM allocated meanwhile); as a cost in %
   * of the round's CPU without it (JVM + PostgreSQL - attributed), comparable with the paired on/off cost.
   */
  static JsonObject attributed(JsonObject before, JsonObject after, long jvmAllocated, double gcSeconds,
                               double cpuSeconds) {
    JsonObject seconds = new JsonObject();
    double own = 0;
    for (String part : after.getJsonObject("seconds").fieldNames()) {
      double d = after.getJsonObject("seconds").getDouble(part) - before.getJsonObject("seconds").getDouble(part, 0.0);
      seconds.put(part, d);
      own += d;
    }
    double bytes = 0;
    for (String part : after.getJsonObject("bytes").fieldNames()) {
      bytes += after.getJsonObject("bytes").getDouble(part) - before.getJsonObject("bytes").getDouble(part, 0.0);
    }
    double gcShare = jvmAllocated <= 0 ? 0 : gcSeconds * Math.min(1, bytes / jvmAllocated);
    double total = own + gcShare;
    return new JsonObject().put("seconds_by_part", seconds).put("own_s", own).put("allocated_bytes", bytes)
        .put("jvm_allocated_bytes", jvmAllocated).put("gc_share_s", gcShare).put("attributed_s", total)
        .put("cost_pct", 100.0 * total / Math.max(1e-9, cpuSeconds - total));
  }

  /**
   * Takes PostgreSQL's own housekeeping out of the measured window, for both sides alike (bench only; the server's
   * configuration is untouched): autovacuum off for this round's ephemeral cluster ({@code ALTER SYSTEM} +
   * reload, as the embedded superuser), then, once no autovacuum worker is left, a {@code CHECKPOINT} of the
   * set-up's writes, so that no autovacuum/autoanalyze run and no checkpoint lands at a random moment of one round
   * and not the other. No VACUUM or ANALYZE: on the set-up's empty tables they tell the planner "0 rows" instead of
   * "never vacuumed", and the job updates' cached plans then scan the whole job table (a 15 s round took > 3 min).
   */
  static void quietPostgres(io.vertx.sqlclient.Pool db) {
    db.query("ALTER SYSTEM SET autovacuum = off").execute().await();
    db.query("SELECT pg_reload_conf()").execute().await();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      Row row = db.query("SELECT current_setting('autovacuum') AS autovacuum, (SELECT count(*) FROM pg_stat_activity "
          + "WHERE backend_type = 'autovacuum worker') AS workers").execute().await().iterator().next();
      if (row.getString("autovacuum").equals("off") && row.getLong("workers") == 0) break;
      if (System.nanoTime() > deadline) throw new IllegalStateException("autovacuum still on or running: " + row.toJson());
      pause(50);
    }
    db.query("CHECKPOINT").execute().await();
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

  /**
   * Polls until no job is open; returns the number of polls. Every 250 ms, not faster: each poll visits every heap
   * page of the job table that its open-jobs index points to (one entry per open version of each job, dead ones
   * included, as nothing vacuums inside a round), PostgreSQL CPU that grows with the round's length and is the
   * bench's, not the server's (small: 4..11 ms a poll, and submitting takes 95..99% of a window, so 2..5 polls a
   * round). The end of the throughput window does not depend on it ({@link #lastJobEnded}).
   */
  private static int waitUntilDrained(TestServer server) {
    long deadline = System.nanoTime() + 600_000_000_000L;
    int polls = 0;
    while (System.nanoTime() < deadline) {
      polls++;
      Row row = server.server().database().pool().query(OPEN_JOBS).execute().await().iterator().next();
      if (row.getLong("n") == 0) return polls;
      pause(250);
    }
    throw new IllegalStateException("jobs did not drain in 10 minutes");
  }

  /** Seconds from the first submit to the last job's end ({@code max(finished_at)}, stamped by the server). */
  private static double lastJobEnded(io.vertx.sqlclient.Pool db, java.time.Instant start) {
    java.time.OffsetDateTime last = db.query("SELECT max(finished_at) AS last FROM job").execute().await().iterator()
        .next().getOffsetDateTime("last");
    return java.time.Duration.between(start, last.toInstant()).toNanos() / 1e9;
  }

  /** What one drain poll costs at the end of the round: its plan's execution time and buffers (EXPLAIN ANALYZE). */
  private static JsonObject explainOpenJobs(io.vertx.sqlclient.Pool db) {
    JsonArray plan = new JsonArray();
    for (Row row : db.query("EXPLAIN (ANALYZE, BUFFERS) " + OPEN_JOBS).execute().await()) plan.add(row.getString(0));
    JsonObject out = new JsonObject().put("plan", plan);
    for (Object line : plan) {
      String l = ((String) line).trim();
      if (l.startsWith("Execution Time:")) out.put("ms", Double.parseDouble(l.replaceAll("[^0-9.]", "")));
    }
    return out;
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
      else if (state.equals("cancelled")) add(truth, key(MetricCatalog.JOBS_CANCELLED, "tenant_id", tenant), n);
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

  /** The figures compared on vs off: CPU (JVM + PostgreSQL, and each alone) per 1,000 jobs, and throughput. */
  private static final List<String> FIGURES = List.of("cpu_s_per_1000_jobs", "jvm_cpu_s_per_1000_jobs",
      "pg_cpu_s_per_1000_jobs", "jobs_per_s");

  /**
   * Per side: median, min and max of each figure over the rounds. Paired: each round's metrics-on run against the
   * metrics-off run next to it (the two ran back to back, in alternating order, so that slow drift and the machine's
   * load hit both alike), as a cost in % (CPU: on/off - 1; throughput: 1 - on/off); their median, mean, standard
   * deviation and a 95% confidence interval of the mean (Student's t). The interval's width is the noise floor of the
   * run: a cost inside it cannot be told from zero.
   */
  static JsonObject overhead(JsonArray runs) {
    Map<Integer, JsonObject[]> pairs = new TreeMap<>();
    for (Object o : runs) {
      JsonObject r = (JsonObject) o;
      pairs.computeIfAbsent(r.getInteger("round"), k -> new JsonObject[2])[r.getBoolean("metrics_enabled") ? 1 : 0] = r;
    }
    JsonObject sides = new JsonObject();
    JsonObject paired = new JsonObject();
    for (String figure : FIGURES) {
      List<Double> off = new ArrayList<>();
      List<Double> on = new ArrayList<>();
      List<Double> cost = new ArrayList<>();
      for (JsonObject[] pair : pairs.values()) {
        if (pair[0] == null || pair[1] == null) continue;
        double a = pair[0].getDouble(figure);
        double b = pair[1].getDouble(figure);
        off.add(a);
        on.add(b);
        cost.add(figure.equals("jobs_per_s") ? 100.0 * (1 - b / a) : 100.0 * (b / a - 1));
      }
      sides.put(figure, new JsonObject().put("off", spread(off)).put("on", spread(on)));
      paired.put(figure, spread(cost).put("values_pct", new JsonArray(new ArrayList<>(cost))));
    }
    List<Double> attributed = new ArrayList<>();
    for (Object o : runs) {
      JsonObject self = ((JsonObject) o).getJsonObject("metrics_self");
      if (self != null && ((JsonObject) o).getInteger("round") >= 0) attributed.add(self.getDouble("cost_pct"));
    }
    return new JsonObject().put("pairs", pairs.size()).put("sides", sides).put("paired_cost_pct", paired)
        .put("attributed_cpu_cost_pct", spread(attributed))
        .put("targets_pct", new JsonObject().put("cpu_s_per_1000_jobs", 1.0).put("jobs_per_s", 3.0));
  }

  /** median, min, max, mean, standard deviation and the 95% confidence interval of the mean. */
  static JsonObject spread(List<Double> values) {
    if (values.isEmpty()) return new JsonObject().put("n", 0);
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    double mean = java.util.Arrays.stream(v).average().orElse(0);
    double var = 0;
    for (double x : v) var += (x - mean) * (x - mean);
    double sd = n > 1 ? Math.sqrt(var / (n - 1)) : 0;
    double half = n > 1 ? t95(n - 1) * sd / Math.sqrt(n) : Double.NaN;
    return new JsonObject().put("n", n).put("median", median).put("min", v[0]).put("max", v[n - 1])
        .put("mean", mean).put("sd", sd).put("ci95_low", mean - half).put("ci95_high", mean + half);
  }

  /** Two-sided 95% quantile of Student's t. */
  private static double t95(int df) {
    double[] t = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179};
    return df <= t.length ? t[df - 1] : 1.96 + 2.4 / df;
  }

  /**
   * The CPU target: met when the attribution's interval is below 1% and the paired on/off cost does not contradict
   * it (its interval's low end is below 1%); missed when either interval lies wholly above 1%.
   */
  static String cpuVerdict(JsonObject paired, JsonObject attributed) {
    if (attributed.getInteger("n") < 2) return "not resolved (fewer than 2 attribution rounds)";
    if (attributed.getDouble("ci95_low") > 1.0 || paired.getDouble("ci95_low") > 1.0) return "missed";
    return attributed.getDouble("ci95_high") < 1.0 ? "met" : "not resolved";
  }

  /** Met when the whole interval is below the target, missed when it is above it, else not resolved. */
  static String verdict(JsonObject cost, double target) {
    double low = cost.getDouble("ci95_low");
    double high = cost.getDouble("ci95_high");
    if (Double.isNaN(low)) return "not resolved (one pair)";
    if (high < target) return "met";
    if (low > target) return "missed";
    return String.format("not resolved (95%% CI %+.1f..%+.1f%% spans the %.0f%% target)", low, high, target);
  }

  private static void print(JsonObject r) {
    JsonObject acc = r.getJsonObject("accuracy");
    JsonObject ov = r.getJsonObject("overhead");
    JsonObject sides = ov.getJsonObject("sides");
    JsonObject paired = ov.getJsonObject("paired_cost_pct");
    System.out.println();
    System.out.printf("%d pairs of rounds (metrics off / on back to back, order alternating; %s)%n",
        ov.getInteger("pairs"),
        "split".equals(r.getJsonObject("options").getString("jvms")) ? "each side in a JVM of its own"
            : "both sides in one JVM");
    System.out.println("| figure | off: median (min..max) | on: median (min..max) | paired cost: median; mean +- 95% CI "
        + "(min..max) | target | result |");
    System.out.println("|---|---:|---:|---:|---:|---|");
    for (String figure : FIGURES) {
      JsonObject off = sides.getJsonObject(figure).getJsonObject("off");
      JsonObject on = sides.getJsonObject(figure).getJsonObject("on");
      JsonObject cost = paired.getJsonObject(figure);
      String format = figure.equals("jobs_per_s") ? "%.0f (%.0f..%.0f)" : "%.3f (%.3f..%.3f)";
      Double target = ov.getJsonObject("targets_pct").getDouble(figure);
      System.out.printf("| %s | %s | %s | %+.1f%%; %+.1f%% +- %.1f (%+.1f..%+.1f) | %s | %s |%n", figure,
          String.format(format, off.getDouble("median"), off.getDouble("min"), off.getDouble("max")),
          String.format(format, on.getDouble("median"), on.getDouble("min"), on.getDouble("max")),
          cost.getDouble("median"), cost.getDouble("mean"), (cost.getDouble("ci95_high") - cost.getDouble("ci95_low")) / 2,
          cost.getDouble("min"), cost.getDouble("max"), target == null ? "" : "< " + target.intValue() + "%",
          target == null ? "" : verdict(cost, target));
    }
    JsonObject att = ov.getJsonObject("attributed_cpu_cost_pct");
    if (att != null && att.getInteger("n") > 0) {
      System.out.printf("| CPU cost measured by the server (hodei_metrics_self_* + GC share), %% of the round's CPU | "
              + "| | %.2f%%; %.2f%% +- %.2f (%.2f..%.2f) | | %s |%n", att.getDouble("median"),
          att.getDouble("mean"), att.getInteger("n") > 1 ? (att.getDouble("ci95_high") - att.getDouble("ci95_low")) / 2
              : Double.NaN, att.getDouble("min"), att.getDouble("max"),
          "shown, not judged (timed around calls of a few hundred ns: runs high)");
    }
    JsonObject attribution = r.getJsonObject("attribution");
    JsonObject cpuCost = paired.getJsonObject("cpu_s_per_1000_jobs");
    if (attribution != null && attribution.getJsonObject("cost_pct").getInteger("n") > 0) {
      JsonObject c = attribution.getJsonObject("cost_pct");
      JsonObject control = attribution.getJsonObject("control_pct");
      System.out.printf("| CPU cost attributed from CPU samples (%d profiled metrics-on rounds; metrics-off control "
              + "%.2f%%) | | | %.2f%%; %.2f%% +- %.2f (%.2f..%.2f) | < 1%% | %s |%n", c.getInteger("n"),
          control.getInteger("n") > 0 ? control.getDouble("mean") : Double.NaN, c.getDouble("median"),
          c.getDouble("mean"), c.getInteger("n") > 1 ? (c.getDouble("ci95_high") - c.getDouble("ci95_low")) / 2
              : Double.NaN, c.getDouble("min"), c.getDouble("max"), verdict(c, 1.0));
      System.out.println("| **CPU cost < 1%** (attributed interval below 1%, and the paired on/off interval not above "
          + "it) | | | | < 1% | **" + cpuVerdict(cpuCost, c) + "** |");
    }
    System.out.printf("| accuracy: /metrics series equal to the database | | %d / %d (%.2f%%) | | > 99.9%% |%n",
        acc.getInteger("agreed"), acc.getInteger("compared"), acc.getDouble("agreement_pct"));
    System.out.println("per round:");
    for (Object o : r.getJsonArray("runs")) {
      JsonObject run = (JsonObject) o;
      System.out.printf("  round %d metrics %-5s %5d jobs %6.1f s %6.0f jobs/s  CPU s/1000 jobs: %.3f (JVM %.3f + "
              + "PostgreSQL %.3f, %d processes)  load %.1f, other processes %.1f CPU s%n",
          run.getInteger("round"), run.getBoolean("metrics_enabled"), run.getInteger("accepted"),
          run.getDouble("seconds"), run.getDouble("jobs_per_s"), run.getDouble("cpu_s_per_1000_jobs"),
          run.getDouble("jvm_cpu_s_per_1000_jobs"), run.getDouble("pg_cpu_s_per_1000_jobs"),
          run.getInteger("pg_processes"), run.getDouble("load_average_after"),
          run.getDouble("other_processes_cpu_s", Double.NaN));
      JsonObject self = run.getJsonObject("metrics_self");
      if (self != null) {
        System.out.printf("    measured by the server: %.3f s (%s) + GC share %.3f s (%.1f of %.0f MB allocated) = "
                + "%.2f%% of the round's CPU%n", self.getDouble("own_s"), seconds(self.getJsonObject("seconds_by_part")),
            self.getDouble("gc_share_s"), self.getDouble("allocated_bytes") / 1e6,
            self.getLong("jvm_allocated_bytes") / 1e6, self.getDouble("cost_pct"));
      }
      JsonObject w = run.getJsonObject("pg_watch");
      if (w != null) {
        System.out.printf("    PostgreSQL: autovacuum %d, autoanalyze %d runs, %d checkpoints, WAL %.0f MB; CPU s by "
                + "backend type %s%n", w.getLong("autovacuum_runs"), w.getLong("autoanalyze_runs"),
            w.getLong("checkpoints"), w.getDouble("wal_mb"), w.getJsonObject("cpu_s_by_backend_type").encode());
      }
    }
    if (attribution != null) {
      System.out.println("attribution rounds (profiled):");
      for (Object o : attribution.getJsonArray("rounds")) {
        JsonObject run = (JsonObject) o;
        JsonObject samples = run.getJsonObject("samples");
        if (samples == null || !samples.getBoolean("available")) {
          System.out.println("  no samples: " + (samples == null ? "" : samples.getString("reason")));
          continue;
        }
        JsonObject share = run.getJsonObject("attributed");
        System.out.printf("  metrics %-5s %6.1f s, CPU %.2f s (JVM %.2f); samples %d, metrics code %d (%.2f%%) = %.3f s"
                + "%s  %s%n", run.getBoolean("metrics_enabled"), run.getDouble("seconds"), run.getDouble("cpu_s"),
            run.getDouble("jvm_cpu_s"), samples.getLong("samples"), samples.getLong("metrics_samples"),
            100 * samples.getDouble("metrics_fraction"), samples.getDouble("metrics_cpu_s"),
            share == null ? "" : String.format(" + outside %.3f s + GC %.3f s = %.2f%% of the round's CPU",
                share.getDouble("outside_bound_s"), share.getDouble("gc_share_s"), share.getDouble("cost_pct")),
            samples.getJsonObject("metrics_by_class").encode());
      }
    }
    System.out.println("JVM CPU s by threads, median per side (off / on): " + threadMedians(r.getJsonArray("runs")));
    for (Object m : acc.getJsonArray("mismatches")) System.out.println("  mismatch " + m);
  }

  private static String seconds(JsonObject byPart) {
    StringBuilder out = new StringBuilder();
    for (String part : byPart.fieldNames()) {
      out.append(out.length() == 0 ? "" : ", ").append(String.format("%s %.3f", part, byPart.getDouble(part)));
    }
    return out.toString();
  }

  /** Per thread group, the median CPU seconds of the rounds of each side. */
  private static String threadMedians(JsonArray runs) {
    StringBuilder out = new StringBuilder();
    for (String group : ProcCpu.GROUPS) {
      List<Double> off = new ArrayList<>();
      List<Double> on = new ArrayList<>();
      for (Object o : runs) {
        JsonObject run = (JsonObject) o;
        JsonObject t = run.getJsonObject("jvm_cpu_s_by_threads");
        if (t != null) (run.getBoolean("metrics_enabled") ? on : off).add(t.getDouble(group));
      }
      if (off.isEmpty() || on.isEmpty()) continue;
      out.append(String.format("%s %.2f / %.2f; ", group, spread(off).getDouble("median"),
          spread(on).getDouble("median")));
    }
    return out.toString();
  }

  /**
   * Profiles each measured round when {@code -Dbench.profile=<dir>} is set and async-profiler's Java API is on the
   * class path ({@code -Dbench.profile.lib=<libasyncProfiler.so>}): CPU samples (itimer) of this JVM, collapsed stacks
   * by thread, one file per round and side. For looking into the paired difference, not part of a normal run.
   */
  private static void profiler(int round, boolean metrics, String action) {
    String dir = System.getProperty("bench.profile");
    if (dir == null || round < 0) return;
    try {
      Class<?> c = Class.forName("one.profiler.AsyncProfiler");
      Object p = c.getMethod("getInstance", String.class).invoke(null, System.getProperty("bench.profile.lib"));
      // -Dbench.profile.event=alloc profiles allocations instead of CPU
      String event = System.getProperty("bench.profile.event", "itimer");
      String cmd = action.equals("start") ? "start,event=" + event + (event.equals("itimer") ? ",interval=1ms" : "")
          + ",threads"
          : "stop,collapsed,threads,file=" + dir + "/round-" + round + "-" + (metrics ? "on" : "off") + ".collapsed";
      c.getMethod("execute", String.class).invoke(p, cmd);
    } catch (ReflectiveOperationException e) {
      log("profiler not available: " + e);
    }
  }

  private static void log(String message) {
    System.out.println("[metrics-accuracy] " + java.time.Instant.now() + " " + message);
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * PostgreSQL's own view of one measured window, to see where its CPU varies from round to round: CPU seconds by
   * backend type (pids from {@code pg_stat_activity}, CPU from /proc; sampled every 250 ms so that an autovacuum
   * worker that starts and exits inside the window is seen; {@code unattributed} = the window's PostgreSQL CPU minus
   * these: the postmaster, processes not listed, and the part of exited processes after their last sample), then
   * per table the scans, row changes and autovacuum/autoanalyze runs ({@code pg_stat_user_tables}), checkpoints and
   * WAL. Same queries on both sides; a diagnostic, not one of the compared figures.
   */
  static final class PgWatch {
    private static final String ACTIVITY = "SELECT pid, backend_type, application_name FROM pg_stat_activity";
    /** The backend type under which the metrics subsystem's own connections are counted. */
    static final String METRICS_BACKENDS = "client backend (" + io.hodei.store.Database.METRICS_APPLICATION_NAME + ")";
    private static final String TABLES = "SELECT relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan, n_tup_ins, "
        + "n_tup_upd, n_tup_hot_upd, n_tup_del, autovacuum_count, autoanalyze_count, vacuum_count, analyze_count, "
        + "n_live_tup, n_dead_tup FROM pg_stat_user_tables";
    private static final List<String> TABLE_COUNTERS = List.of("seq_scan", "idx_scan", "n_tup_ins", "n_tup_upd",
        "n_tup_hot_upd", "n_tup_del", "autovacuum_count", "autoanalyze_count", "vacuum_count", "analyze_count");
    private static final String CLUSTER = "SELECT (SELECT num_timed + num_requested FROM pg_stat_checkpointer) AS "
        + "checkpoints, (SELECT wal_bytes::bigint FROM pg_stat_wal) AS wal_bytes, (SELECT count(*) FROM "
        + "pg_stat_activity WHERE backend_type = 'autovacuum worker') AS autovacuum_workers";

    private final io.vertx.sqlclient.Pool db;
    private final ProcCpu.Postgres pg;
    private final Map<Integer, String> types = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Integer, Long> base = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Integer, Long> last = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, JsonObject> tables0;
    private final JsonObject cluster0;
    private final AtomicInteger autovacuumWorkersSeen = new AtomicInteger();
    private volatile boolean running = true;
    private Thread sampler;

    private PgWatch(io.vertx.sqlclient.Pool db, ProcCpu.Postgres pg) {
      this.db = db;
      this.pg = pg;
      this.tables0 = tables();
      this.cluster0 = cluster();
    }

    static PgWatch start(io.vertx.sqlclient.Pool db, ProcCpu.Postgres pg) {
      PgWatch w = new PgWatch(db, pg);
      w.sample(true);
      w.sampler = new Thread(() -> {
        while (w.running) {
          pause(250);
          if (w.running) w.sample(false);
        }
      }, "pg-watch");
      w.sampler.setDaemon(true);
      w.sampler.start();
      return w;
    }

    private void sample(boolean first) {
      int autovacuum = 0;
      for (Row row : db.query(ACTIVITY).execute().await()) {
        int pid = row.getInteger("pid");
        String type = io.hodei.store.Database.METRICS_APPLICATION_NAME.equals(row.getString("application_name"))
            ? METRICS_BACKENDS : row.getString("backend_type");
        long[] s = ProcCpu.stat(pid);
        if (s == null) continue;
        types.putIfAbsent(pid, type == null ? "unknown" : type);
        base.putIfAbsent(pid, first ? s[0] : 0L);
        last.put(pid, s[0]);
        if ("autovacuum worker".equals(type)) autovacuum++;
      }
      autovacuumWorkersSeen.accumulateAndGet(autovacuum, Math::max);
    }

    JsonObject stop(double pgSeconds) {
      running = false;
      try {
        sampler.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sample(false);
      Map<String, Double> byType = new TreeMap<>();
      double attributed = 0;
      for (Map.Entry<Integer, Long> e : last.entrySet()) {
        double s = (e.getValue() - base.get(e.getKey())) / ProcCpu.TICKS;
        byType.merge(types.get(e.getKey()), s, Double::sum);
        attributed += s;
      }
      JsonObject cpu = new JsonObject();
      byType.forEach(cpu::put);
      cpu.put("unattributed", pgSeconds - attributed);
      pause(1_100); // let the backends report their table statistics
      Map<String, JsonObject> tables1 = tables();
      JsonObject tables = new JsonObject();
      tables1.forEach((name, t1) -> {
        JsonObject t0 = tables0.getOrDefault(name, new JsonObject());
        JsonObject d = new JsonObject();
        boolean changed = false;
        for (String c : TABLE_COUNTERS) {
          long v = t1.getLong(c) - t0.getLong(c, 0L);
          d.put(c, v);
          changed |= v != 0;
        }
        if (changed) tables.put(name, d.put("n_live_tup", t1.getLong("n_live_tup")).put("n_dead_tup", t1.getLong("n_dead_tup")));
      });
      JsonObject cluster1 = cluster();
      long autovacuums = 0;
      long autoanalyzes = 0;
      for (String name : tables.fieldNames()) {
        autovacuums += tables.getJsonObject(name).getLong("autovacuum_count");
        autoanalyzes += tables.getJsonObject(name).getLong("autoanalyze_count");
      }
      return new JsonObject().put("cpu_s_by_backend_type", cpu)
          .put("autovacuum_workers_seen", autovacuumWorkersSeen.get())
          .put("autovacuum_runs", autovacuums).put("autoanalyze_runs", autoanalyzes)
          .put("checkpoints", cluster1.getLong("checkpoints") - cluster0.getLong("checkpoints"))
          .put("wal_mb", (cluster1.getLong("wal_bytes") - cluster0.getLong("wal_bytes")) / 1e6)
          .put("tables", tables);
    }

    private Map<String, JsonObject> tables() {
      Map<String, JsonObject> out = new TreeMap<>();
      for (Row row : db.query(TABLES).execute().await()) out.put(row.getString("relname"), row.toJson());
      return out;
    }

    private JsonObject cluster() { return db.query(CLUSTER).execute().await().iterator().next().toJson(); }
  }

  /**
   * CPU seconds from the OS ({@code /proc/<pid>/stat}: utime + stime, in clock ticks): this JVM (server and bench
   * client), and the embedded PostgreSQL of the server under test, found from a backend's parent (the postmaster)
   * and taken as the postmaster, its live children named postgres* and the children it has already reaped
   * (cutime + cstime), so that a backend that exits inside the window still counts. Other engineers' PostgreSQL
   * processes on the machine are not counted.
   */
  static final class ProcCpu {
    static final double TICKS = ticksPerSecond();

    /** One server's PostgreSQL processes. */
    record Postgres(int postmaster) {
      double seconds() {
        if (postmaster <= 0) return 0;
        long[] pm = stat(postmaster);
        if (pm == null) return 0;
        long ticks = pm[0] + pm[1];
        for (int child : children()) {
          long[] c = stat(child);
          if (c != null) ticks += c[0];
        }
        return ticks / TICKS;
      }

      int processes() { return postmaster <= 0 ? 0 : 1 + children().size(); }

      private List<Integer> children() {
        List<Integer> out = new ArrayList<>();
        java.io.File[] dirs = new java.io.File("/proc").listFiles((d, name) -> name.chars().allMatch(Character::isDigit));
        if (dirs == null) return out;
        for (java.io.File dir : dirs) {
          int pid = Integer.parseInt(dir.getName());
          String[] f = fields(pid);
          if (f != null && Integer.parseInt(f[1]) == postmaster && comm(pid).startsWith("postgres")) out.add(pid);
        }
        return out;
      }
    }

    /** Thread groups of {@link #byThreads}; {@code other} includes threads that exited inside the window. */
    static final List<String> GROUPS = List.of("event_loops", "jit_compiler", "gc", "other");

    /** CPU seconds of each live thread of this JVM by thread id, with its name ({@code /proc/self/task}). */
    static Map<String, Double> threads() {
      Map<String, Double> out = new HashMap<>();
      java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
      if (tasks == null) return out;
      for (java.io.File task : tasks) {
        try {
          String stat = Files.readString(task.toPath().resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
          out.put(task.getName() + " " + name, (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS);
        } catch (java.io.IOException | RuntimeException e) {
          // the thread exited meanwhile
        }
      }
      return out;
    }

    /**
     * The window's JVM CPU split by thread group: Vert.x event loops (server and bench client alike), the JIT
     * compiler threads, the garbage collector, and the rest (including threads that exited inside the window).
     */
    static JsonObject byThreads(Map<String, Double> before, Map<String, Double> after, double total) {
      Map<String, Double> groups = new HashMap<>();
      after.forEach((thread, seconds) -> {
        String name = thread.substring(thread.indexOf(' ') + 1);
        String group = name.startsWith("vert.x-eventloo") ? "event_loops"
            : name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler") ? "jit_compiler"
            : name.startsWith("GC Thread") || name.startsWith("G1 ") ? "gc" : null;
        if (group != null) groups.merge(group, seconds - before.getOrDefault(thread, 0.0), Double::sum);
      });
      JsonObject out = new JsonObject();
      double known = 0;
      for (String g : GROUPS) {
        if (g.equals("other")) continue;
        double v = groups.getOrDefault(g, 0.0);
        known += v;
        out.put(g, v);
      }
      return out.put("other", total - known);
    }

    /**
     * The machine's busy CPU seconds, all processes ({@code /proc/stat}: user + nice + system + irq + softirq + steal):
     * minus this JVM and its PostgreSQL, the CPU that the rest of the machine (other engineers' work) used meanwhile.
     */
    static double machine() {
      try {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i : new int[] {1, 2, 3, 6, 7, 8}) busy += Long.parseLong(f[i]);
        return busy / TICKS;
      } catch (java.io.IOException | RuntimeException e) {
        return 0;
      }
    }

    /** This JVM's CPU seconds (all its threads). */
    static double self() {
      long[] s = stat((int) ProcessHandle.current().pid());
      return s == null ? 0 : s[0] / TICKS;
    }

    /** The postmaster of the database behind {@code pool}: the parent of the backend that answers it. */
    static Postgres postgres(io.vertx.sqlclient.Pool pool) {
      int backend = pool.query("SELECT pg_backend_pid() AS pid").execute().await().iterator().next().getInteger("pid");
      String[] f = fields(backend);
      if (f == null) return new Postgres(-1);
      int parent = Integer.parseInt(f[1]);
      return new Postgres(comm(parent).startsWith("postgres") ? parent : -1);
    }

    /** {own utime + stime, reaped children's cutime + cstime} in ticks, or null when the process is gone. */
    static long[] stat(int pid) {
      String[] f = fields(pid);
      if (f == null) return null;
      return new long[] {Long.parseLong(f[11]) + Long.parseLong(f[12]), Long.parseLong(f[13]) + Long.parseLong(f[14])};
    }

    /** The fields of /proc/pid/stat after the command name: [0] state, [1] ppid, ... [11] utime, [12] stime. */
    private static String[] fields(int pid) {
      try {
        String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
      } catch (java.io.IOException | RuntimeException e) {
        return null;
      }
    }

    private static String comm(int pid) {
      try {
        return Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).trim();
      } catch (java.io.IOException e) {
        return "";
      }
    }

    private static double ticksPerSecond() {
      try {
        Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor();
        return Double.parseDouble(out);
      } catch (Exception e) {
        return 100;
      }
    }
  }
}
