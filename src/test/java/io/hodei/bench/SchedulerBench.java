package io.hodei.bench;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The scheduler benchmark (not a test: run it with {@code bench/scheduler-bench.sh}). One run starts a real server on
 * an ephemeral embedded PostgreSQL, submits the same workload through REST as single submits and as batches, then
 * runs a plain {@code FOR UPDATE SKIP LOCKED} claim/complete loop on the same database as the baseline, and prints
 * every figure side by side with the ratios against the targets.
 */
public final class SchedulerBench {
  private static final String ADMIN = TestServer.ADMIN_TOKEN;

  private final Options opt;
  private final Vertx vertx = Vertx.vertx();
  private WebClient http;
  private TestServer server;
  private final Map<String, String> tokens = new LinkedHashMap<>();
  private final Map<String, Integer> weights = new HashMap<>();

  private SchedulerBench(Options opt) { this.opt = opt; }

  public static void main(String[] args) throws Exception {
    Options opt = Options.parse(args);
    SchedulerBench bench = new SchedulerBench(opt);
    try {
      bench.run();
    } finally {
      bench.close();
    }
    System.exit(0);
  }

  // ------------------------------------------------------------------ options

  record Options(int jobs, int tenants, int pools, int workers, int concurrency, int batch, int batchConcurrency,
                 int minMs, int maxMs, int inflight, int dbPool, int warmupJobs, int warmupRounds, int repeats, String out,
                 String runs) {
    static Options parse(String[] args) {
      Map<String, String> a = new HashMap<>();
      for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
      Function<String, Integer> n = k -> Integer.parseInt(a.getOrDefault(k, defaults().get(k)));
      return new Options(n.apply("jobs"), n.apply("tenants"), n.apply("pools"), n.apply("workers"),
          n.apply("concurrency"), n.apply("batch"), n.apply("batch-concurrency"), n.apply("min-ms"), n.apply("max-ms"), n.apply("inflight"),
          n.apply("db-pool"), n.apply("warmup-jobs"), n.apply("warmup-rounds"), n.apply("repeats"),
          a.getOrDefault("out", "bench/results"), a.getOrDefault("runs", "single,batch,baseline"));
    }

    static Map<String, String> defaults() {
      return Map.ofEntries(Map.entry("jobs", "10000"), Map.entry("tenants", "20"), Map.entry("pools", "4"),
          Map.entry("workers", "25"), Map.entry("concurrency", "64"), Map.entry("batch", "100"),
          Map.entry("batch-concurrency", "8"), Map.entry("min-ms", "50"), Map.entry("max-ms", "200"),
          Map.entry("inflight", "256"), Map.entry("db-pool", "16"), Map.entry("warmup-jobs", "20000"),
          Map.entry("warmup-rounds", "2"), Map.entry("repeats", "3"));
    }

    JsonObject json() {
      return new JsonObject().put("jobs", jobs).put("tenants", tenants).put("pools", pools)
          .put("workers_per_pool", workers).put("http_concurrency", concurrency).put("batch_size", batch)
          .put("batch_http_concurrency", batchConcurrency)
          .put("job_duration_ms", minMs + ".." + maxMs).put("scheduler_max_inflight_placements", inflight)
          .put("db_pool_size", dbPool).put("warmup_jobs_discarded", warmupJobs)
          .put("warmup_rounds", warmupRounds).put("repeats_of_batch_and_baseline_single", repeats)
          .put("postgresql", "embedded, fsync=on, synchronous_commit=on").put("tick_interval_ms", "default (500)").put("token_cache_seconds", "default (5)")
          .put("health_and_reconcile_intervals", "defaults");
    }
  }

  /** One job of the workload: who submits it, where it runs, how long it runs. */
  record Work(String tenant, String pool, int durationMs) { }

  // ------------------------------------------------------------------ run

  private void run() throws Exception {
    log("starting server (ephemeral embedded PostgreSQL)");
    server = TestServer.start(Map.of(ConfigSchema.DB_POOL_SIZE, opt.dbPool, ConfigSchema.SCHED_INFLIGHT, opt.inflight,
        ConfigSchema.QUOTA_CPU, 10_000_000, ConfigSchema.QUOTA_MEMORY, 100_000_000,
        ConfigSchema.QUOTA_CONCURRENT, 1_000_000, ConfigSchema.QUOTA_QUEUED, 10_000_000,
        // "durable" means it: every commit (Hodei's and the baseline's) is flushed to disk before it is acknowledged
        ConfigSchema.DB_EMBEDDED_DURABLE, true,
        // TestServer turns the token cache off for tests; the benchmark runs with the server default
        ConfigSchema.TOKEN_CACHE_SECONDS, 5));
    http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(server.port())
        .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(opt.concurrency));
    Fixtures fx = new Fixtures(server);
    for (int t = 0; t < opt.tenants; t++) {
      String id = "bench-t" + t;
      int weight = t % 4 + 1;
      weights.put(id, weight);
      tokens.put(id, fx.tenant(id, null, weight, "submitter"));
    }
    for (int p = 0; p < opt.pools; p++) fx.pool(Fixtures.simulatedPool("bench-p" + p, opt.workers, 100), opt.workers);
    List<Work> work = workload();

