package io.hodei.bench;

import io.hodei.support.FaultyDatabase;
import io.hodei.support.JobLedger;
import io.hodei.support.SubmitLoad;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The chaos suite (bench/chaos.sh): the built jar as a child process on a PostgreSQL the suite owns, under submit
 * load from several clients, with faults injected from outside: PostgreSQL stopped for a while, and rounds of
 * kill -9 of the server JVM alone, of PostgreSQL alone, and of both. After each scenario it checks, from the
 * database: every job answered 201 exists and ends within a minute, none ran after it ended or started more often
 * than its attempts; and from the answers: nothing but 201 and 503 (problem+json with Retry-After). It prints what
 * was tried, how often, and what held.
 */
public final class ChaosBench {
  private static final String ADMIN = "chaos-admin-token-0123456789abcdef";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final Path work;
  private final int port;
  private final FaultyDatabase db;
  private Process server;
  private int starts;
  /** Attempts retried (worker_lost) before the current scenario: each scenario reports its own. */
  private long retriesBefore;

  private ChaosBench(Path work, int port, FaultyDatabase db) {
    this.work = work;
    this.port = port;
    this.db = db;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = options(args);
    int rounds = Integer.parseInt(opts.getOrDefault("rounds", "5"));
    int jobs = Integer.parseInt(opts.getOrDefault("jobs", "10000"));
    int outageSeconds = Integer.parseInt(opts.getOrDefault("outage-s", "30"));
    int roundJobs = Integer.parseInt(opts.getOrDefault("round-jobs", "1500"));
    int clients = Integer.parseInt(opts.getOrDefault("clients", "8"));
    Path work = Files.createDirectories(Path.of("target", "chaos"));
    List<JsonObject> results = new ArrayList<>();
    try (FaultyDatabase db = FaultyDatabase.start()) {
      ChaosBench bench = new ChaosBench(work, freePort(), db);
      try {
        bench.startServer();
        String token = bench.setUp();
        results.add(bench.outage(token, jobs, outageSeconds, clients));
        for (String kind : List.of("kill-jvm", "kill-postgres", "kill-both")) {
          results.add(bench.kills(token, kind, rounds, roundJobs, clients));
        }
      } finally {
        bench.stopServer();
      }
    }
    print(results);
    BenchSupport.writeResults("bench/results", "chaos", new JsonObject().put("at", Instant.now().toString())
        .put("results", new JsonArray(results)));
    if (results.stream().anyMatch(r -> !r.getBoolean("held"))) System.exit(1);
  }

  /** PostgreSQL stopped for {@code seconds} while clients submit until {@code jobs} are accepted. */
  private JsonObject outage(String token, int jobs, int seconds, int clients) throws Exception {
    // refused submissions are sent again (after a pause), as a client honouring Retry-After would
    SubmitLoad load = new SubmitLoad(port, token, job(), clients, jobs * 3);
    long downMs;
    long readyAgainMs;
    boolean readinessFollowed;
    try {
      await(() -> load.accepted.size() >= Math.min(jobs / 5, 2000), Duration.ofMinutes(5), "load before the outage");
      db.stopServer();
      long stopped = System.nanoTime();
      readinessFollowed = awaitQuietly(() -> ready() == 503, Duration.ofSeconds(15));
      sleepUntil(stopped + seconds * 1_000_000_000L);
      db.startServer();
      long back = System.nanoTime();
      downMs = (back - stopped) / 1_000_000;
      await(() -> ready() == 200, Duration.ofSeconds(60), "ready after the outage");
      readyAgainMs = (System.nanoTime() - back) / 1_000_000;
      await(() -> load.accepted.size() >= jobs, Duration.ofMinutes(10), jobs + " jobs accepted");
    } finally {
      load.close();
    }
    long endStart = System.nanoTime();
    JsonObject result = check("postgres-stopped", 1, load);
    // the server ran through the outage: its job counters must agree with the rows
    try {
      new JobLedger(db).countersAgree(call("GET", "/metrics", ADMIN, null).body());
      result.put("counters_agree", true);
    } catch (AssertionError e) {
      result.put("counters_agree", false).put("held", false).put("counters_error", e.getMessage());
    }
    result.put("outage_ms", downMs).put("ready_after_restart_ms", readyAgainMs)
        .put("readiness_down_during_outage", readinessFollowed)
        .put("all_ended_within_ms", (System.nanoTime() - endStart) / 1_000_000);
    if (!readinessFollowed) result.put("held", false);
    return result;
  }

  /** {@code rounds} kills of {@code kind} under load, each followed by a restart of what was killed. */
  private JsonObject kills(String token, String kind, int rounds, int roundJobs, int clients) throws Exception {
    SubmitLoad load = new SubmitLoad(port, token, job(), clients, rounds * roundJobs, true);
    List<Long> readyMs = new ArrayList<>();
    try {
      for (int round = 0; round < rounds; round++) {
        int target = (round + 1) * roundJobs / 2;
        await(() -> load.accepted.size() >= target || load.sent() >= rounds * roundJobs, Duration.ofMinutes(5),
            "load before kill " + round);
        if (!kind.equals("kill-postgres")) killServer();
        if (!kind.equals("kill-jvm")) db.killPostmaster();
        long restart = System.nanoTime();
        if (!kind.equals("kill-jvm")) db.startServer();
        if (!kind.equals("kill-postgres")) startServer();
        await(() -> ready() == 200, Duration.ofSeconds(60), "ready after " + kind);
        readyMs.add((System.nanoTime() - restart) / 1_000_000);
      }
      load.awaitDone(Duration.ofMinutes(10));
    } finally {
      load.close();
    }
    return check(kind, rounds, load).put("ready_after_restart_ms", new JsonArray(new ArrayList<>(readyMs)));
  }

