package io.hodei.agent;

import com.google.protobuf.ByteString;
import io.hodei.grpc.v1.AgentMessage;
import io.hodei.grpc.v1.Assign;
import io.hodei.grpc.v1.Heartbeat;
import io.hodei.grpc.v1.JobEnded;
import io.hodei.grpc.v1.JobStarted;
import io.hodei.grpc.v1.LogChunk;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent stream against bad input, driven by hand over gRPC: wrong tokens, a token for another pool, an agent
 * claiming a job it was never given, a flood of log bytes. Each is refused or bounded and nothing else is affected.
 */
class AgentStreamTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestServer server;
  private static Fixtures fixtures;
  private static String submitter;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("agents.reconnect_grace_seconds", 30));
    fixtures = new Fixtures(server);
    for (String pool : new String[] {"p-auth", "p-other", "p-claims", "p-flood"}) {
      Response r = server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("id", pool).put("name", pool)
          .put("kind", "static").put("provider", "agent").put("size", 0));
      assertThat(r.status()).as(r.toString()).isEqualTo(201);
    }
    submitter = fixtures.tenant("t-stream", new JsonObject().put("max_concurrent_jobs", 100), 1, "submitter");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String token(String pool) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/pools/" + pool + "/agent-tokens", new JsonObject());
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("token");
  }

  private static GrpcStatus statusOf(String authorization, AgentMessage first) throws Exception {
    try (RawAgent agent = new RawAgent(server.port(), authorization)) {
      agent.send(first);
      return agent.status(WAIT);
    }
  }

  private static AgentMessage register(String id, String pool, int slots) {
    return AgentMessage.newBuilder().setRegister(RawAgent.register(id, pool, slots)).build();
  }

  @Test
  void wrongTokensAndATokenForAnotherPoolAreRefused() throws Exception {
    String token = token("p-auth");
    AgentMessage hello = register("a-auth", "p-auth", 1);
    assertThat(statusOf(null, hello)).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(statusOf("Bearer not-a-token", hello)).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(statusOf("Bearer " + TestServer.ADMIN_TOKEN, hello)).as("an API token is no agent token")
        .isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(statusOf("Bearer " + token("p-other"), hello)).as("a token for another pool")
        .isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(statusOf("Bearer " + token, AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()).build()))
        .as("the first message must be Register").isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(statusOf("Bearer " + token, register("a-auth", "p-auth", 0))).as("zero slots")
        .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(statusOf("Bearer " + token, register("../etc", "p-auth", 1))).as("an id that is no name")
        .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(server.get("/api/v1/pools", token).status()).as("an agent token is no API token").isEqualTo(401);

    // revoked: refused from then on
    JsonArray tokens = server.get("/api/v1/pools/p-auth/agent-tokens", TestServer.ADMIN_TOKEN).json()
        .getJsonArray("items");
    assertThat(tokens).isNotEmpty();
    assertThat(tokens.getJsonObject(0).containsKey("token")).as("secrets are never listed").isFalse();
    String revoked = token("p-auth");
    String revokedId = server.get("/api/v1/pools/p-auth/agent-tokens", TestServer.ADMIN_TOKEN).json()
        .getJsonArray("items").stream().map(JsonObject.class::cast).reduce((a, b) -> b).orElseThrow().getString("id");
    assertThat(server.admin(HttpMethod.DELETE, "/api/v1/pools/p-auth/agent-tokens/" + revokedId, null).status())
        .isEqualTo(200);
    assertThat(statusOf("Bearer " + revoked, hello)).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(server.get("/api/v1/pools/p-auth", TestServer.ADMIN_TOKEN).json().getJsonObject("workers")
        .getInteger("total")).as("no refused agent added a worker").isZero();
    assertThat(server.send(HttpMethod.POST, "/api/v1/pools/p-auth/agent-tokens", submitter, new JsonObject())
        .status()).as("only admins issue agent tokens").isEqualTo(403);
  }

  @Test
  void anAgentClaimingAJobItWasNeverGivenChangesNothing() throws Exception {
    String token = "Bearer " + token("p-claims");
    try (RawAgent honest = new RawAgent(server.port(), token)) {
      honest.send(RawAgent.register("honest", "p-claims", 1));
      honest.next(ServerMessage::hasRegistered, WAIT);
      awaitIdle("p-claims", 1);
      String job = submit("p-claims");
      Assign assign = honest.next(ServerMessage::hasAssign, WAIT).getAssign();
      assertThat(assign.getJobId()).isEqualTo(job);

      try (RawAgent rogue = new RawAgent(server.port(), token)) {
        rogue.send(RawAgent.register("rogue", "p-claims", 1));
        rogue.next(ServerMessage::hasRegistered, WAIT);
        rogue.send(AgentMessage.newBuilder().setStarted(JobStarted.newBuilder().setJobId(job)
            .setAttempt(assign.getAttempt()).setPid(4242)).build());
        ServerMessage kill = rogue.next(ServerMessage::hasKill, WAIT);
        assertThat(kill.getKill().getJobId()).as("the rogue is told to kill what it claims").isEqualTo(job);
        rogue.send(AgentMessage.newBuilder().setEnded(JobEnded.newBuilder().setJobId(job)
            .setAttempt(assign.getAttempt()).setOutcome("succeeded").setHasExitCode(true).setExitCode(0)
            .setLog("forged")).build());
        rogue.next(ServerMessage::hasAck, WAIT);
        assertThat(fixtures.job(submitter, job).getString("state")).as("the forged end changed nothing")
            .isEqualTo("running");
      }

      honest.send(AgentMessage.newBuilder().setStarted(JobStarted.newBuilder().setJobId(job)
          .setAttempt(assign.getAttempt()).setPid(4243)).build());
      honest.send(AgentMessage.newBuilder().setEnded(JobEnded.newBuilder().setJobId(job)
          .setAttempt(assign.getAttempt()).setOutcome("failed").setHasExitCode(true).setExitCode(5)
          .setErrorType("exit_code").setDurationMs(12).setLog("honest output\n")).build());
      JsonObject ended = fixtures.awaitState(submitter, job, "failed");
      assertThat(ended.getInteger("exit_code")).isEqualTo(5);
      assertThat(logOf(job)).isEqualTo("honest output\n");
    }
  }

  @Test
  void aFloodOfLogBytesIsBoundedAndNothingElseIsAffected() throws Exception {
    try (RawAgent flooder = new RawAgent(server.port(), "Bearer " + token("p-flood"))) {
      flooder.send(RawAgent.register("flooder", "p-flood", 1));
      flooder.next(ServerMessage::hasRegistered, WAIT);
      awaitIdle("p-flood", 1);
      String job = submit("p-flood");
      Assign assign = flooder.next(ServerMessage::hasAssign, WAIT).getAssign();
      ByteString chunk = ByteString.copyFrom(new byte[16 * 1024]);
      for (int i = 0; i < 300; i++) {
        flooder.send(AgentMessage.newBuilder().setLog(LogChunk.newBuilder().setJobId(job)
            .setAttempt(assign.getAttempt()).setData(chunk)).build());
      }
      String huge = "x".repeat(200_000) + "\0 the end\n";
      flooder.send(AgentMessage.newBuilder().setEnded(JobEnded.newBuilder().setJobId(job)
          .setAttempt(assign.getAttempt()).setOutcome("succeeded").setHasExitCode(true).setExitCode(0)
          .setLog(huge)).build());
      fixtures.awaitState(submitter, job, "succeeded");
      String log = logOf(job);
      assertThat(log.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(64 * 1024);
      assertThat(log).startsWith("[... ").endsWith("? the end\n");

      double dropped = Poll.until(() -> Prometheus.parse(server.get("/metrics", TestServer.ADMIN_TOKEN).body())
              .stream().filter(s -> s.name().equals("hodei_agent_stream_bytes_total")
                  && "p-flood".equals(s.labels().get("pool")) && "dropped".equals(s.labels().get("direction")))
              .mapToDouble(Prometheus.Sample::value).sum(), d -> d > 0, WAIT, "dropped bytes counted");
      assertThat(dropped).isEqualTo(300.0 * 16 * 1024 - 64 * 1024);
      assertThat(server.get("/health/ready", null).status()).isEqualTo(200);
    }
  }

  private static void awaitIdle(String pool, int n) {
    Poll.until(() -> server.get("/api/v1/pools/" + pool, TestServer.ADMIN_TOKEN).json(),
        p -> p.getJsonObject("workers").getInteger("idle") >= n, WAIT, pool + " idle");
  }

  private static String submit(String pool) {
    return fixtures.submitted(submitter, new JsonObject().put("pool_id", pool)
        .put("command", new JsonArray().add("true")).put("cpu_m", 100).put("memory_mb", 64).put("max_attempts", 1));
  }

  private static String logOf(String job) {
    JsonArray attempts = server.get("/api/v1/jobs/" + job + "/logs", submitter).json().getJsonArray("attempts");
    return attempts.getJsonObject(attempts.size() - 1).getString("log");
  }
}