    if (opt.warmupJobs > 0) {
      // a server runs warm: JIT compilation of the whole request path otherwise lands in the first measured run
      // (the baseline's few statements warm up within its own run). Same shape of workload, figures discarded. One
      // round is not enough: code compiled in the single phase was deoptimised by the batch and baseline phases
      // (other branches, other types), and recompiling it took about 40% of this JVM's CPU in the measured run.
      List<Work> warm = new ArrayList<>();
      for (int i = 0; i < opt.warmupJobs; i++) warm.add(work.get(i % work.size()));
      for (int round = 1; round <= opt.warmupRounds; round++) {
        hodei("warmup_single", warm, false);
        hodei("warmup_batch", warm, true);
        baseline("warmup_baseline", warm, server.server().database().pool(), 1);
      }
    }
    if (!opt.runs.equals("single,batch,baseline")) {
      // a partial run (for profiling one phase): its figures only, no ratios and no results file
      List<String> selected = List.of(opt.runs.split(","));
      if (selected.contains("single")) System.out.println(hodei("hodei_single", work, false).encodePrettily());
      if (selected.contains("batch")) System.out.println(hodei("hodei_batch", work, true).encodePrettily());
      if (selected.contains("baseline")) {
        System.out.println(baseline("baseline_single_insert", work, server.server().database().pool(), 1)
            .encodePrettily());
      }
      return;
    }
    JsonObject single = hodei("hodei_single", work, false);
    // a batch phase accepts its jobs in well under a second, so one pause (a collection, the job table's statistics
    // refresh) moves its figure by 2x: it and the single-insert baseline it is judged against run several times,
    // and the run with the median accepted jobs/s stands for each
    JsonObject batch = median(() -> hodei("hodei_batch", work, true));
    Pool db = server.server().database().pool();
    JsonObject baseSingle = median(() -> baseline("baseline_single_insert", work, db, 1));
    JsonObject baseMulti = baseline("baseline_multi_row_insert", work, db, opt.batch);

