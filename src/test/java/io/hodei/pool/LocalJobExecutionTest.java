package io.hodei.pool;

import io.hodei.app.config.ConfigSchema;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real OS processes on a local-provider pool, driven through the pool domain's event-bus contract (the one the
 * scheduler uses): start a job on a worker, receive its finish message.
 */
class LocalJobExecutionTest {
  private static TestServer server;
  private static final Map<String, JsonObject> finished = new ConcurrentHashMap<>();
  private static final AtomicInteger ids = new AtomicInteger();

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1));
    server.server().vertx().eventBus().<JsonObject>consumer(PoolAddresses.RUN_ENDED,
        msg -> finished.put(msg.body().getString("job_id"), msg.body())).completion().await();
    Response r = server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("id", "local-a")
        .put("provider", "local").put("size", 2).put("worker_cpu_m", 1000).put("worker_memory_mb", 512));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    Poll.until(() -> server.get("/api/v1/pools/local-a", TestServer.ADMIN_TOKEN).json(),
        p -> p.getJsonObject("workers").getInteger("idle") == 2, Duration.ofSeconds(30), "local pool ready");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject run(JsonArray command, int timeoutSeconds) {
    String jobId = "job-" + ids.incrementAndGet();
    JsonObject job = new JsonObject().put("job_id", jobId).put("command", command).put("timeout_s", timeoutSeconds)
        .put("cpu_m", 500).put("memory_mb", 256).put("env", new JsonObject().put("GREETING", "hello from hodei"));
    JsonObject started = start(job);
    assertThat(started.getString("pool_id")).isEqualTo("local-a");
    assertThat(started.getLong("pid")).isPositive();
    return Poll.until(() -> finished.get(jobId), f -> f != null, Duration.ofSeconds(30), "job " + jobId + " finished");
  }

  private static JsonObject start(JsonObject job) {
    return Bus.request(server.server().vertx(), PoolAddresses.JOB_START,
        BusRequest.envelope(new JsonObject(), new JsonObject(),
            new JsonObject().put("job", job).put("pool_ids", new JsonArray().add("local-a")), null),
        Caller.system(), "test").await();
  }

  @Test
  void echoSucceedsWithItsOutputCaptured() {
    JsonObject result = run(new JsonArray().add("sh").add("-c").add("echo $GREETING"), 10);
    assertThat(result.getString("outcome")).isEqualTo("succeeded");
    assertThat(result.getInteger("exit_code")).isZero();
    assertThat(result.getString("log")).contains("hello from hodei");
    assertThat(result.getString("error_type")).isNull();
  }

  @Test
  void aFailingCommandReportsItsExitCode() {
    JsonObject result = run(new JsonArray().add("sh").add("-c").add("exit 3"), 10);
    assertThat(result.getString("outcome")).isEqualTo("failed");
    assertThat(result.getInteger("exit_code")).isEqualTo(3);
    assertThat(result.getString("error_type")).isEqualTo("exit_code");
  }

  @Test
  void aCommandOverItsTimeoutIsKilled() {
    JsonObject result = run(new JsonArray().add("sleep").add("30"), 1);
    assertThat(result.getString("outcome")).isEqualTo("timed_out");
    assertThat(result.getString("error_type")).isEqualTo("timeout");
  }

  @Test
  void aMissingExecutableIsAnInvalidCommand() {
    String jobId = "job-" + ids.incrementAndGet();
    JsonObject job = new JsonObject().put("job_id", jobId)
        .put("command", new JsonArray().add("/definitely/not/here")).put("cpu_m", 100).put("memory_mb", 64);
    start(job);
    JsonObject result = Poll.until(() -> finished.get(jobId), f -> f != null, Duration.ofSeconds(30), "finished");
    assertThat(result.getString("outcome")).isEqualTo("failed");
    assertThat(result.getString("error_type")).isEqualTo("invalid_command");
  }

  @Test
  void jobsLargerThanAnyWorkerFindNoCapacityAndLocalWorkersCannotBeCrashed() {
    JsonObject huge = new JsonObject().put("job_id", "too-big").put("command", new JsonArray().add("true"))
        .put("cpu_m", 64_000).put("memory_mb", 64);
    assertThatThrownBy(() -> start(huge)).isInstanceOfSatisfying(DomainException.class,
        e -> assertThat(e.status()).isEqualTo(409));
    String worker = server.get("/api/v1/pools/local-a/workers", TestServer.ADMIN_TOKEN).json().getJsonArray("items")
        .getJsonObject(0).getString("id");
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools/local-a/workers/" + worker + "/crash", null), 409);
  }
}
