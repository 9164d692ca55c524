package io.hodei.agent;

import io.hodei.grpc.v1.AgentMessage;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failed agent-token logins on the Connect stream count per remote address like failed API tokens: past the limit
 * the stream is refused at once, without looking the token up (so even a valid token is refused until the window
 * ends).
 */
class AgentLoginLimitTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void pastTheLimitAnAddressIsRefusedWithoutItsTokenBeingLookedUp() throws Exception {
    try (TestServer server = TestServer.start(Map.of("server.auth_failure_limit", 3,
        "server.auth_failure_window_seconds", 600))) {
      Response pool = server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("id", "p-limit")
          .put("name", "p-limit").put("kind", "static").put("provider", "agent").put("size", 0));
      assertThat(pool.status()).as(pool.toString()).isEqualTo(201);
      Response token = server.admin(HttpMethod.POST, "/api/v1/pools/p-limit/agent-tokens", new JsonObject());
      assertThat(token.status()).as(token.toString()).isEqualTo(201);
      String valid = "Bearer " + token.json().getString("token");
      AgentMessage hello = AgentMessage.newBuilder().setRegister(RawAgent.register("a-limit", "p-limit", 1)).build();

      assertThat(status(server, valid, hello)).as("a valid token before any failure").isEqualTo(GrpcStatus.OK);
      for (int i = 0; i < 3; i++) {
        assertThat(status(server, "Bearer wrong-" + i, hello)).as("failure " + (i + 1) + " of 3")
            .isEqualTo(GrpcStatus.UNAUTHENTICATED);
      }
      assertThat(status(server, "Bearer wrong-again", hello)).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      assertThat(status(server, valid, hello)).as("refused before the lookup: even a valid token")
          .isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      double limited = Prometheus.parse(server.get("/metrics", TestServer.ADMIN_TOKEN).body()).stream()
          .filter(s -> s.name().equals("hodei_auth_failures_total") && "limited".equals(s.labels().get("outcome")))
          .mapToDouble(Prometheus.Sample::value).sum();
      assertThat(limited).isEqualTo(2.0);
    }
  }

  /** The status the stream ends with; OK when the server registered the agent (the test then ends the stream). */
  private static GrpcStatus status(TestServer server, String authorization, AgentMessage first) throws Exception {
    try (RawAgent agent = new RawAgent(server.port(), authorization)) {
      agent.send(first);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (System.nanoTime() < deadline) {
        try {
          agent.next(m -> m.hasRegistered(), Duration.ofMillis(100));
          return GrpcStatus.OK;
        } catch (AssertionError notYet) {
          if (agent.ended()) return agent.status(WAIT);
        }
      }
      throw new AssertionError("neither registered nor ended within " + WAIT);
    }
  }
}