    JsonObject ratios = new JsonObject()
        .put("single_vs_baseline", ratio(single, baseSingle))
        .put("batch_vs_baseline", ratio(batch, baseSingle))
        .put("batch_vs_baseline_multi_row", ratio(batch, baseMulti))
        .put("placements_single_vs_baseline", ratio(single, baseSingle, "placements_per_s"))
        .put("placements_batch_vs_baseline", ratio(batch, baseSingle, "placements_per_s"))
        // the other reading of "the baseline loop's throughput": jobs through its claim/complete loop per second
        .put("single_vs_baseline_loop", Math.round(single.getDouble("accepted_per_s")
            / baseSingle.getDouble("completions_per_s") * 100) / 100.0)
        .put("batch_vs_baseline_loop", Math.round(batch.getDouble("accepted_per_s")
            / baseSingle.getDouble("completions_per_s") * 100) / 100.0);
    JsonObject targets = new JsonObject()
        .put("durable_single_ge_0.8x", ratios.getDouble("single_vs_baseline") >= 0.8)
        .put("durable_batch_ge_3x", ratios.getDouble("batch_vs_baseline") >= 3.0)
        .put("fair_share_error_lt_5pct", fairTarget(single, batch))
        .put("api_p95_lt_200ms", single.getDouble("api_p95_ms") < 200);
    JsonObject result = new JsonObject().put("at", Instant.now().toString()).put("options", opt.json())
        .put("machine", new JsonObject().put("cores", Runtime.getRuntime().availableProcessors())
            .put("java", System.getProperty("java.version")).put("os", System.getProperty("os.name")))
        .put("runs", new JsonArray().add(single).add(batch).add(baseSingle).add(baseMulti))
        .put("ratios", ratios).put("targets", targets);
    print(result);
    BenchSupport.writeResults(opt.out, "scheduler", result);
  }

  /**
   * Runs a phase {@code --repeats} times; answers the run with the median accepted jobs/s, with every run's figure
   * in {@code accepted_per_s_repeats}.
   */
  private JsonObject median(java.util.function.Supplier<JsonObject> phase) {
    List<JsonObject> runs = new ArrayList<>();
    for (int i = 0; i < Math.max(1, opt.repeats); i++) runs.add(phase.get());
    JsonArray all = new JsonArray(runs.stream().map(r -> r.getDouble("accepted_per_s")).toList());
    runs.sort(java.util.Comparator.comparingDouble(r -> r.getDouble("accepted_per_s")));
    return runs.get(runs.size() / 2).copy().put("accepted_per_s_repeats", all);
  }

  /** Judged on the runs that reached steady state (a run whose submissions never outpace placement has no backlog). */
  private static boolean fairTarget(JsonObject... runs) {
    boolean judged = false;
    for (JsonObject run : runs) {
      if (run.getInteger("fair_share_samples") == 0) continue;
      judged = true;
      if (!(run.getDouble("fair_share_error_mean") < 0.05)) return false;
    }
    return judged;
  }

  private List<Work> workload() {
    Random random = new Random(7);
    List<String> tenantIds = new ArrayList<>(tokens.keySet());
    List<Work> work = new ArrayList<>();
    // every tenant's jobs rotate over every pool: with 20 tenants on 4 pools, i % pools would bind each tenant to
    // one pool, and weighted shares across the cluster could not be reached whatever the scheduler did
    for (int i = 0; i < opt.jobs; i++) {
      work.add(new Work(tenantIds.get(i % tenantIds.size()), "bench-p" + (i / tenantIds.size() % opt.pools),
          opt.minMs + random.nextInt(opt.maxMs - opt.minMs + 1)));
    }
    return work;
  }

  // ------------------------------------------------------------------ hodei through REST

  private JsonObject hodei(String name, List<Work> work, boolean batched) {
    // 64 batches of 100 in flight are 6,400 jobs in one go: past the server's request timeout on this machine
    int lanes = batched ? opt.batchConcurrency : opt.concurrency;
    log(name + ": submitting " + work.size() + " jobs, " + lanes + " concurrent clients"
        + (batched ? ", batches of " + opt.batch : ""));
    List<List<Work>> requests = new ArrayList<>();
    if (batched) {
      Map<String, List<Work>> byTenant = new LinkedHashMap<>();
      for (Work w : work) byTenant.computeIfAbsent(w.tenant, t -> new ArrayList<>()).add(w);
      // interleave tenants so every tenant is backlogged from the start, as with single submits
      List<List<List<Work>>> chunks = new ArrayList<>();
      for (List<Work> list : byTenant.values()) {
        List<List<Work>> c = new ArrayList<>();
        for (int i = 0; i < list.size(); i += opt.batch) c.add(list.subList(i, Math.min(list.size(), i + opt.batch)));
        chunks.add(c);
      }
      for (int round = 0; ; round++) {
        boolean any = false;
        for (List<List<Work>> c : chunks) {
          if (round < c.size()) {
            requests.add(c.get(round));
            any = true;
          }
        }
        if (!any) break;
      }
    } else {
      for (Work w : work) requests.add(List.of(w));
    }

    // the client shares the machine's 2 cores with the server: request bodies are encoded before the clock starts,
    // and job ids are read from the replies without parsing them whole
    List<Buffer> bodies = new ArrayList<>(requests.size());
    for (List<Work> req : requests) {
      bodies.add((batched ? new JsonObject().put("jobs", new JsonArray(req.stream().map(this::spec).toList()))
          : spec(req.get(0))).toBuffer());
    }
    Set<String> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    AtomicInteger failures = new AtomicInteger();
    List<JsonObject> samples = new ArrayList<>();
    AtomicLong sampling = new AtomicLong(vertx.setPeriodic(250, t -> sample(samples)));

    DbWatch watch = new DbWatch();
    Map<String, Double> decisionsBefore = decisions();
    Map<String, Long> cpuBefore = threadCpu();
    double[] procBefore = processCpu();
    Map<Long, Double> pgBefore = postgresCpu();
    profiler(name, "start");
    long start = System.nanoTime();
    drive(requests.size(), lanes, i -> {
      List<Work> req = requests.get(i);
      long sent = System.nanoTime();
      Future<HttpResponse<Buffer>> response = http.post(batched ? "/api/v1/jobs:batch" : "/api/v1/jobs")
          .bearerTokenAuthentication(tokens.get(req.get(0).tenant)).putHeader("Content-Type", "application/json")
          .sendBuffer(bodies.get(i));
      return response.map(r -> {
        latencies.add(System.nanoTime() - sent);
        if (r.statusCode() != 201) {
          if (failures.getAndIncrement() < 5) log("submit answered " + r.statusCode() + ": " + r.bodyAsString());
          return null;
        }
        int found = jobIds(r.bodyAsString(), ids);
        if (found != req.size() && failures.getAndIncrement() < 5) {
          log("submit answered " + found + " job ids for " + req.size() + " jobs: " + r.bodyAsString());
        }
        return null;
      });
    });
    double submitSeconds = seconds(start);
    log(name + ": " + ids.size() + " accepted in " + fmt(submitSeconds) + " s; waiting for completion");
    log(name + ": JVM CPU ms by thread during the submissions: " + cpuSince(cpuBefore));
    profiler(name, "stop");
    double[] procAfter = processCpu();
    log(name + String.format(": CPU during the submissions: JVM %.1f s, PostgreSQL %.1f s, wall %.1f s",
        procAfter[0] - procBefore[0], procAfter[1] - procBefore[1], submitSeconds));
    log(name + ": PostgreSQL CPU by process: " + postgresCpuSince(pgBefore));
    waitUntil(() -> admin("/api/v1/queues/status").getJsonArray("tenants").isEmpty(), 600);
    double totalSeconds = seconds(start);
    vertx.cancelTimer(sampling.get());
    JsonObject dbFigures = watch.finish(work.size());
    Map<String, Double> decisionsAfter = decisions();
    double refused = decisionsAfter.getOrDefault("requeue", 0.0) - decisionsBefore.getOrDefault("requeue", 0.0);
    log(name + ": placement attempts refused by the pools (requeue decisions): " + Math.round(refused));

    List<JsonObject> jobs = fetchJobs(ids);
    long[] sched = new long[jobs.size()];
    long[] placement = new long[jobs.size()];
    long firstStart = Long.MAX_VALUE;
    long lastStart = Long.MIN_VALUE;
    int succeeded = 0;
    for (int i = 0; i < jobs.size(); i++) {
      JsonObject j = jobs.get(i);
      if ("succeeded".equals(j.getString("state"))) succeeded++;
      long submitted = millis(j.getString("submitted_at"));
      long started = millis(j.getString("started_at"));
      sched[i] = started - submitted;
      placement[i] = started - millis(j.getString("admitted_at"));
      firstStart = Math.min(firstStart, started);
      lastStart = Math.max(lastStart, started);
    }
    long[] api = latencies.stream().mapToLong(l -> l / 1_000_000).toArray();
    long[] gaps = endToNextStart(jobs);
    double[] fair = fairShareError(samples);
    return new JsonObject().put("name", name).put("jobs", work.size()).put("accepted", ids.size())
        .put("rejected_or_failed_requests", failures.get()).put("succeeded", succeeded)
        .put("submit_seconds", submitSeconds).put("accepted_per_s", ids.size() / submitSeconds)
        .put("drain_seconds", totalSeconds)
        .put("placements_per_s", jobs.size() / Math.max(0.001, (lastStart - firstStart) / 1000.0))
        .put("completions_per_s", jobs.size() / totalSeconds)
        .put("sched_p50_ms", pct(sched, 50)).put("sched_p95_ms", pct(sched, 95)).put("sched_p99_ms", pct(sched, 99))
        .put("placement_p50_ms", pct(placement, 50)).put("placement_p99_ms", pct(placement, 99))
        .put("end_to_next_start_samples", gaps.length)
        .put("end_to_next_start_p50_ms", gaps.length == 0 ? null : pct(gaps, 50))
        .put("end_to_next_start_p99_ms", gaps.length == 0 ? null : pct(gaps, 99))
        .put("api_requests", api.length).put("api_p50_ms", (double) pct(api, 50))
        .put("api_p95_ms", (double) pct(api, 95)).put("api_p99_ms", (double) pct(api, 99))
        .put("fair_share_samples", (int) fair[2]).put("fair_share_error_mean", fair[0])
        .put("fair_share_error_max", fair[1])
        .put("submit_cpu_jvm_s", procAfter[0] - procBefore[0]).put("submit_cpu_postgresql_s", procAfter[1] - procBefore[1])
        .put("placements_refused_per_job", Math.round(refused / work.size() * 1000) / 1000.0)
        .mergeIn(dbFigures);
  }

  /** The server's scheduling decisions so far by type, from its Prometheus text. */
  private Map<String, Double> decisions() {
    HttpResponse<Buffer> r = http.get("/api/v1/metrics").bearerTokenAuthentication(ADMIN).send().await();
    Map<String, Double> counts = new HashMap<>();
    for (io.hodei.support.Prometheus.Sample s : io.hodei.support.Prometheus.parse(r.bodyAsString())) {
      if (s.name().equals("hodei_scheduling_decisions_total")) {
        counts.merge(s.labels().get("decision_type"), s.value(), Double::sum);
      }
    }
    return counts;
  }

  /**
   * Adds the job ids of a submission's reply (a job, or a batch's items) to {@code ids}; returns how many. Every job
   * view's {@code "id"} is its job id (other ids are {@code tenant_id}, {@code pool_id}, ...).
   */
  static int jobIds(String reply, Set<String> ids) {
    int found = 0;
    for (int at = reply.indexOf("\"id\":\""); at >= 0; at = reply.indexOf("\"id\":\"", at)) {
      int from = at + 6;
      int to = reply.indexOf('"', from);
      ids.add(reply.substring(from, to));
      found++;
      at = to;
    }
    return found;
  }

  private JsonObject spec(Work w) {
    return Fixtures.spec(w.pool, "work").put("payload", new JsonObject().put("duration_ms", w.durationMs));
  }

  /** Queue status while saturated; fair share is judged among the tenants that have jobs waiting. */
  private void sample(List<JsonObject> samples) {
    http.get("/api/v1/queues/status").bearerTokenAuthentication(ADMIN).send().onSuccess(r -> {
      if (r.statusCode() == 200) {
        synchronized (samples) {
          samples.add(r.bodyAsJsonObject());
        }
      }
    });
  }

  /**
   * Steady state: the cluster is saturated (at least 90% of the workers running) and at least two tenants wait. Per
   * sample, over the waiting tenants: |actual share normalised - weight normalised|; mean over all such tenant-samples
   * and the worst one.
   */
  private double[] fairShareError(List<JsonObject> samples) {
    int capacity = opt.pools * opt.workers;
    double sum = 0;
    double max = 0;
    int n = 0;
    int used = 0;
    synchronized (samples) {
      for (JsonObject s : samples) {
        List<JsonObject> waiting = new ArrayList<>();
        int running = 0;
        for (Object o : s.getJsonArray("tenants")) {
          JsonObject t = (JsonObject) o;
          running += t.getInteger("running") + t.getInteger("admitted");
          if (t.getInteger("queued") > 0) waiting.add(t);
        }
        if (running < 0.9 * capacity || waiting.size() < 2) continue;
        double actual = waiting.stream().mapToDouble(t -> t.getDouble("actual_share")).sum();
        double weight = waiting.stream().mapToInt(t -> t.getInteger("weight")).sum();
        if (actual <= 0) continue;
        used++;
        for (JsonObject t : waiting) {
          double error = Math.abs(t.getDouble("actual_share") / actual - t.getInteger("weight") / weight);
          sum += error;
          max = Math.max(max, error);
          n++;
        }
      }
    }
    return new double[] {n == 0 ? Double.NaN : sum / n, max, used};
  }

  private List<JsonObject> fetchJobs(Set<String> ids) { return BenchSupport.fetchJobs(http, ids); }

  private JsonObject admin(String path) { return BenchSupport.admin(http, path); }

  // ------------------------------------------------------------------ baseline

  private static final String BASE_CLAIM = "UPDATE bench_job SET state = 'running', started_at = clock_timestamp() "
      + "WHERE id = (SELECT id FROM bench_job WHERE state = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) "
      + "RETURNING id, duration_ms";
  private static final String BASE_DONE = "UPDATE bench_job SET state = 'done', finished_at = clock_timestamp() "
      + "WHERE id = $1";

  /**
   * The same workload as a plain table and claim loop: {@code concurrency} inserters (one row per statement, or
   * {@code rowsPerInsert} rows per multi-row INSERT), and one claim loop per worker of the Hodei run, each running
   * the job for its duration and marking it done. Every statement is its own transaction (durable on commit).
   */
  private JsonObject baseline(String name, List<Work> work, Pool db, int rowsPerInsert) {
    log(name + ": " + work.size() + " rows, " + opt.concurrency + " inserters, " + (opt.pools * opt.workers)
        + " claim loops");
    db.query("DROP TABLE IF EXISTS bench_job").execute().await();
    db.query("CREATE TABLE bench_job (id bigserial PRIMARY KEY, tenant text NOT NULL, state text NOT NULL, "
        + "payload jsonb NOT NULL, duration_ms int NOT NULL, submitted_at timestamptz NOT NULL DEFAULT "
        + "clock_timestamp(), started_at timestamptz, finished_at timestamptz)").execute().await();
    db.query("CREATE INDEX bench_job_queued ON bench_job (id) WHERE state = 'queued'").execute().await();

    List<List<Work>> inserts = new ArrayList<>();
    for (int i = 0; i < work.size(); i += rowsPerInsert) {
      inserts.add(work.subList(i, Math.min(work.size(), i + rowsPerInsert)));
    }
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    AtomicInteger done = new AtomicInteger();
    AtomicLong firstClaim = new AtomicLong(Long.MAX_VALUE);
    AtomicLong lastClaim = new AtomicLong();
    Promise<Void> allDone = Promise.promise();
    int loops = opt.pools * opt.workers;
    DbWatch watch = new DbWatch();
    double[] procBefore = processCpu();
    long start = System.nanoTime();
    for (int w = 0; w < loops; w++) claimLoop(db, work.size(), done, firstClaim, lastClaim, allDone);
    drive(inserts.size(), opt.concurrency, i -> {
      List<Work> rows = inserts.get(i);
      long sent = System.nanoTime();
      return insertRows(db, rows).map(v -> {
        latencies.add(System.nanoTime() - sent);
        return null;
      });
    });
    double insertSeconds = seconds(start);
    double[] procAfter = processCpu();
    allDone.future().await();
    double totalSeconds = seconds(start);
    JsonObject dbFigures = watch.finish(work.size());
    Row p = db.query("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) p50, percentile_cont(0.95) WITHIN "
        + "GROUP (ORDER BY ms) p95, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) p99, count(*) n FROM (SELECT "
        + "extract(epoch FROM started_at - submitted_at) * 1000 ms FROM bench_job) x").execute().await()
        .iterator().next();
    long[] api = latencies.stream().mapToLong(l -> l / 1_000_000).toArray();
    return new JsonObject().put("name", name).put("jobs", work.size()).put("accepted", p.getLong("n").intValue())
        .put("rows_per_insert", rowsPerInsert)
        .put("submit_seconds", insertSeconds).put("accepted_per_s", work.size() / insertSeconds)
        .put("drain_seconds", totalSeconds)
        .put("placements_per_s", work.size() / Math.max(0.001, (lastClaim.get() - firstClaim.get()) / 1e9))
        .put("completions_per_s", work.size() / totalSeconds)
        .put("sched_p50_ms", Math.round(p.getDouble("p50"))).put("sched_p95_ms", Math.round(p.getDouble("p95")))
        .put("sched_p99_ms", Math.round(p.getDouble("p99")))
        .put("api_requests", api.length).put("api_p50_ms", (double) pct(api, 50))
        .put("api_p95_ms", (double) pct(api, 95)).put("api_p99_ms", (double) pct(api, 99))
        .put("submit_cpu_jvm_s", procAfter[0] - procBefore[0]).put("submit_cpu_postgresql_s", procAfter[1] - procBefore[1])
        .mergeIn(dbFigures);
  }

  private Future<Void> insertRows(Pool db, List<Work> rows) {
    if (rows.size() == 1) {
      Work w = rows.get(0);
      return db.preparedQuery("INSERT INTO bench_job (tenant, state, payload, duration_ms) VALUES ($1, 'queued', $2, $3)")
          .execute(Tuple.of(w.tenant, payload(w), w.durationMs)).mapEmpty();
    }
    StringBuilder sql = new StringBuilder("INSERT INTO bench_job (tenant, state, payload, duration_ms) VALUES ");
    Tuple args = Tuple.tuple();
    for (int i = 0; i < rows.size(); i++) {
      Work w = rows.get(i);
      sql.append(i == 0 ? "" : ", ").append("($").append(3 * i + 1).append(", 'queued', $").append(3 * i + 2)
          .append(", $").append(3 * i + 3).append(')');
      args.addString(w.tenant).addValue(payload(w)).addInteger(w.durationMs);
    }
    return db.preparedQuery(sql.toString()).execute(args).mapEmpty();
  }

  private JsonObject payload(Work w) {
    return spec(w).put("tenant_id", w.tenant);
  }

  private void claimLoop(Pool db, int total, AtomicInteger done, AtomicLong first, AtomicLong last,
                         Promise<Void> allDone) {
    if (done.get() >= total) return;
    db.query(BASE_CLAIM).execute().onComplete(ar -> {
      if (ar.failed() || ar.result().size() == 0) {
        vertx.setTimer(5, t -> claimLoop(db, total, done, first, last, allDone));
        return;
      }
      long now = System.nanoTime();
      first.accumulateAndGet(now, Math::min);
      last.accumulateAndGet(now, Math::max);
      Row row = ar.result().iterator().next();
      vertx.setTimer(Math.max(1, row.getInteger("duration_ms")), t -> db.preparedQuery(BASE_DONE)
          .execute(Tuple.of(row.getLong("id"))).onComplete(x -> {
            if (done.incrementAndGet() == total) allDone.tryComplete();
            claimLoop(db, total, done, first, last, allDone);
          }));
    });
  }

  // ------------------------------------------------------------------ database diagnostics

  /** What PostgreSQL did during a phase: commits per job and what active backends were waiting on. */
  private final class DbWatch {
    private final Pool db = server.server().database().pool();
    private final Map<String, Integer> waits = new java.util.concurrent.ConcurrentHashMap<>();
    private final long commitsBefore = commits();
    private final long timer = vertx.setPeriodic(1000, t -> db.query("SELECT CASE WHEN state = 'active' THEN "
        + "coalesce(wait_event_type || ':' || wait_event, 'cpu') ELSE state END w, count(*) n FROM pg_stat_activity "
        + "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1").execute().onSuccess(rows -> rows.forEach(r ->
            waits.merge(r.getString("w"), r.getLong("n").intValue(), Integer::sum))));

    private long commits() {
      return db.query("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").execute()
          .await().iterator().next().getLong(0);
    }

    JsonObject finish(int jobs) {
      vertx.cancelTimer(timer);
      double perJob = Math.round((commits() - commitsBefore) * 10.0 / jobs) / 10.0;
      StringBuilder top = new StringBuilder();
      waits.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(5)
          .forEach(e -> top.append(top.length() == 0 ? "" : ", ").append(e.getKey()).append('=').append(e.getValue()));
      return new JsonObject().put("db_commits_per_job", perJob).put("db_active_backend_samples", top.toString());
    }
  }

  // ------------------------------------------------------------------ helpers

  private void drive(int count, int lanes, Function<Integer, Future<?>> request) {
    BenchSupport.drive(vertx, count, lanes, request);
  }

  private void waitUntil(java.util.function.BooleanSupplier condition, int timeoutSeconds) {
    BenchSupport.waitUntil(condition, timeoutSeconds);
  }

  /**
   * Profiles one phase when {@code -Dbench.profile=<dir>} is set and async-profiler's Java API is on the class path
   * (for looking into a figure; not part of a normal run): CPU samples of the submissions, collapsed stacks by thread.
   */
  private static void profiler(String phase, String action) {
    String dir = System.getProperty("bench.profile");
    if (dir == null || phase.startsWith("warmup")) return;
    try {
      Class<?> c = Class.forName("one.profiler.AsyncProfiler");
      Object p = c.getMethod("getInstance", String.class).invoke(null, System.getProperty("bench.profile.lib"));
      String cmd = action.equals("start") ? "start,event=itimer,interval=1ms,threads"
          : "stop,collapsed,threads,file=" + dir + "/" + phase + ".collapsed";
      c.getMethod("execute", String.class).invoke(p, cmd);
    } catch (ReflectiveOperationException e) {
      log("profiler not available: " + e);
    }
  }

  /** CPU seconds used so far by this JVM (server and client) and by every PostgreSQL process, from /proc. */
  private static double[] processCpu() {
    double jvm = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    return new double[] {jvm, postgresCpu().values().stream().mapToDouble(Double::doubleValue).sum()};
  }

  /** CPU seconds of each PostgreSQL process by pid (utime + stime from /proc/pid/stat). */
  private static Map<Long, Double> postgresCpu() {
    Map<Long, Double> cpu = new HashMap<>();
    java.io.File[] procs = new java.io.File("/proc").listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
    if (procs == null) return cpu;
    for (java.io.File proc : procs) {
      try {
        String stat = Files.readString(proc.toPath().resolve("stat"));
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        if (!comm.startsWith("postgres")) continue;
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        cpu.put(Long.parseLong(proc.getName()), (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0);
      } catch (Exception e) {
        // the process ended meanwhile
      }
    }
    return cpu;
  }

  /** The PostgreSQL processes that used the most CPU since {@code before}, with what each is (its last query). */
  private String postgresCpuSince(Map<Long, Double> before) {
    Map<Long, Double> now = postgresCpu();
    Map<Long, String> what = new HashMap<>();
    server.server().database().pool().query("SELECT pid, backend_type, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) q "
        + "FROM pg_stat_activity").execute().await().forEach(r -> what.put(r.getLong(0).longValue(),
            r.getString(1) + (r.getString(2) == null || r.getString(2).isEmpty() ? "" : " [" + r.getString(2) + "]")));
    return now.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
        .filter(e -> e.getValue() >= 0.2).sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).limit(6)
        .map(e -> String.format("%.1f s %s", e.getValue(), what.getOrDefault(e.getKey(), "pid " + e.getKey())))
        .reduce((a, b) -> a + "; " + b).orElse("-");
  }

  /** CPU time of every live thread, ms, by thread name. */
  private static Map<String, Long> threadCpu() {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<String, Long> cpu = new HashMap<>();
    for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (t == null) continue;
      long ns = mx.getThreadCpuTime(t.getThreadId());
      if (ns > 0) cpu.merge(t.getThreadName(), ns / 1_000_000, Long::sum);
    }
    return cpu;
  }

  /** The threads that used the most CPU since {@code before} (the server's and this client's share one JVM). */
  private static String cpuSince(Map<String, Long> before) {
    Map<String, Long> now = threadCpu();
    return now.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() > 50).sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
        .map(e -> e.getKey() + "=" + e.getValue()).reduce((a, b) -> a + ", " + b).orElse("-");
  }

  private static long millis(String iso) { return BenchSupport.millis(iso); }

  private static double seconds(long startNanos) { return BenchSupport.seconds(startNanos); }

  private static long pct(long[] values, int p) { return BenchSupport.pct(values, p); }

  private static double ratio(JsonObject a, JsonObject b) { return ratio(a, b, "accepted_per_s"); }

  private static double ratio(JsonObject a, JsonObject b, String field) {
    return Math.round(a.getDouble(field) / b.getDouble(field) * 100) / 100.0;
  }

  private static String fmt(double v) { return String.format("%.1f", v); }

  /**
   * For each worker, the time from one job's end to the start of the next job on it, counted only where that next
   * job had been submitted before the first ended (a job was waiting: the worker sat idle for the scheduler).
   */
  static long[] endToNextStart(List<JsonObject> jobs) {
    Map<String, List<JsonObject>> byWorker = new java.util.HashMap<>();
    for (JsonObject j : jobs) {
      if (j.getString("worker_id") == null || j.getString("started_at") == null || j.getString("finished_at") == null) {
        continue;
      }
      byWorker.computeIfAbsent(j.getString("worker_id"), w -> new ArrayList<>()).add(j);
    }
    List<Long> gaps = new ArrayList<>();
    for (List<JsonObject> run : byWorker.values()) {
      run.sort(java.util.Comparator.comparingLong(j -> millis(j.getString("started_at"))));
      for (int i = 1; i < run.size(); i++) {
        long ended = millis(run.get(i - 1).getString("finished_at"));
        JsonObject next = run.get(i);
        if (millis(next.getString("submitted_at")) < ended) gaps.add(millis(next.getString("started_at")) - ended);
      }
    }
    return gaps.stream().mapToLong(Long::longValue).toArray();
  }

  private static void log(String message) { System.out.println("[bench] " + message); }

  private void print(JsonObject result) {
    JsonArray runs = result.getJsonArray("runs");
    String[][] rows = {
        {"accepted (durable) jobs/s", "accepted_per_s"},
        {"submit wall time s", "submit_seconds"},
        {"placements (jobs started)/s", "placements_per_s"},
        {"completions/s (submit start->drained)", "completions_per_s"},
        {"drain wall time s", "drain_seconds"},
        {"sched latency p50 ms (submit->start)", "sched_p50_ms"},
        {"sched latency p95 ms", "sched_p95_ms"},
        {"sched latency p99 ms", "sched_p99_ms"},
        {"placement p50 ms (admitted->started)", "placement_p50_ms"},
        {"placement p99 ms", "placement_p99_ms"},
        {"end -> next start p50 ms (same worker, job waiting)", "end_to_next_start_p50_ms"},
        {"end -> next start p99 ms", "end_to_next_start_p99_ms"},
        {"API requests", "api_requests"},
        {"API/insert p50 ms (client side)", "api_p50_ms"},
        {"API/insert p95 ms", "api_p95_ms"},
        {"API/insert p99 ms", "api_p99_ms"},
        {"fair-share error mean (steady state)", "fair_share_error_mean"},
        {"fair-share error max", "fair_share_error_max"},
        {"fair-share samples at steady state", "fair_share_samples"},
        {"PostgreSQL commits per job", "db_commits_per_job"},
        {"placement attempts refused per job", "placements_refused_per_job"},
        {"CPU s during submissions: this JVM", "submit_cpu_jvm_s"},
        {"CPU s during submissions: PostgreSQL", "submit_cpu_postgresql_s"}};
    StringBuilder out = new StringBuilder("\n");
    out.append(String.format("%-40s", "metric"));
    for (Object r : runs) out.append(String.format("%16s", shortName(((JsonObject) r).getString("name"))));
    out.append('\n');
    for (String[] row : rows) {
      out.append(String.format("%-40s", row[0]));
      for (Object r : runs) {
        Object v = ((JsonObject) r).getValue(row[1]);
        out.append(String.format("%16s", v == null ? "-" : v instanceof Double d ? String.format("%.3f", d)
            .replaceAll("\\.?0+$", "") : v.toString()));
      }
      out.append('\n');
    }
    for (Object r : runs) {
      JsonArray repeats = ((JsonObject) r).getJsonArray("accepted_per_s_repeats");
      if (repeats == null) continue;
      out.append(String.format("accepted jobs/s of each run, %s (the median run's figures above): %s%n",
          shortName(((JsonObject) r).getString("name")), repeats.stream()
              .map(v -> String.valueOf(Math.round(((Number) v).doubleValue()))).toList()));
    }
    for (Object r : runs) {
      out.append(String.format("PostgreSQL active backends (1 s samples), %s: %s%n",
          shortName(((JsonObject) r).getString("name")), ((JsonObject) r).getString("db_active_backend_samples")));
    }
    JsonObject ratios = result.getJsonObject("ratios");
    JsonObject targets = result.getJsonObject("targets");
    JsonObject single = runs.getJsonObject(0);
    JsonObject batch = runs.getJsonObject(1);
    out.append('\n').append(String.format("%-58s %10s %10s %6s%n", "target", "measured", "target", ""));
    out.append(line("durable jobs/s, single submits / baseline", ratios.getDouble("single_vs_baseline") + "x",
        ">= 0.8x", targets.getBoolean("durable_single_ge_0.8x")));
    out.append(line("durable jobs/s, batch submits / baseline", ratios.getDouble("batch_vs_baseline") + "x",
        ">= 3x", targets.getBoolean("durable_batch_ge_3x")));
    out.append(line("fair-share error mean (single / batch; NaN = no backlog)", String.format("%.3f/%.3f",
        single.getDouble("fair_share_error_mean"), batch.getDouble("fair_share_error_mean")), "< 0.05",
        targets.getBoolean("fair_share_error_lt_5pct")));
    out.append(line("API p95 ms, single submits", fmt(single.getDouble("api_p95_ms")), "< 200",
        targets.getBoolean("api_p95_lt_200ms")));
    out.append(String.format("%-58s %10s%n", "API p95 ms, batch submits of " + opt.batch + " (info)",
        fmt(batch.getDouble("api_p95_ms"))));
    out.append(String.format("%-58s %10s%n", "batch / baseline multi-row insert (info)",
        ratios.getDouble("batch_vs_baseline_multi_row") + "x"));
    out.append(String.format("%-58s %10s%n", "accepted/s single / baseline loop completions/s (info)",
        ratios.getDouble("single_vs_baseline_loop") + "x"));
    out.append(String.format("%-58s %10s%n", "accepted/s batch / baseline loop completions/s (info)",
        ratios.getDouble("batch_vs_baseline_loop") + "x"));
    out.append(String.format("%-58s %10s%n", "placements/s single / baseline claims/s (info)",
        ratios.getDouble("placements_single_vs_baseline") + "x"));
    out.append(String.format("%-58s %10s%n", "placements/s batch / baseline claims/s (info)",
        ratios.getDouble("placements_batch_vs_baseline") + "x"));
    System.out.println(out);
  }

  private static String line(String name, String measured, String target, boolean pass) {
    return String.format("%-58s %10s %10s %6s%n", name, measured, target, pass ? "PASS" : "FAIL");
  }

  private static String shortName(String name) {
    return switch (name) {
      case "hodei_single" -> "hodei single";
      case "hodei_batch" -> "hodei batch";
      case "baseline_single_insert" -> "baseline 1-row";
      default -> "baseline multi";
    };
  }

  private void close() {
    try {
      if (server != null) server.close();
    } finally {
      vertx.close().await();
    }
  }
}