  /** What held: the answers' contract and the ledger in the database. */
  private JsonObject check(String scenario, int times, SubmitLoad load) throws Exception {
    JsonObject r = new JsonObject().put("scenario", scenario).put("times", times)
        .put("accepted", load.accepted.size()).put("refused_503", load.count(503)).put("unanswered", load.count(-1))
        .put("contract_violations", load.violations.size());
    if (!load.violations.isEmpty()) r.put("violation_example", load.violations.get(0));
    JobLedger ledger = new JobLedger(db);
    boolean held = load.violations.isEmpty();
    try {
      ledger.allEnd(load.accepted, Duration.ofSeconds(60));
      r.put("all_accepted_stored_and_ended", true);
    } catch (AssertionError e) {
      held = false;
      r.put("all_accepted_stored_and_ended", false).put("ledger_error", e.getMessage());
    }
    try {
      ledger.nothingRanTwice();
      r.put("nothing_ran_twice", true);
    } catch (AssertionError e) {
      held = false;
      r.put("nothing_ran_twice", false).put("ledger_error", e.getMessage());
    }
    long retries = db.count("SELECT coalesce(sum(attempts - 1), 0) FROM job WHERE attempts > 1");
    r.put("retried_attempts", retries - retriesBefore);
    retriesBefore = retries;
    return r.put("held", held);
  }

  private String setUp() throws Exception {
    call("POST", "/api/v1/tenants", ADMIN, new JsonObject().put("id", "chaos").put("name", "chaos")
        .put("quota", new JsonObject().put("cpu_m", 1_000_000).put("memory_mb", 10_000_000)
            .put("max_concurrent_jobs", 1000).put("max_queued_jobs", 1_000_000)));
    String token = new JsonObject(call("POST", "/api/v1/tenants/chaos/tokens", ADMIN,
        new JsonObject().put("role", "submitter")).body()).getString("token");
    call("POST", "/api/v1/pools", ADMIN, new JsonObject().put("id", "sim").put("provider", "simulated")
        .put("size", 8).put("worker_cpu_m", 4000).put("worker_memory_mb", 8192)
        .put("provider_config", new JsonObject().put("provision_delay_ms", 1).put("job_duration_ms", 20)
            .put("job_duration_jitter_ms", 60)));
    return token;
  }

  private static JsonObject job() {
    return new JsonObject().put("pool_id", "sim").put("command", new JsonArray().add("true")).put("cpu_m", 100)
        .put("memory_mb", 64);
  }

  private void startServer() throws IOException, InterruptedException {
    Path config = work.resolve("hodei.yaml");
    Files.writeString(config, "server:\n  host: 127.0.0.1\n  port: " + port + "\n  grpc_port: -1\n"
        + "database:\n  url: " + db.url() + "\n"
        + "metrics:\n  prometheus:\n    port: -1\n"
        + "bridge:\n  tcp_port: -1\n"
        + "scheduler:\n  tick_interval_ms: 100\n");
    ProcessBuilder pb = new ProcessBuilder("java", "-Xmx512m", "-jar", "target/hodei-pools.jar")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("server.log")
            .toFile()));
    pb.environment().put("HODEI_CONFIG", config.toString());
    pb.environment().put("HODEI_ADMIN_TOKEN", ADMIN);
    server = pb.start();
    starts++;
    await(() -> ready() == 200 || !server.isAlive(), Duration.ofSeconds(60), "server start " + starts);
    if (!server.isAlive()) throw new IllegalStateException("the server exited; see " + work.resolve("server.log"));
  }

  private void killServer() {
    server.destroyForcibly();
    server.onExit().join();
  }

  private void stopServer() {
    if (server != null && server.isAlive()) {
      server.destroy();
      try {
        server.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        server.destroyForcibly();
      }
    }
  }

  private int ready() {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private HttpResponse<String> call(String method, String path, String token, JsonObject body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 300) throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
    return r;
  }

  private static void await(java.util.function.BooleanSupplier done, Duration timeout, String what)
      throws InterruptedException {
    if (!awaitQuietly(done, timeout)) throw new IllegalStateException("timed out waiting for " + what);
  }

  private static boolean awaitQuietly(java.util.function.BooleanSupplier done, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) return false;
      Thread.sleep(50);
    }
    return true;
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) Thread.sleep(left / 1_000_000);
  }

  private static void print(List<JsonObject> results) {
    System.out.printf("%-17s %5s %8s %7s %10s %10s %10s %9s %10s %s%n", "scenario", "times", "accepted", "503s",
        "no answer", "violations", "all ended", "run twice", "retries", "ready after restart (ms)");
    for (JsonObject r : results) {
      System.out.printf("%-17s %5d %8d %7d %10d %10d %10s %9s %10d %s%n", r.getString("scenario"),
          r.getInteger("times"), r.getInteger("accepted"), r.getInteger("refused_503"), r.getInteger("unanswered"),
          r.getInteger("contract_violations"),
          r.getBoolean("all_accepted_stored_and_ended"), !r.getBoolean("nothing_ran_twice"),
          r.getLong("retried_attempts"), r.getValue("ready_after_restart_ms"));
    }
    results.stream().filter(r -> !r.getBoolean("held"))
        .forEach(r -> System.out.println(r.getString("scenario") + " did not hold: " + r.encode()));
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    return opts;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
