package io.hodei.cluster;

import io.hodei.app.config.ConfigSchema;
import io.hodei.agent.InJvmAgent;
import io.hodei.common.Events;
import io.hodei.store.ConnectionSource;
import io.hodei.store.Fence;
import io.hodei.store.GroupCommit;
import io.hodei.support.FaultyDatabase;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two clustered servers in this JVM on one PostgreSQL: one leads (places jobs, manages pools), the other serves the
 * same API through it over the clustered event bus; the leadership moves when the leader stops or loses its lock
 * connection, and a write carrying a stale leadership epoch is refused by the database.
 */
class ClusterTest {
  private static FaultyDatabase db;

  @BeforeAll
  static void database() throws IOException { db = FaultyDatabase.start(); }

  @AfterAll
  static void close() throws IOException {
    if (db != null) db.close();
  }

  private static Map<String, Object> node(int port, int... members) {
    StringBuilder list = new StringBuilder();
    for (int m : members) list.append(list.isEmpty() ? "" : ",").append("127.0.0.1:").append(m);
    Map<String, Object> config = new HashMap<>();
    config.put(ConfigSchema.DB_URL, db.url());
    config.put(ConfigSchema.CLUSTER_ENABLED, true);
    config.put(ConfigSchema.CLUSTER_HOST, "127.0.0.1");
    config.put(ConfigSchema.CLUSTER_PORT, port);
    config.put(ConfigSchema.CLUSTER_MEMBERS, list.toString());
    config.put(ConfigSchema.SCHED_TICK, 100);
    config.put(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1);
    return config;
  }

  private static JsonObject cluster(TestServer server) {
    Response health = server.get("/health", null);
    return health.status() == 200 ? health.json().getJsonObject("cluster") : null;
  }

  private static JsonObject awaitLeader(TestServer server, String leader, int members) {
    return Poll.until(() -> cluster(server), c -> c != null && leader.equals(c.getString("leader"))
        && c.getInteger("members") == members, Duration.ofSeconds(60), leader + " leads " + members + " members");
  }

  private static double leaderGauge(TestServer server, String node) {
    String text = server.get("/metrics", null).body();
    return Prometheus.parse(text).stream().filter(s -> s.name().equals("hodei_leader")
        && node.equals(s.labels().get("node"))).mapToDouble(Prometheus.Sample::value).findFirst().orElse(-1);
  }

  private static long epoch() throws Exception { return db.count("SELECT epoch FROM leadership WHERE id = 1"); }

  @Test
  void aFollowerServesTheApiThroughTheLeaderAndTakesOverWhenTheLeaderGoes() throws Exception {
    int portA = freePort();
    int portB = freePort();
    String a = "127.0.0.1:" + portA;
    String b = "127.0.0.1:" + portB;
    TestServer first = TestServer.start(node(portA, portA, portB));
    TestServer second = null;
    try {
      awaitLeader(first, a, 1);
      second = TestServer.start(node(portB, portA, portB));
      JsonObject seen = awaitLeader(second, a, 2);
      assertThat(seen.getString("node")).isEqualTo(b);
      assertThat(cluster(first).getString("node")).isEqualTo(a);
      assertThat(leaderGauge(first, a)).isEqualTo(1);
      assertThat(leaderGauge(second, b)).isEqualTo(0);

      // everything through the follower: tenant, pool and jobs are the leader's, reached over the clustered bus
      Fixtures viaFollower = new Fixtures(second);
      String token = viaFollower.tenant("t1", null, 1, "submitter");
      viaFollower.pool(Fixtures.simulatedPool("sim", 2, 20), 2);
      // events published on the leader reach a consumer on the follower once each, decoded from the wire
      Map<String, AtomicInteger> finishedSeen = new java.util.concurrent.ConcurrentHashMap<>();
      second.server().vertx().eventBus().<JsonObject>consumer(Events.address(Events.JOB_FINISHED),
          msg -> finishedSeen.computeIfAbsent(msg.body().getString("job_id"), k -> new AtomicInteger())
              .incrementAndGet()).completion().await();
      String job = viaFollower.submitted(token, Fixtures.spec("sim", "true"));
      viaFollower.awaitState(token, job, "succeeded");
      Poll.until(() -> finishedSeen.getOrDefault(job, new AtomicInteger()).get(), n -> n > 0, Duration.ofSeconds(30),
          "job.finished of " + job + " on the follower");

      // the leader's lock connection is cut from the database side: it steps down, a node takes over with a new
      // epoch (whichever wins the lock) and placement goes on
      long before = epoch();
      assertThat(db.terminateConnections(Leadership.APPLICATION_NAME)).isPositive();
      Poll.until(ClusterTest::epochOrZero, e -> e > before, Duration.ofSeconds(30), "a new leadership epoch");
      TestServer follower = second;
      Poll.until(() -> cluster(follower), c -> c != null && c.getString("leader") != null, Duration.ofSeconds(30),
          "a leader after the cut");
      viaFollower.awaitState(token, submitted(viaFollower, token), "succeeded");

      assertThat(finishedSeen.get(job)).as("job.finished events of one job on the follower").hasValue(1);

      // the leader stops: the other node takes over and places jobs
      TestServer leader = a.equals(cluster(first).getString("leader")) ? first : second;
      TestServer other = leader == first ? second : first;
      String otherId = leader == first ? b : a;
      long beforeStop = epoch();
      leader.close();
      awaitLeader(other, otherId, 1);
      assertThat(epoch()).isGreaterThan(beforeStop);
      assertThat(leaderGauge(other, otherId)).isEqualTo(1);
      Fixtures viaNewLeader = new Fixtures(other);
      viaNewLeader.awaitState(token, submitted(viaNewLeader, token), "succeeded");
    } finally {
      first.close();
      if (second != null) second.close();
    }
  }

