package io.hodei.agent;

import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server (in this JVM) with an agent pool, and agents as separate OS processes started from the built jar, as a
 * user runs them. Closing it kills the agents still running.
 */
final class AgentCluster implements AutoCloseable {
  static final Path JAR = Path.of("target", "hodei-pools.jar").toAbsolutePath();
  static final String POOL = "agents";

  TestServer server;
  Fixtures fixtures;
  final Path work;
  final String agentToken;
  final String submitter;
  private final List<Process> agents = new ArrayList<>();

  AgentCluster(Path work, int graceSeconds) {
    this(work, TestServer.start(Map.of("agents.reconnect_grace_seconds", graceSeconds)));
  }

  AgentCluster(Path work, TestServer server) {
    assertThat(JAR).as("the jar is built by mvn package before this test").exists();
    this.work = work;
    this.server = server;
    this.fixtures = new Fixtures(server);
    Response pool = server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("id", POOL).put("name", POOL)
        .put("kind", "static").put("provider", "agent").put("size", 0).put("worker_cpu_m", 1000)
        .put("worker_memory_mb", 1024));
    assertThat(pool.status()).as(pool.toString()).isEqualTo(201);
    this.agentToken = issueToken(POOL);
    this.submitter = fixtures.tenant("t-agents", new JsonObject().put("cpu_m", 100_000).put("memory_mb", 1_000_000)
        .put("max_concurrent_jobs", 1000).put("max_queued_jobs", 10_000), 1, "submitter");
  }

  String issueToken(String poolId) {
    Response token = server.admin(HttpMethod.POST, "/api/v1/pools/" + poolId + "/agent-tokens",
        new JsonObject().put("name", "test"));
    assertThat(token.status()).as(token.toString()).isEqualTo(201);
    return token.json().getString("token");
  }

  /** Starts an agent process on {@code port} (the server's, or a proxy's) with its own work directory. */
  Process agent(String name, int port, int slots, String... extra) throws IOException {
    Path dir = work.resolve(name);
    Files.createDirectories(dir);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1", "-jar", JAR.toString(), "agent", "--server", "localhost:" + port,
        "--pool", POOL, "--slots", Integer.toString(slots), "--work-dir", dir.toString(), "--labels", "test=" + name));
    command.addAll(List.of(extra));
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve(name + ".log").toFile()));
    builder.environment().keySet().removeIf(k -> k.startsWith("HODEI_"));
    builder.environment().put("HODEI_AGENT_TOKEN", agentToken);
    Process process = builder.start();
    agents.add(process);
    return process;
  }

  /** Stops the server (agents keep running) and starts it again with {@code start}. */
  void restart(java.util.function.Supplier<TestServer> start) {
    server.close();
    server = start.get();
    fixtures = new Fixtures(server);
  }

  /** The logs of every attempt of a job, oldest first (null for an attempt without one). */
  List<String> logs(String id) {
    Response r = server.get("/api/v1/jobs/" + id + "/logs", submitter);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    List<String> logs = new ArrayList<>();
    r.json().getJsonArray("attempts").forEach(a -> logs.add(((JsonObject) a).getString("log")));
    return logs;
  }

  /** The job's lifecycle events, oldest first. */
  List<JsonObject> events(String id) {
    Response r = server.get("/api/v1/jobs/" + id + "/events", submitter);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    List<JsonObject> events = new ArrayList<>();
    r.json().getJsonArray("items").forEach(e -> events.add((JsonObject) e));
    return events;
  }

  String log(String name) throws IOException {
    Path file = work.resolve(name + ".log");
    return Files.exists(file) ? Files.readString(file) : "";
  }

  /** The logs of the named processes, joined (for polling). */
  String logsOf(String... names) {
    StringBuilder all = new StringBuilder();
    try {
      for (String name : names) all.append(log(name));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return all.toString();
  }

  JsonObject pool() {
    return server.get("/api/v1/pools/" + POOL, TestServer.ADMIN_TOKEN).json();
  }

  void awaitIdleWorkers(int n) {
    Poll.until(this::pool, p -> p.getJsonObject("workers").getInteger("idle") >= n, Duration.ofSeconds(90),
        n + " idle agent workers");
  }

  /** Submits {@code argv} to the agent pool, at most one attempt unless said otherwise. */
  String submit(int maxAttempts, String... argv) {
    JsonArray command = new JsonArray();
    for (String a : argv) command.add(a);
    return fixtures.submitted(submitter, new JsonObject().put("pool_id", POOL).put("command", command)
        .put("cpu_m", 100).put("memory_mb", 64).put("max_attempts", maxAttempts).put("timeout_s", 300));
  }

  JsonObject job(String id) { return fixtures.job(submitter, id); }

  JsonObject awaitEnded(String id, Duration timeout) {
    return Poll.until(() -> job(id), j -> List.of("succeeded", "failed", "cancelled", "timed_out", "abandoned")
        .contains(j.getString("state")), timeout, "job " + id + " to end");
  }

  /** The log of the job's last attempt, from the logs endpoint. */
  String lastLog(String id) {
    Response r = server.get("/api/v1/jobs/" + id + "/logs", submitter);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonArray attempts = r.json().getJsonArray("attempts");
    return attempts.isEmpty() ? null : attempts.getJsonObject(attempts.size() - 1).getString("log");
  }

  @Override
  public void close() {
    for (Process p : agents) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    server.close();
  }
}
