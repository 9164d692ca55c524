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
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The throughput benchmark (not a test: run it with {@code bench/throughput-bench.sh}): what a job costs end to end
 * and in the database. No-op jobs (0 ms on a simulated pool with enough workers) go through Hodei's REST API as single
 * submits and as batches, each from several clients, until every job has ended; then the same jobs go through a
 * graphile-worker-style queue written here on the same PostgreSQL: one statement inserts a batch, workers claim up to
 * {@code --claim} jobs per {@code UPDATE ... WHERE id = ANY(ARRAY(SELECT ... FOR UPDATE SKIP LOCKED LIMIT n))
 * RETURNING}, and one {@code DELETE ... WHERE id = ANY($1)} per tick completes every job run since the last tick. Every phase reports
 * end-to-end jobs/s, submit -> start latency, CPU per job (this JVM and PostgreSQL's processes, from /proc), WAL bytes
 * per job ({@code pg_current_wal_lsn}) and rows written per job ({@code pg_stat_user_tables}).
 */
public final class ThroughputBench {
  private static final String ADMIN = TestServer.ADMIN_TOKEN;
  private static final String POOL = "tp-pool";

  private final Options opt;
  private final Vertx vertx = Vertx.vertx();
  private WebClient http;
  private TestServer server;
  private Pool db;
  /** The embedded server's superuser (CHECKPOINT between phases). */
  private Pool superuser;
  private String token;
  /** The bench client's event-loop thread (its CPU is the client's, the rest of this JVM's is the server's). */
  private long clientThread = -1;

  private ThroughputBench(Options opt) { this.opt = opt; }

  public static void main(String[] args) throws Exception {
    ThroughputBench bench = new ThroughputBench(Options.parse(args));
    try {
      bench.run();
    } finally {
      bench.close();
    }
    System.exit(0);
  }

  record Options(int jobs, int clients, int batch, int workers, int claim, int warmupJobs, int statsWaitMs,
                 String runs, String out) {
    static Options parse(String[] args) {
      Map<String, String> a = new HashMap<>();
      for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
      Function<String, Integer> n = k -> Integer.parseInt(a.getOrDefault(k, defaults().get(k)));
      return new Options(n.apply("jobs"), n.apply("clients"), n.apply("batch"), n.apply("workers"), n.apply("claim"),
          n.apply("warmup-jobs"), n.apply("stats-wait-ms"), a.getOrDefault("runs", "single,batch,base-single,base-batch"),
          a.getOrDefault("out", "bench/results"));
    }

    static Map<String, String> defaults() {
      return Map.of("jobs", "4000", "clients", "8", "batch", "100", "workers", "64", "claim", "500",
          "warmup-jobs", "20000", "stats-wait-ms", "11000");
    }

    JsonObject json() {
      return new JsonObject().put("jobs", jobs).put("clients", clients).put("batch", batch).put("workers", workers)
          .put("baseline_claim", claim).put("warmup_jobs", warmupJobs)
          .put("postgresql", "embedded, fsync=on, synchronous_commit=on, full_page_writes=on");
    }
  }

  // ------------------------------------------------------------------ run

  private void run() throws Exception {
    log("starting server (ephemeral embedded PostgreSQL)");
    server = TestServer.start(Map.of(ConfigSchema.QUOTA_CPU, 10_000_000, ConfigSchema.QUOTA_MEMORY, 100_000_000,
        ConfigSchema.QUOTA_CONCURRENT, 1_000_000, ConfigSchema.QUOTA_QUEUED, 10_000_000,
        ConfigSchema.DB_EMBEDDED_DURABLE, true, ConfigSchema.TOKEN_CACHE_SECONDS, 5));
    db = server.server().database().pool();
    io.hodei.store.EmbeddedPostmaster pg = server.server().database().embeddedPostmaster();
    superuser = io.vertx.pgclient.PgBuilder.pool().connectingTo(new io.vertx.pgclient.PgConnectOptions()
        .setHost("127.0.0.1").setPort(pg.port()).setDatabase("hodei").setUser("postgres")
        .setPassword(Files.readString(pg.dataDir().resolve("hodei-superuser.secret")).trim())).using(vertx).build();
    superuser.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect").execute().await();
    http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(server.port())
        .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(opt.clients));
    Fixtures fx = new Fixtures(server);
    token = fx.tenant("tp-tenant", null, 1, "submitter");
    fx.pool(Fixtures.simulatedPool(POOL, opt.workers, 0), opt.workers);
    Promise<Long> thread = Promise.promise();
    vertx.runOnContext(v -> thread.complete(Thread.currentThread().getId()));
    clientThread = thread.future().await();
    JsonObject settings = new JsonObject();
    db.query("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', "
        + "'full_page_writes', 'server_version')").execute().await().forEach(r -> settings.put(r.getString(0),
            r.getString(1)));
    log("PostgreSQL settings: " + settings.encode());
    createBaseline();

    List<String> runs = List.of(opt.runs.split(","));
    JsonArray results = new JsonArray();
    // each phase right after warm-up rounds of its own kind (figures discarded)
    if (runs.contains("single")) {
      warmUp("single", () -> hodei("warmup_single", opt.warmupJobs, false, false));
      results.add(hodei("hodei_single", opt.jobs, false, true));
    }
    if (runs.contains("batch")) {
      warmUp("batch", () -> hodei("warmup_batch", opt.warmupJobs, true, false));
      results.add(hodei("hodei_batch", opt.jobs, true, true));
    }
    if (runs.contains("base-single")) {
      warmUp("baseline single", () -> baseline("warmup_base_single", opt.warmupJobs, 1, false));
      results.add(baseline("baseline_single", opt.jobs, 1, true));
    }
    if (runs.contains("base-batch")) {
      warmUp("baseline batch", () -> baseline("warmup_base_batch", opt.warmupJobs, opt.batch, false));
      results.add(baseline("baseline_batch", opt.jobs, opt.batch, true));
    }
    JsonObject result = new JsonObject().put("at", Instant.now().toString()).put("options", opt.json())
        .put("postgresql", settings).put("load_average", loadAverage())
        .put("machine", new JsonObject().put("cores", Runtime.getRuntime().availableProcessors())
            .put("java", System.getProperty("java.version")))
        .put("runs", results);
    print(results);
    BenchSupport.writeResults(opt.out, "throughput", result);
  }

  /**
   * Warm-up rounds of one kind until the JIT compilers spent under 5% of a round's wall time or 100 ms (at most 8
   * rounds): the request path of a kind reaches its final compiled form only after thousands of requests of that kind
   * (a batch request's methods run 100 times fewer than a single submit's), and a kind run before deoptimizes some of
   * it. Without this, the measured phase pays for compiling on the same two cores.
   */
  private void warmUp(String kind, Runnable round) {
    if (opt.warmupJobs <= 0) return;
    for (int i = 1; i <= 8; i++) {
      long jit = jitMillis();
      long start = System.nanoTime();
      round.run();
      long compiling = jitMillis() - jit;
      double wall = (System.nanoTime() - start) / 1e6;
      log(kind + " warm-up round " + i + ": JIT compiling " + compiling + " ms in " + Math.round(wall) + " ms");
      if (compiling < Math.max(0.05 * wall, 100)) break;
    }
    // the backends report the warm-up's table counters within this wait, not inside the measured phase
    sleep(opt.statsWaitMs);
  }

  // ------------------------------------------------------------------ Hodei through REST

  private JsonObject hodei(String name, int jobs, boolean batched, boolean measured) {
    JsonObject spec = Fixtures.spec(POOL, "noop").put("payload", new JsonObject().put("duration_ms", 0)
        .put("output", ""));
    List<Buffer> bodies = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    for (int i = 0; i < jobs; i += batched ? opt.batch : 1) {
      int n = batched ? Math.min(opt.batch, jobs - i) : 1;
      JsonArray items = new JsonArray();
      for (int k = 0; k < n; k++) items.add(spec.copy());
      bodies.add((batched ? new JsonObject().put("jobs", items) : spec).toBuffer());
      sizes.add(n);
    }
    log(name + ": " + jobs + " jobs, " + opt.clients + " clients" + (batched ? ", batches of " + opt.batch : ""));
    Set<String> ids = ConcurrentHashMap.newKeySet();
    AtomicInteger failures = new AtomicInteger();
    Cost cost = measured ? new Cost() : null;
    long startMillis = System.currentTimeMillis();
    long start = System.nanoTime();
    drive(bodies.size(), opt.clients, i -> http.post(batched ? "/api/v1/jobs:batch" : "/api/v1/jobs")
        .bearerTokenAuthentication(token).putHeader("Content-Type", "application/json").sendBuffer(bodies.get(i))
        .map(r -> {
          if (r.statusCode() != 201 || SchedulerBench.jobIds(r.bodyAsString(), ids) != sizes.get(i)) {
            if (failures.getAndIncrement() < 5) log("submit answered " + r.statusCode() + ": " + r.bodyAsString());
          }
          return null;
        }));
    double submitSeconds = seconds(start);
    waitUntil(() -> admin("/api/v1/queues/status").getJsonArray("tenants").isEmpty(), 600);
    // the cost ledger's rows for these jobs belong to their cost: wait for its sweep to reach the last end
    waitUntil(() -> db.query("SELECT coalesce((SELECT last_event_id FROM cost_job_cursor), 0) >= "
        + "coalesce((SELECT max(last_seq) FROM job_event_log), 0)").execute().await().iterator().next()
        .getBoolean(0), 60);
    if (!measured) return new JsonObject();
    JsonObject costs = cost.finish(jobs);
    List<JsonObject> views = fetchJobs(ids);
    long[] latency = new long[views.size()];
    long lastEnd = 0;
    int succeeded = 0;
    for (int i = 0; i < views.size(); i++) {
      JsonObject j = views.get(i);
      latency[i] = millis(j.getString("started_at")) - millis(j.getString("submitted_at"));
      lastEnd = Math.max(lastEnd, millis(j.getString("finished_at")));
      if ("succeeded".equals(j.getString("state"))) succeeded++;
    }
    double e2e = (lastEnd - startMillis) / 1000.0;
    return new JsonObject().put("name", name).put("jobs", jobs).put("accepted", ids.size())
        .put("succeeded", succeeded).put("failed_requests", failures.get())
        .put("submit_per_s", ids.size() / submitSeconds).put("end_to_end_seconds", e2e)
        .put("end_to_end_per_s", succeeded / e2e).put("start_p50_ms", (double) pct(latency, 50))
        .put("start_p99_ms", (double) pct(latency, 99)).mergeIn(costs);
  }

  private List<JsonObject> fetchJobs(Set<String> ids) { return BenchSupport.fetchJobs(http, ids); }

  private JsonObject admin(String path) { return BenchSupport.admin(http, path); }

  // ------------------------------------------------------------------ graphile-worker-style baseline

  // The shape of graphile-worker's jobs table: a job is available while unlocked; the claim takes the oldest
  // available jobs, many per statement, and a completed job is deleted.
  // The claimed ids are an array the update looks up by key: with `id IN (SELECT ...)` the planner, once autovacuum
  // had analyzed the table mid-phase, switched to a hash semi-join over a sequential scan of the whole table (dead
  // rows included) for every claim, and the phase ran at a few hundred jobs/s.
  private static final String BASE_CLAIM = "UPDATE bench_gw_job SET locked_at = clock_timestamp(), locked_by = $1, "
      + "attempts = attempts + 1 WHERE id = ANY(ARRAY(SELECT id FROM bench_gw_job WHERE locked_at IS NULL "
      + "AND run_at <= now() ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING id, "
      + "(extract(epoch FROM locked_at - created_at) * 1000)::float8 AS waited_ms";
  private static final String BASE_COMPLETE = "DELETE FROM bench_gw_job WHERE id = ANY($1)";
  private static final String BASE_INSERT_ONE = "INSERT INTO bench_gw_job (task, payload) VALUES ($1, $2::json)";
  private static final String BASE_INSERT_MANY = "INSERT INTO bench_gw_job (task, payload) SELECT task, payload "
      + "FROM json_to_recordset($1::json) AS x(task text, payload json)";

  private void createBaseline() {
    db.query("DROP TABLE IF EXISTS bench_gw_job").execute().await();
    db.query("CREATE TABLE bench_gw_job (id bigserial PRIMARY KEY, task text NOT NULL, payload json NOT NULL, "
        + "run_at timestamptz NOT NULL DEFAULT now(), attempts int NOT NULL DEFAULT 0, max_attempts int NOT NULL "
        + "DEFAULT 25, locked_at timestamptz, locked_by text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        .execute().await();
    db.query("CREATE INDEX bench_gw_job_available ON bench_gw_job (run_at, id) WHERE locked_at IS NULL")
        .execute().await();
  }

  private JsonObject baseline(String name, int jobs, int rowsPerInsert, boolean measured) {
    log(name + ": " + jobs + " jobs, " + opt.clients + " inserters, " + rowsPerInsert + " per INSERT, "
        + "claims of up to " + opt.claim + ", batched completion");
    JsonObject payload = Fixtures.spec(POOL, "noop").put("payload", new JsonObject().put("duration_ms", 0)
        .put("output", ""));
    ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
    AtomicInteger done = new AtomicInteger();
    Promise<Void> allDone = Promise.promise();
    AtomicLong claimNanos = new AtomicLong();
    AtomicInteger claims = new AtomicInteger();
    // the database pool answers on its own event loops (one per connection), so the two claim loops' callbacks run on
    // different threads: what they share is thread-safe, and one completion runs at a time
    ConcurrentLinkedQueue<Long> completed = new ConcurrentLinkedQueue<>();
    java.util.concurrent.atomic.AtomicBoolean completing = new java.util.concurrent.atomic.AtomicBoolean();
    Cost cost = measured ? new Cost() : null;
    long start = System.nanoTime();
    vertx.runOnContext(v -> {
      Runnable[] flush = new Runnable[1];
      flush[0] = () -> {
        if (completed.isEmpty() || !completing.compareAndSet(false, true)) return;
        List<Long> ids = new ArrayList<>();
        for (Long id = completed.poll(); id != null; id = completed.poll()) ids.add(id);
        if (ids.isEmpty()) {
          completing.set(false);
          flush[0].run(); // an id added after the poll and before the flag cleared
          return;
        }
        Long[] batch = ids.toArray(new Long[0]);
        db.preparedQuery(BASE_COMPLETE).execute(Tuple.of(batch)).onComplete(ar -> {
          if (ar.failed()) log("complete failed: " + ar.cause());
          if (done.addAndGet(batch.length) >= jobs) allDone.tryComplete();
          completing.set(false);
          flush[0].run();
        });
      };
      for (int w = 0; w < 2; w++) {
        String worker = "worker-" + w;
        Runnable[] claim = new Runnable[1];
        claim[0] = () -> {
          if (allDone.future().isComplete()) return;
          long sent = System.nanoTime();
          db.preparedQuery(BASE_CLAIM).execute(Tuple.of(worker, opt.claim)).onComplete(ar -> {
            claimNanos.addAndGet(System.nanoTime() - sent);
            claims.incrementAndGet();
            if (ar.failed() || ar.result().size() == 0) {
              if (ar.failed()) log("claim failed: " + ar.cause());
              vertx.setTimer(2, t -> claim[0].run());
              return;
            }
            for (Row r : ar.result()) {
              latencies.add(r.getDouble("waited_ms"));
              completed.add(r.getLong("id")); // the job itself is a no-op
            }
            flush[0].run();
            claim[0].run();
          });
        };
        claim[0].run();
      }
    });
    List<Object> bodies = new ArrayList<>();
    for (int i = 0; i < jobs; i += rowsPerInsert) {
      int n = Math.min(rowsPerInsert, jobs - i);
      if (n == 1) {
        bodies.add(payload);
      } else {
        JsonArray rows = new JsonArray();
        for (int k = 0; k < n; k++) rows.add(new JsonObject().put("task", "noop").put("payload", payload));
        bodies.add(rows);
      }
    }
    drive(bodies.size(), opt.clients, i -> rowsPerInsert == 1
        ? db.preparedQuery(BASE_INSERT_ONE).execute(Tuple.of("noop", bodies.get(i)))
        : db.preparedQuery(BASE_INSERT_MANY).execute(Tuple.of(bodies.get(i))));
    double submitSeconds = seconds(start);
    allDone.future().await();
    double e2e = seconds(start);
    log(name + ": " + claims.get() + " claims, " + Math.round(claimNanos.get() / 1e6) + " ms in claims");
    if (!measured) return new JsonObject();
    JsonObject costs = cost.finish(jobs);
    double[] waited = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new JsonObject().put("name", name).put("jobs", jobs).put("accepted", jobs).put("succeeded", done.get())
        .put("submit_per_s", jobs / submitSeconds).put("end_to_end_seconds", e2e).put("end_to_end_per_s", jobs / e2e)
        .put("start_p50_ms", (double) Math.round(waited[Math.max(0, (int) Math.ceil(0.5 * waited.length) - 1)]))
        .put("start_p99_ms", (double) Math.round(waited[Math.max(0, (int) Math.ceil(0.99 * waited.length) - 1)]))
        .mergeIn(costs);
  }

  // ------------------------------------------------------------------ what a phase cost

  /** CPU, WAL and rows written from its creation to {@link #finish}. */
  private final class Cost {
    // every phase starts from the same state: no dead rows of an earlier phase for autovacuum to charge to this
    // one, and a fresh checkpoint (the first change of each page after one writes the whole page to the WAL)
    private final boolean settled = settle();
    private final double jvm = jvmCpu();
    private final double client = clientCpu();
    private final long jit = jitMillis();
    private final double pg = postgresCpu();
    private final String lsn = db.query("SELECT pg_current_wal_lsn()::text").execute().await().iterator().next()
        .getString(0);
    private final Map<String, Long> rows = rowsWritten();
    private final long[] walStats = walStats();

    JsonObject finish(int jobs) {
      double jvmNow = jvmCpu();
      double clientNow = clientCpu();
      double pgNow = postgresCpu();
      String lsnNow = db.query("SELECT pg_current_wal_lsn()::text").execute().await().iterator().next().getString(0);
      long wal = db.preparedQuery("SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::bigint")
          .execute(Tuple.of(lsn, lsnNow)).await().iterator().next().getLong(0);
      // backends report their table counters when idle, at most once a second and otherwise after 10 s
      sleep(opt.statsWaitMs);
      Map<String, Long> rowsNow = rowsWritten();
      long[] walNow = walStats();
      long written = 0;
      StringBuilder byTable = new StringBuilder();
      for (Map.Entry<String, Long> e : new java.util.TreeMap<>(rowsNow).entrySet()) {
        long d = e.getValue() - rows.getOrDefault(e.getKey(), 0L);
        if (d == 0) continue;
        if (!e.getKey().endsWith(".hot")) written += d;
        byTable.append(byTable.length() == 0 ? "" : ", ").append(e.getKey()).append('=')
            .append(Math.round(d * 100.0 / jobs) / 100.0);
      }
      double server = (jvmNow - jvm) - (clientNow - client);
      return new JsonObject().put("cpu_ms_per_job_jvm", (jvmNow - jvm) * 1000 / jobs)
          .put("cpu_ms_per_job_server", server * 1000 / jobs)
          .put("cpu_ms_per_job_client_thread", (clientNow - client) * 1000 / jobs)
          .put("jit_ms_per_job", (double) (jitMillis() - jit) / jobs)
          .put("cpu_ms_per_job_postgresql", (pgNow - pg) * 1000 / jobs)
          .put("wal_bytes_per_job", (double) wal / jobs)
          .put("wal_records_per_job", (double) (walNow[0] - walStats[0]) / jobs)
          .put("wal_full_page_images_per_job", (double) (walNow[1] - walStats[1]) / jobs)
          .put("wal_flushes_per_job", (double) (walNow[2] - walStats[2]) / jobs)
          .put("rows_written_per_job", (double) written / jobs)
          .put("rows_written_by_table", byTable.toString())
          .put("wal_bytes_by_relation", walByRelation(lsn, lsnNow, jobs));
    }
  }

  /**
   * WAL bytes per job by relation (a record counts for the first block it changes) and, for records that change
   * no block, by record type; the eight largest (pg_walinspect).
   */
  private String walByRelation(String from, String to, int jobs) {
    StringBuilder out = new StringBuilder();
    superuser.preparedQuery("WITH r AS (SELECT DISTINCT ON (start_lsn) start_lsn, relfilenode, record_length "
        + "FROM pg_get_wal_block_info($1::pg_lsn, $2::pg_lsn) ORDER BY start_lsn, block_id), "
        + "b AS (SELECT coalesce(c.relname, 'other') AS what, sum(record_length) AS bytes FROM r "
        + "LEFT JOIN pg_class c ON c.relfilenode = r.relfilenode GROUP BY 1 UNION ALL "
        + "SELECT resource_manager || '/' || record_type, sum(record_length) FROM "
        + "pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn) WHERE block_ref IS NULL GROUP BY 1) "
        + "SELECT what, bytes FROM b ORDER BY bytes DESC LIMIT 8").execute(Tuple.of(from, to)).await().forEach(r ->
            out.append(out.length() == 0 ? "" : ", ").append(r.getString(0)).append('=')
                .append(Math.round(r.getLong(1).doubleValue() / jobs)));
    return out.toString();
  }

  /**
   * WAL records, full-page images and WAL flushes to disk so far (pg_stat_wal; reported by backends like the table
   * counters). A durable commit waits for a flush; one flush may cover the commits of several backends.
   */
  private long[] walStats() {
    Row r = db.query("SELECT wal_records, wal_fpi, wal_sync FROM pg_stat_wal").execute().await().iterator().next();
    return new long[] {r.getLong(0), r.getLong(1), r.getLong(2)};
  }

  private boolean settle() {
    superuser.query("VACUUM ANALYZE").execute().await();
    superuser.query("CHECKPOINT").execute().await();
    return true;
  }

  /** n_tup_ins, n_tup_upd, n_tup_del by table; HOT updates (counted in n_tup_upd too) as {@code <table>.hot}. */
  private Map<String, Long> rowsWritten() {
    Map<String, Long> rows = new HashMap<>();
    db.query("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd FROM pg_stat_user_tables").execute()
        .await().forEach(r -> {
          rows.put(r.getString(0) + ".ins", r.getLong(1));
          rows.put(r.getString(0) + ".upd", r.getLong(2));
          rows.put(r.getString(0) + ".del", r.getLong(3));
          rows.put(r.getString(0) + ".hot", r.getLong(4));
        });
    return rows;
  }

  /** Time the JIT compilers spent so far (part of the JVM's CPU: with too short a warm-up it dominates it). */
  private static long jitMillis() {
    return java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
  }

  private double clientCpu() {
    long ns = java.lang.management.ManagementFactory.getThreadMXBean().getThreadCpuTime(clientThread);
    return ns < 0 ? 0 : ns / 1e9;
  }

  private static double jvmCpu() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
  }

  /** CPU seconds of every PostgreSQL process (utime + stime from /proc/pid/stat), ended backends excluded. */
  private static double postgresCpu() {
    double sum = 0;
    java.io.File[] procs = new java.io.File("/proc").listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
    if (procs == null) return 0;
    for (java.io.File proc : procs) {
      try {
        String stat = Files.readString(proc.toPath().resolve("stat"));
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        if (!comm.startsWith("postgres")) continue;
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        sum += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
      } catch (Exception e) {
        // the process ended meanwhile
      }
    }
    return sum;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }

  // ------------------------------------------------------------------ helpers

  private void drive(int count, int lanes, Function<Integer, Future<?>> request) {
    BenchSupport.drive(vertx, count, lanes, request);
  }

  private void waitUntil(java.util.function.BooleanSupplier condition, int timeoutSeconds) {
    BenchSupport.waitUntil(condition, timeoutSeconds);
  }

  private static void sleep(long ms) { BenchSupport.sleep(ms); }

  private static long millis(String iso) { return BenchSupport.millis(iso); }

  private static double seconds(long startNanos) { return BenchSupport.seconds(startNanos); }

  private static long pct(long[] values, int p) { return BenchSupport.pct(values, p); }

  private static void log(String message) { System.out.println("[bench] " + message); }

  private void print(JsonArray runs) {
    String[][] rows = {
        {"end-to-end jobs/s", "end_to_end_per_s"},
        {"submit (accepted) jobs/s", "submit_per_s"},
        {"submit -> start p50 ms", "start_p50_ms"},
        {"submit -> start p99 ms", "start_p99_ms"},
        {"CPU ms/job server (JVM - client thread)", "cpu_ms_per_job_server"},
        {"CPU ms/job client thread", "cpu_ms_per_job_client_thread"},
        {"  of the JVM: JIT compiling ms/job", "jit_ms_per_job"},
        {"CPU ms/job PostgreSQL", "cpu_ms_per_job_postgresql"},
        {"WAL bytes/job", "wal_bytes_per_job"},
        {"WAL records/job", "wal_records_per_job"},
        {"WAL full-page images/job", "wal_full_page_images_per_job"},
        {"rows written/job", "rows_written_per_job"},
        {"WAL flushes (fsync)/job", "wal_flushes_per_job"}};
    StringBuilder out = new StringBuilder("\n").append(String.format("%-42s", "metric"));
    for (Object r : runs) out.append(String.format("%17s", ((JsonObject) r).getString("name")));
    out.append('\n');
    for (String[] row : rows) {
      out.append(String.format("%-42s", row[0]));
      for (Object r : runs) {
        Double v = ((JsonObject) r).getDouble(row[1]);
        out.append(String.format("%17s", v == null ? "-" : v >= 100 ? String.format("%.0f", v)
            : String.format("%.3f", v)));
      }
      out.append('\n');
    }
    for (Object r : runs) {
      out.append(((JsonObject) r).getString("name")).append(" rows/job by table: ")
          .append(((JsonObject) r).getString("rows_written_by_table")).append('\n');
    }
    for (Object r : runs) {
      out.append(((JsonObject) r).getString("name")).append(" WAL bytes/job by relation: ")
          .append(((JsonObject) r).getString("wal_bytes_by_relation")).append('\n');
    }
    JsonObject single = find(runs, "hodei_single");
    JsonObject batch = find(runs, "hodei_batch");
    JsonObject baseSingle = find(runs, "baseline_single");
    JsonObject baseBatch = find(runs, "baseline_batch");
    out.append('\n');
    ratio(out, "end-to-end single: Hodei / baseline", single, baseSingle, "end_to_end_per_s");
    ratio(out, "end-to-end batch: Hodei / baseline", batch, baseBatch, "end_to_end_per_s");
    ratio(out, "WAL bytes/job batch: Hodei / baseline", batch, baseBatch, "wal_bytes_per_job");
    ratio(out, "rows/job batch: Hodei / baseline", batch, baseBatch, "rows_written_per_job");
    ratio(out, "PostgreSQL CPU/job batch: Hodei / baseline", batch, baseBatch, "cpu_ms_per_job_postgresql");
    System.out.println(out);
  }

  private static JsonObject find(JsonArray runs, String name) {
    for (Object r : runs) if (name.equals(((JsonObject) r).getString("name"))) return (JsonObject) r;
    return null;
  }

  private static void ratio(StringBuilder out, String label, JsonObject a, JsonObject b, String field) {
    if (a == null || b == null) return;
    out.append(String.format("%-46s %8.2fx%n", label, a.getDouble(field) / b.getDouble(field)));
  }

  private void close() {
    try {
      if (server != null) server.close();
    } finally {
      vertx.close().await();
    }
  }
}