  /**
   * An agent connected to a follower is served by the leader's agent provider over the clustered bus: it registers,
   * its pool's worker becomes idle and a job runs on it. When the leader stops, the agent registers with the new
   * leader and the job it runs is re-attached: it ends succeeded at its first attempt, run once.
   */
  @Test
  void anAgentOnAFollowerRunsJobsAndKeepsItsRunningJobWhenTheLeaderStops(@TempDir Path work) throws Exception {
    int portA = freePort();
    int portB = freePort();
    String a = "127.0.0.1:" + portA;
    String b = "127.0.0.1:" + portB;
    TestServer first = TestServer.start(node(portA, portA, portB));
    TestServer second = null;
    InJvmAgent agent = null;
    try {
      awaitLeader(first, a, 1);
      second = TestServer.start(node(portB, portA, portB));
      awaitLeader(second, a, 2);
      TestServer follower = second;
      Fixtures viaFollower = new Fixtures(follower);
      String token = viaFollower.tenant("t-remote", null, 1, "submitter");
      Response pool = follower.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("id", "remote")
          .put("name", "remote").put("kind", "static").put("provider", "agent").put("size", 0)
          .put("worker_cpu_m", 1000).put("worker_memory_mb", 1024));
      assertThat(pool.status()).as(pool.toString()).isEqualTo(201);
      Response agentToken = follower.admin(HttpMethod.POST, "/api/v1/pools/remote/agent-tokens", new JsonObject());
      assertThat(agentToken.status()).as(agentToken.toString()).isEqualTo(201);
      agent = InJvmAgent.start(Map.of("HODEI_AGENT_SERVER", "127.0.0.1:" + follower.port(),
          "HODEI_AGENT_TOKEN", agentToken.json().getString("token"), "HODEI_AGENT_POOL", "remote",
          "HODEI_AGENT_ID", "remote-1"), work.resolve("agent"));
      Poll.until(() -> follower.get("/api/v1/pools/remote", TestServer.ADMIN_TOKEN).json(),
          p -> p.getJsonObject("workers").getInteger("idle") == 1, Duration.ofSeconds(60),
          "the agent's worker idle");

      String quick = viaFollower.submitted(token, Fixtures.spec("remote", "echo", "from the agent"));
      viaFollower.awaitState(token, quick, "succeeded");
      assertThat(follower.get("/api/v1/jobs/" + quick + "/logs", token).json().getJsonArray("attempts")
          .getJsonObject(0).getString("log")).contains("from the agent");

      // the leader stops while the agent runs a job: the follower takes over and the agent registers with it
      runsOnceAcross(follower, token, work.resolve("runs-stop"), () -> {
        first.close();
        awaitLeader(follower, b, 1);
      });
      viaFollower.awaitState(token, submitted(viaFollower, token, "remote"), "succeeded");

      // the new leader's lock connection is cut: it steps down and leads again under a new epoch, with a new agent
      // provider; the agent's stream on this very node is ended and registers again
      runsOnceAcross(follower, token, work.resolve("runs-cut"), () -> {
        long before = epochOrZero();
        assertThat(db.terminateConnections(Leadership.APPLICATION_NAME)).isPositive();
        Poll.until(ClusterTest::epochOrZero, e -> e > before, Duration.ofSeconds(30), "a new leadership epoch");
      });
      viaFollower.awaitState(token, submitted(viaFollower, token, "remote"), "succeeded");
    } finally {
      if (agent != null) agent.close();
      first.close();
      if (second != null) second.close();
    }
  }

  /**
   * A job on the agent pool that outlasts {@code takeover}: it ends succeeded at its first attempt, and ran once
   * (each run of it appends a line to {@code runs}).
   */
  private static void runsOnceAcross(TestServer via, String token, Path runs, Takeover takeover) throws Exception {
    Fixtures fx = new Fixtures(via);
    String slow = fx.submitted(token, Fixtures.spec("remote", "sh", "-c", "echo run >> '" + runs + "'; sleep 6")
        .put("max_attempts", 3));
    Poll.until(() -> Files.exists(runs), x -> x, Duration.ofSeconds(30), "the slow job started on the agent");
    takeover.run();
    // reads may answer 503 while no node leads
    JsonObject ended = Poll.until(() -> via.get("/api/v1/jobs/" + slow, token), r -> r.status() == 200
        && r.json().getString("state").matches("succeeded|failed|cancelled|timed_out"), Duration.ofSeconds(90),
        "the slow job ended").json();
    assertThat(ended.getString("state")).as(ended.encode()).isEqualTo("succeeded");
    assertThat(ended.getInteger("attempts")).as("re-attached, not retried").isEqualTo(1);
    assertThat(Files.readAllLines(runs)).as("runs of the slow job").hasSize(1);
  }

  private interface Takeover {
    void run() throws Exception;
  }

  /** The fence: a group-commit write with an epoch that is not the current one changes nothing. */
  @Test
  void aJobWriteWithAStaleEpochIsRefusedAndOneWithTheCurrentEpochCommits() throws Exception {
    int port = freePort();
    try (TestServer server = TestServer.start(node(port, port))) {
      awaitLeader(server, "127.0.0.1:" + port, 1);
      Fixtures fx = new Fixtures(server);
      String token = fx.tenant("t2", null, 1, "submitter");
      fx.pool(new JsonObject().put("id", "empty").put("provider", "simulated").put("size", 0)
          .put("worker_cpu_m", 4000).put("worker_memory_mb", 8192), 0);
      String job = fx.submitted(token, Fixtures.spec("empty", "true"));
      long current = epoch();
      Vertx vertx = Vertx.vertx();
      try {
        PgConnectOptions options = PgConnectOptions.fromUri(db.url());
        AtomicInteger refused = new AtomicInteger();
        GroupCommit stale = new GroupCommit("stale", vertx, ConnectionSource.dedicated(vertx, options)
            .fenced(new Fence(current - 1, refused::incrementAndGet)), 10);
        assertThatThrownBy(() -> stale.write(GroupCommit.Statement.of(job,
            "UPDATE job SET state = 'running', worker_id = 'w-stale' WHERE id = $1", Tuple.of(job))).await())
            .hasMessageContaining("stale");
        assertThat(refused).hasValue(1);
        assertThat(db.column("SELECT state || '/' || coalesce(worker_id, '-') FROM job WHERE id = '" + job + "'"))
            .containsExactly("queued/-");

        GroupCommit fenced = new GroupCommit("current", vertx, ConnectionSource.dedicated(vertx, options)
            .fenced(new Fence(current, refused::incrementAndGet)), 10);
        fenced.write(GroupCommit.Statement.of(job, "UPDATE job SET priority = 7 WHERE id = $1", Tuple.of(job)))
            .await();
        assertThat(db.column("SELECT priority FROM job WHERE id = '" + job + "'")).containsExactly("7");
        assertThat(refused).hasValue(1);
        stale.drain().await();
        fenced.drain().await();
      } finally {
        vertx.close().await();
      }
    }
  }

  /** A job submitted while a takeover may still be under way: 503 (no scheduler serves yet) is tried again. */
  private static String submitted(Fixtures fx, String token) { return submitted(fx, token, "sim"); }

  private static String submitted(Fixtures fx, String token, String pool) {
    Response r = Poll.until(() -> fx.submit(token, Fixtures.spec(pool, "true")), x -> x.status() != 503,
        Duration.ofSeconds(30), "a submission accepted after the takeover");
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  @Test
  void aClusterNodeWithoutAnExternalDatabaseOrWithABadMemberListDoesNotStart() {
    Map<String, Object> embedded = node(5701, 5701);
    embedded.remove(ConfigSchema.DB_URL);
    assertThatThrownBy(() -> io.hodei.app.HodeiServer.start(TestServer.config(embedded)).await())
        .hasMessageContaining("cluster.enabled needs database.url");
    Map<String, Object> badMembers = node(5701, 5701);
    badMembers.put(ConfigSchema.CLUSTER_MEMBERS, "127.0.0.1:5701,nohost");
    assertThatThrownBy(() -> io.hodei.app.HodeiServer.start(TestServer.config(badMembers)).await())
        .hasMessageContaining("cluster.members: 'nohost' is not host:port");
  }

  private static long epochOrZero() {
    try {
      return epoch();
    } catch (Exception e) {
      return 0;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
