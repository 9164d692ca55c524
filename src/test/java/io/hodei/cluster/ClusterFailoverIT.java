package io.hodei.cluster;

import io.hodei.support.FaultyDatabase;
import io.hodei.support.JobLedger;
import io.hodei.support.Poll;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three server processes from the built jar, clustered on one PostgreSQL (started by the test), under submit load
 * spread over all three; the leader is killed with SIGKILL. A follower takes over (the takeover and the first placement
 * after the kill are timed and printed), every job answered 201 exists in the database and ends exactly once, no
 * worker ran two jobs at once, every answer was 201 or 503 problem+json, and the killed node, started again, rejoins
 * as a follower. Runs in the integration-test phase, after the jar is packaged.
 */
class ClusterFailoverIT {
  private static final String ADMIN_TOKEN = "cluster-test-admin-token-0123456789";
  private static final Path JAR = Path.of("target", "hodei-pools.jar").toAbsolutePath();
  private static final int NODES = 3;
  private static final int WORKERS = 6;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  @TempDir
  Path work;
  private FaultyDatabase db;
  private final int[] httpPorts = new int[NODES];
  private final int[] clusterPorts = new int[NODES];
  private final Process[] nodes = new Process[NODES];
  private final List<SubmitLoad> loads = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (SubmitLoad load : loads) load.close();
    for (Process node : nodes) {
      if (node != null && node.isAlive()) node.destroy();
    }
    for (Process node : nodes) {
      if (node != null && !node.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        node.destroyForcibly().waitFor();
      }
    }
    if (db != null) db.close();
  }

  @Test
  void theLeaderKilledWithSigkillIsReplacedWithoutLosingOrRepeatingAJob() throws Exception {
    assertThat(JAR).as("the jar is built by mvn package before this test").exists();
    db = FaultyDatabase.start();
    for (int i = 0; i < NODES; i++) {
      httpPorts[i] = freePort();
      clusterPorts[i] = freePort();
    }
    for (int i = 0; i < NODES; i++) nodes[i] = launch(i, "node-" + i + ".log");
    for (int i = 0; i < NODES; i++) awaitReady(i);
    String leader = awaitOneLeader(Set.of(0, 1, 2), null);
    int leaderIndex = indexOf(leader);
    System.out.printf("cluster formed: leader %s, %d members%n", leader, NODES);

    String token = setUp();
    JsonObject job = new JsonObject().put("pool_id", "sim").put("command", new JsonArray().add("true"))
        .put("cpu_m", 4000).put("memory_mb", 64);
    // round robin over the three nodes: each gets its own clients; the leader's are refused while it is down
    for (int i = 0; i < NODES; i++) loads.add(new SubmitLoad(httpPorts[i], token, job, 2, 300, true));
    Poll.until(this::accepted, n -> n >= 120, Duration.ofSeconds(60), "jobs accepted before the kill");

    long epochBefore = epoch();
    long killedAtMillis = System.currentTimeMillis();
    long killed = System.nanoTime();
    nodes[leaderIndex].destroyForcibly().waitFor();
    Poll.until(this::epochOrZero, e -> e > epochBefore, Duration.ofSeconds(60), "a takeover");
    long takeoverMs = (System.nanoTime() - killed) / 1_000_000;
    Poll.until(() -> startedSince(killedAtMillis), n -> n > 0, Duration.ofSeconds(60), "a placement after the kill");
    long placingMs = (System.nanoTime() - killed) / 1_000_000;
    Set<Integer> survivors = new HashSet<>(Set.of(0, 1, 2));
    survivors.remove(leaderIndex);
    String newLeader = awaitOneLeader(survivors, null);
    System.out.printf("leader %s killed with SIGKILL: new epoch after %d ms, first placement after %d ms, "
        + "new leader %s%n", leader, takeoverMs, placingMs, newLeader);
    assertThat(newLeader).isNotEqualTo(leader);

    int acceptedAtKill = accepted();
    Poll.until(this::accepted, n -> n >= acceptedAtKill + 60, Duration.ofSeconds(60), "jobs accepted after the kill");

    // the killed node comes back and joins as a follower
    nodes[leaderIndex] = launch(leaderIndex, "node-" + leaderIndex + "-restarted.log");
    awaitReady(leaderIndex);
    assertThat(awaitOneLeader(Set.of(0, 1, 2), newLeader)).isEqualTo(newLeader);
    JsonObject rejoined = clusterOf(leaderIndex);
    assertThat(rejoined.getString("node")).isEqualTo(leader);
    assertThat(rejoined.getString("leader")).isEqualTo(newLeader);

    for (SubmitLoad load : loads) load.close();
    Set<String> accepted = new HashSet<>();
    // the rejoined node serves submissions again (through the new leader)
    HttpResponse<String> viaRejoined = send(HttpRequest.newBuilder(uri(leaderIndex, "/api/v1/jobs"))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(job.encode())));
    assertThat(viaRejoined.statusCode()).as(viaRejoined.body()).isEqualTo(201);
    accepted.add(new JsonObject(viaRejoined.body()).getString("id"));
    for (SubmitLoad load : loads) {
      assertThat(load.violations).as("answers other than 201 and 503 problem+json: " + load).isEmpty();
      accepted.addAll(load.accepted);
    }
    System.out.printf("%d jobs accepted (201) over the three nodes; answers per node: %s%n", accepted.size(),
        loads.stream().map(SubmitLoad::toString).toList());

    JobLedger ledger = new JobLedger(db);
    ledger.allEnd(accepted, Duration.ofSeconds(90));
    ledger.nothingRanTwice();
    // each worker fits one job (cpu_m): the runs the provider reported on one worker never overlap
    List<String> overlapping = db.column("SELECT a.id || ' and ' || b.id || ' on ' || a.worker_id FROM job a "
        + "JOIN job b ON a.worker_id = b.worker_id AND a.id < b.id "
        + "WHERE a.process_started_at IS NOT NULL AND b.process_started_at IS NOT NULL "
        + "AND a.run_ms IS NOT NULL AND b.run_ms IS NOT NULL "
        + "AND a.process_started_at < b.process_started_at + b.run_ms * interval '1 millisecond' "
        + "AND b.process_started_at < a.process_started_at + a.run_ms * interval '1 millisecond' LIMIT 10");
    assertThat(overlapping).as("jobs that ran at the same time on one worker").isEmpty();
    assertThat(db.count("SELECT count(*) FROM job WHERE state = 'succeeded' AND process_started_at IS NOT NULL "
        + "AND run_ms IS NOT NULL")).as("succeeded jobs with their run on record").isPositive();
    assertThat(Files.readString(work.resolve("node-" + leaderIndex + "-restarted.log")))
        .doesNotContain("this node leads the cluster");
  }

  private String setUp() {
    JsonObject tenant = new JsonObject().put("id", "load").put("name", "load").put("quota", new JsonObject()
        .put("cpu_m", 1_000_000).put("memory_mb", 10_000_000).put("max_concurrent_jobs", 1000)
        .put("max_queued_jobs", 100_000));
    HttpResponse<String> created = post(0, "/api/v1/tenants", tenant);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    HttpResponse<String> token = post(1, "/api/v1/tenants/load/tokens", new JsonObject().put("role", "submitter"));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
    JsonObject pool = new JsonObject().put("id", "sim").put("provider", "simulated").put("size", WORKERS)
        .put("worker_cpu_m", 4000).put("worker_memory_mb", 8192).put("provider_config", new JsonObject()
            .put("provision_delay_ms", 1).put("job_duration_ms", 100).put("job_duration_jitter_ms", 100));
    HttpResponse<String> poolCreated = post(2, "/api/v1/pools", pool);
    assertThat(poolCreated.statusCode()).as(poolCreated.body()).isEqualTo(201);
    Poll.until(() -> new JsonObject(get(0, "/api/v1/pools/sim").body()),
        p -> p.getJsonObject("workers") != null && p.getJsonObject("workers").getInteger("idle") >= WORKERS,
        Duration.ofSeconds(60), "pool ready");
    return new JsonObject(token.body()).getString("token");
  }

  /** Waits until every node in {@code which} names the same leader (one of them, or {@code expected}). */
  private String awaitOneLeader(Set<Integer> which, String expected) {
    return Poll.until(() -> {
      Set<String> leaders = new HashSet<>();
      for (int i : which) {
        JsonObject cluster = clusterOf(i);
        if (cluster == null || cluster.getInteger("members") != which.size()) return null;
        leaders.add(String.valueOf(cluster.getString("leader")));
      }
      return leaders.size() == 1 ? leaders.iterator().next() : null;
    }, l -> l != null && !l.equals("null") && (expected == null || expected.equals(l)), Duration.ofSeconds(90),
        "one leader seen by nodes " + which);
  }

  private JsonObject clusterOf(int node) {
    try {
      HttpResponse<String> health = get(node, "/health");
      if (!health.body().startsWith("{")) return null;
      return new JsonObject(health.body()).getJsonObject("cluster");
    } catch (RuntimeException e) {
      return null;
    }
  }

  private int indexOf(String nodeId) {
    for (int i = 0; i < NODES; i++) {
      if (nodeId.equals("127.0.0.1:" + clusterPorts[i])) return i;
    }
    throw new AssertionError("no node " + nodeId);
  }

  private int accepted() { return loads.stream().mapToInt(l -> l.accepted.size()).sum(); }

  private long epoch() throws Exception { return db.count("SELECT epoch FROM leadership WHERE id = 1"); }

  private long epochOrZero() {
    try {
      return epoch();
    } catch (Exception e) {
      return 0;
    }
  }

  private long startedSince(long millis) {
    try {
      return db.count("SELECT count(*) FROM job_event WHERE state = 'running' AND at > to_timestamp("
          + millis / 1000.0 + ")");
    } catch (Exception e) {
      return 0;
    }
  }

  private Process launch(int node, String log) throws IOException {
    StringBuilder members = new StringBuilder();
    for (int port : clusterPorts) members.append(members.isEmpty() ? "" : ",").append("127.0.0.1:").append(port);
    ProcessBuilder builder = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-jar", JAR.toString())
        .directory(work.toFile())
        .redirectErrorStream(true)
        .redirectOutput(work.resolve(log).toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("HODEI_") || k.startsWith("OTEL_"));
    env.putAll(Map.ofEntries(
        Map.entry("HODEI_ADMIN_TOKEN", ADMIN_TOKEN),
        Map.entry("HODEI_DATABASE_URL", db.url()),
        Map.entry("HODEI_DATABASE_POOL_SIZE", "4"),
        Map.entry("HODEI_SERVER_HOST", "127.0.0.1"),
        Map.entry("HODEI_SERVER_PORT", Integer.toString(httpPorts[node])),
        Map.entry("HODEI_SERVER_GRPC_PORT", "-1"),
        Map.entry("HODEI_PROMETHEUS_PORT", "-1"),
        Map.entry("HODEI_BRIDGE_TCP_PORT", "-1"),
        Map.entry("HODEI_CLUSTER_ENABLED", "true"),
        Map.entry("HODEI_CLUSTER_MEMBERS", members.toString()),
        Map.entry("HODEI_CLUSTER_HOST", "127.0.0.1"),
        Map.entry("HODEI_CLUSTER_PORT", Integer.toString(clusterPorts[node])),
        Map.entry("HODEI_SCHEDULER_TICK_INTERVAL_MS", "100"),
        Map.entry("HODEI_SECURITY_TOKEN_CACHE_SECONDS", "0"),
        Map.entry("HODEI_RESOURCE_POOLS_RECONCILE_INTERVAL_SECONDS", "1"),
        Map.entry("HODEI_RESOURCE_POOLS_LOCAL_WORK_DIR", work.resolve("work-" + node).toString()),
        Map.entry("HODEI_OBSERVABILITY_GRAFANA_DASHBOARDS_DIR", work.resolve("dashboards").toString()),
        Map.entry("HODEI_OBSERVABILITY_ALERTING_PROMETHEUS_ALERTS_DIR", work.resolve("alerts").toString())));
    return builder.start();
  }

  private void awaitReady(int node) {
    Poll.until(() -> {
      assertThat(nodes[node].isAlive()).as("node " + node + " process").isTrue();
      return status(node, "/health/ready");
    }, s -> s == 200, Duration.ofSeconds(120), "node " + node + " ready");
  }

  private int status(int node, String path) {
    try {
      return get(node, path).statusCode();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private HttpResponse<String> get(int node, String path) {
    return send(HttpRequest.newBuilder(uri(node, path)).header("Authorization", "Bearer " + ADMIN_TOKEN).GET());
  }

  private HttpResponse<String> post(int node, String path, JsonObject body) {
    return send(HttpRequest.newBuilder(uri(node, path)).header("Authorization", "Bearer " + ADMIN_TOKEN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private URI uri(int node, String path) { return URI.create("http://127.0.0.1:" + httpPorts[node] + path); }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
