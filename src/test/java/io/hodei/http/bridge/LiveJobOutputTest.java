package io.hodei.http.bridge;

import io.hodei.grpc.v1.JobLog;
import io.hodei.grpc.v1.JobServiceGrpcClient;
import io.hodei.grpc.v1.StreamJobLogsRequest;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClientRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A running job's output is visible before it ends: {@code GET /jobs/{id}/logs} lists the running attempt as
 * {@code live}, {@code StreamJobLogs} with {@code follow} sends it as it grows, then the stored log once, and the
 * bridge carries it as {@code job.output} events to the job's tenant only.
 */
class LiveJobOutputTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String OUTPUT = "hodei.events.job.output";
  private static TestServer server;
  private static Fixtures fx;
  private static Vertx vertx;
  private static String tenant;
  private static String other;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of());
    fx = new Fixtures(server);
    tenant = fx.tenant("live", null, 1, "submitter");
    other = fx.tenant("other", null, 1, "submitter");
    fx.pool(new JsonObject().put("id", "here").put("provider", "local").put("size", 1).put("worker_cpu_m", 4000)
        .put("worker_memory_mb", 8192), 1);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  @Test
  void theFirstLineOfARunningJobIsServedBeforeItEnds() {
    BridgeClients.Client bridge = BridgeClients.sockJs(vertx, server.port());
    BridgeClients.Client otherBridge = BridgeClients.sockJs(vertx, server.port());
    bridge.register(OUTPUT, tenant);
    otherBridge.register(OUTPUT, other);
    // both registrations are in force before the job starts
    BridgeClients.publishUntilReceived(server, bridge, "job.output", "live", "ready-live", null);
    BridgeClients.publishUntilReceived(server, otherBridge, "job.output", "other", "ready-other", null);
    String id = fx.submitted(tenant, Fixtures.spec("here", "sh", "-c", "echo first-line; sleep 5; echo second-line"));
    List<JobLog> streamed = new CopyOnWriteArrayList<>();
    GrpcClientRequest<StreamJobLogsRequest, JobLog> call = GrpcTestClient.create(vertx).bearer(tenant)
        .request(SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"), JobServiceGrpcClient.StreamJobLogs)
        .await();
    call.end(StreamJobLogsRequest.newBuilder().setId(id).setFollow(true).build());
    call.response().onSuccess(response -> response.handler(streamed::add));

    JsonObject live = Poll.until(() -> lastAttempt(id), a -> a != null && a.getString("log", "").contains("first-line"),
        TIMEOUT, "the first line while the job runs");
    assertThat(live.getBoolean("live")).isTrue();
    assertThat(live.getString("log")).doesNotContain("second-line");
    assertThat(fx.job(tenant, id).getString("state")).as("seen before the end").isEqualTo("running");
    Poll.until(() -> List.copyOf(streamed), logs -> logs.stream().anyMatch(l -> l.getLog().contains("first-line")),
        TIMEOUT, "the first line on the stream");
    assertThat(fx.job(tenant, id).getString("state")).as("streamed before the end").isEqualTo("running");

    JsonObject event = bridge.awaitEvent(e -> id.equals(e.getString("job_id"))
        && e.getString("data", "").contains("first-line"), "the first line on the bridge");
    assertThat(event.getString("tenant_id")).isEqualTo("live");
    assertThat(event.getInteger("attempt")).isEqualTo(1);
    assertThat(fx.job(tenant, id).getString("state")).as("on the bridge before the end").isEqualTo("running");

    fx.awaitState(tenant, id, "succeeded");
    bridge.awaitEvent(e -> id.equals(e.getString("job_id")) && e.getString("data", "").contains("second-line"),
        "the second line on the bridge");
    assertThat(otherBridge.events()).as("another tenant sees none of it")
        .noneMatch(e -> id.equals(e.getString("job_id")));
    bridge.close();
    otherBridge.close();
    JsonObject stored = lastAttempt(id);
    assertThat(stored.containsKey("live")).isFalse();
    assertThat(stored.getString("log")).contains("first-line").contains("second-line");
    List<JobLog> all = Poll.until(() -> List.copyOf(streamed), logs -> !logs.isEmpty()
        && logs.get(logs.size() - 1).getLog().contains("second-line"), TIMEOUT, "the stored log on the stream");
    assertThat(all).allMatch(l -> l.getAttempt() == 1);
  }

  private static JsonObject lastAttempt(String id) {
    Response r = server.get("/api/v1/jobs/" + id + "/logs", tenant);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonArray attempts = r.json().getJsonArray("attempts");
    return attempts.isEmpty() ? null : attempts.getJsonObject(attempts.size() - 1);
  }
}
