package io.hodei.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Server processes from the built jar ({@code target/hodei-pools.jar}) on one PostgreSQL: {@code count} cluster nodes
 * (or, with {@code clustered} false, one plain server) on loopback ports, each logging to a file of its own in
 * {@code work}. For the cluster integration test and benchmark; {@link #close} stops whatever still runs.
 */
public final class ClusterNodes implements AutoCloseable {
  public static final String ADMIN_TOKEN = "cluster-test-admin-token-0123456789";
  public static final Path JAR = Path.of("target", "hodei-pools.jar").toAbsolutePath();

  /** Workers of the simulated pool of {@link #setUpLoad}. */
  public static final int WORKERS = 6;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Path work;
  private final String databaseUrl;
  private final boolean clustered;
  private final int[] httpPorts;
  private final int[] clusterPorts;
  private final Process[] nodes;

  public ClusterNodes(Path work, String databaseUrl, int count, boolean clustered) throws IOException {
    assertThat(JAR).as("the jar is built by mvn package first").exists();
    this.work = work;
    this.databaseUrl = databaseUrl;
    this.clustered = clustered;
    httpPorts = new int[count];
    clusterPorts = new int[count];
    nodes = new Process[count];
    for (int i = 0; i < count; i++) {
      httpPorts[i] = freePort();
      clusterPorts[i] = freePort();
    }
  }

  public int size() { return nodes.length; }

  public int httpPort(int node) { return httpPorts[node]; }

  /** The node's cluster id ({@code cluster.host:cluster.port}). */
  public String nodeId(int node) { return "127.0.0.1:" + clusterPorts[node]; }

  public int indexOf(String nodeId) {
    for (int i = 0; i < nodes.length; i++) {
      if (nodeId.equals(nodeId(i))) return i;
    }
    throw new AssertionError("no node " + nodeId);
  }

  /** Starts node {@code node} (again), its output in {@code log} under the work directory. */
  public void launch(int node, String log) throws IOException {
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
        Map.entry("HODEI_DATABASE_URL", databaseUrl),
        Map.entry("HODEI_DATABASE_POOL_SIZE", "4"),
        Map.entry("HODEI_SERVER_HOST", "127.0.0.1"),
        Map.entry("HODEI_SERVER_PORT", Integer.toString(httpPorts[node])),
        Map.entry("HODEI_SERVER_GRPC_PORT", "-1"),
        Map.entry("HODEI_PROMETHEUS_PORT", "-1"),
        Map.entry("HODEI_BRIDGE_TCP_PORT", "-1"),
        Map.entry("HODEI_CLUSTER_ENABLED", Boolean.toString(clustered)),
        Map.entry("HODEI_CLUSTER_MEMBERS", members.toString()),
        Map.entry("HODEI_CLUSTER_HOST", "127.0.0.1"),
        Map.entry("HODEI_CLUSTER_PORT", Integer.toString(clusterPorts[node])),
        Map.entry("HODEI_SCHEDULER_TICK_INTERVAL_MS", "100"),
        Map.entry("HODEI_SECURITY_TOKEN_CACHE_SECONDS", "0"),
        Map.entry("HODEI_RESOURCE_POOLS_RECONCILE_INTERVAL_SECONDS", "1"),
        Map.entry("HODEI_RESOURCE_POOLS_LOCAL_WORK_DIR", work.resolve("work-" + node).toString()),
        Map.entry("HODEI_OBSERVABILITY_GRAFANA_DASHBOARDS_DIR", work.resolve("dashboards").toString()),
        Map.entry("HODEI_OBSERVABILITY_ALERTING_PROMETHEUS_ALERTS_DIR", work.resolve("alerts").toString())));
    nodes[node] = builder.start();
  }

  /** SIGKILL to the node's JVM; returns once it is gone. */
  public void kill(int node) throws InterruptedException {
    nodes[node].destroyForcibly().waitFor();
  }

  public void awaitReady(int node) {
    Poll.until(() -> {
      assertThat(nodes[node].isAlive()).as("node " + node + " process").isTrue();
      return status(node, "/health/ready");
    }, s -> s == 200, Duration.ofSeconds(120), "node " + node + " ready");
  }

  /**
   * Waits until every node in {@code which} sees {@code which.size()} members and names the same leader (any, or
   * {@code expected}); returns it.
   */
  public String awaitOneLeader(Set<Integer> which, String expected) {
    return Poll.until(() -> {
      Set<String> leaders = new HashSet<>();
      for (int i : which) {
        JsonObject cluster = cluster(i);
        if (cluster == null || cluster.getInteger("members") != which.size()) return null;
        leaders.add(String.valueOf(cluster.getString("leader")));
      }
      return leaders.size() == 1 ? leaders.iterator().next() : null;
    }, l -> l != null && !l.equals("null") && (expected == null || expected.equals(l)), Duration.ofSeconds(90),
        "one leader seen by nodes " + which);
  }

  /** The node's {@code /health} cluster object, or null (no answer, or no cluster). */
  public JsonObject cluster(int node) {
    try {
      HttpResponse<String> health = get(node, "/health", ADMIN_TOKEN);
      if (!health.body().startsWith("{")) return null;
      return new JsonObject(health.body()).getJsonObject("cluster");
    } catch (RuntimeException e) {
      return null;
    }
  }

  public int status(int node, String path) {
    try {
      return get(node, path, ADMIN_TOKEN).statusCode();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  public HttpResponse<String> get(int node, String path, String token) {
    return send(HttpRequest.newBuilder(uri(node, path)).header("Authorization", "Bearer " + token).GET());
  }

  public HttpResponse<String> post(int node, String path, String token, JsonObject body) {
    return send(HttpRequest.newBuilder(uri(node, path)).header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())));
  }

  /** Sends without waiting for the answer (a steady load that does not stall behind a request to a dead node). */
  public java.util.concurrent.CompletableFuture<HttpResponse<String>> postAsync(int node, String path, String token,
                                                                                JsonObject body) {
    return http.sendAsync(HttpRequest.newBuilder(uri(node, path)).header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    return JdkHttp.send(http, request);
  }

  private URI uri(int node, String path) { return URI.create("http://127.0.0.1:" + httpPorts[node] + path); }

  /** A tenant that can queue everything and a simulated pool of {@value #WORKERS} workers, through three nodes. */
  public String setUpLoad() {
    JsonObject tenant = new JsonObject().put("id", "load").put("name", "load").put("quota", new JsonObject()
        .put("cpu_m", 1_000_000).put("memory_mb", 10_000_000).put("max_concurrent_jobs", 1000)
        .put("max_queued_jobs", 100_000));
    HttpResponse<String> created = post(0, "/api/v1/tenants", ADMIN_TOKEN, tenant);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    HttpResponse<String> token = post(1 % size(), "/api/v1/tenants/load/tokens", ADMIN_TOKEN,
        new JsonObject().put("role", "submitter"));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
    JsonObject pool = new JsonObject().put("id", "sim").put("provider", "simulated").put("size", WORKERS)
        .put("worker_cpu_m", 4000).put("worker_memory_mb", 8192).put("provider_config", new JsonObject()
            .put("provision_delay_ms", 1).put("job_duration_ms", 100).put("job_duration_jitter_ms", 100));
    HttpResponse<String> poolCreated = post(2 % size(), "/api/v1/pools", ADMIN_TOKEN, pool);
    assertThat(poolCreated.statusCode()).as(poolCreated.body()).isEqualTo(201);
    Poll.until(() -> new JsonObject(get(0, "/api/v1/pools/sim", ADMIN_TOKEN).body()),
        p -> p.getJsonObject("workers") != null && p.getJsonObject("workers").getInteger("idle") >= WORKERS,
        Duration.ofSeconds(60), "pool ready");
    return new JsonObject(token.body()).getString("token");
  }

  /** A job that takes a whole worker (so no worker may run two at once). */
  public static JsonObject wholeWorkerJob() {
    return new JsonObject().put("pool_id", "sim").put("command", new JsonArray().add("true"))
        .put("cpu_m", 4000).put("memory_mb", 64);
  }

  public static long epoch(FaultyDatabase db) throws Exception {
    return db.count("SELECT epoch FROM leadership WHERE id = 1");
  }

  public static long epochOrZero(FaultyDatabase db) {
    try {
      return epoch(db);
    } catch (Exception e) {
      return 0;
    }
  }

  /** Jobs placed (running events) after {@code millis} (epoch ms). */
  public static long placedSince(FaultyDatabase db, long millis) {
    try {
      return db.count("SELECT count(*) FROM job_event WHERE state = 'running' AND at > to_timestamp("
          + millis / 1000.0 + ")");
    } catch (Exception e) {
      return 0;
    }
  }

  /** Stops every node still running (SIGTERM, then SIGKILL after 30 s). */
  @Override
  public void close() throws InterruptedException {
    for (Process node : nodes) {
      if (node != null && node.isAlive()) node.destroy();
    }
    for (Process node : nodes) {
      if (node != null && !node.waitFor(30, TimeUnit.SECONDS)) node.destroyForcibly().waitFor();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
