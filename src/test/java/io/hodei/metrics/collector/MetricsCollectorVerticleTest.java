package io.hodei.metrics.collector;

import io.hodei.metrics.MetricsAddresses;
import io.hodei.metrics.SelfCost;
import io.hodei.common.MetricCatalog;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.pool.PoolAddresses;
import io.hodei.support.Poll;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The collector against a stand-in pool domain: snapshot failures, pools leaving the snapshot, undeploy. */
class MetricsCollectorVerticleTest {
  private Vertx vertx;
  private SimpleMeterRegistry registry;
  /** What the stand-in pool domain answers: a snapshot, or a failure when null. */
  private final AtomicReference<JsonObject> snapshot = new AtomicReference<>();
  private MessageConsumer<JsonObject> poolDomain;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    registry = new SimpleMeterRegistry();
    poolDomain = Bus.serve(vertx, PoolAddresses.SNAPSHOT, req -> {
      JsonObject answer = snapshot.get();
      return answer == null ? io.vertx.core.Future.failedFuture(DomainException.unavailable("pools are restarting"))
          : io.vertx.core.Future.succeededFuture(answer.copy());
    });
    poolDomain.completion().await();
    // Like the real pool domain: a pool exists while it is in the snapshot.
    Bus.serve(vertx, PoolAddresses.GET, req -> {
      JsonObject answer = snapshot.get();
      String id = req.param("id");
      boolean known = answer != null && answer.getJsonArray("pools").stream()
          .anyMatch(p -> id.equals(((JsonObject) p).getString("id")));
      return known ? io.vertx.core.Future.succeededFuture(new JsonObject().put("id", id))
          : io.vertx.core.Future.failedFuture(DomainException.notFound("pool", id));
    }).completion().await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  static JsonObject pool(String id, int idle) {
    JsonArray workers = new JsonArray();
    for (int i = 0; i < idle; i++) {
      workers.add(new JsonObject().put("id", id + "-w" + i).put("state", "idle").put("health", "healthy")
          .put("memory_mb", 100));
    }
    return new JsonObject().put("id", id).put("state", "active").put("kind", "static").put("provider", "simulated")
        .put("min_size", idle).put("max_size", idle).put("target_size", idle).put("price_per_worker_hour", 0.25)
        .put("workers", new JsonObject().put("idle", idle).put("total", idle)).put("workers_detail", workers);
  }

  private JsonObject ask(String address) { return ask(address, new JsonObject()); }

  private JsonObject ask(String address, JsonObject params) {
    JsonObject envelope = BusRequest.envelope(params, new JsonObject(), new JsonObject(), null);
    return Bus.request(vertx, address, envelope, Caller.system(), null).await();
  }

  private double gauge(String pool) {
    var found = registry.find(MetricCatalog.POOL_SIZE.meterName()).tag("pool", pool).tag("bound", "target").gauge();
    return found == null ? Double.NaN : found.value();
  }

  @Test
  void failedRunsAreCountedAndPoolsLeavingTheSnapshotLoseTheirMeters() {
    String id = vertx.deployVerticle(new MetricsCollectorVerticle(new MetricsSettings(true, 1), registry, new SelfCost())).await();
    JsonObject failed = Poll.until(() -> ask(MetricsAddresses.COLLECTOR).getJsonObject("collector"),
        c -> c.getLong("errors") > 0, Duration.ofSeconds(20), "a failed run");
    assertThat(failed.getString("last_error")).contains("pools are restarting");
    assertThat(failed.getString("last_success_at")).isNull();

    snapshot.set(new JsonObject().put("pools", new JsonArray().add(pool("a", 2)).add(pool("b", 1))));
    Poll.until(() -> gauge("b"), v -> v == 1.0, Duration.ofSeconds(20), "pool b measured");
    assertThat(gauge("a")).isEqualTo(2.0);
    JsonObject health = ask(MetricsAddresses.HEALTH);
    assertThat(health.getString("status")).isEqualTo("Healthy");
    assertThat(health.getJsonArray("pools")).hasSize(2);

    snapshot.set(new JsonObject().put("pools", new JsonArray().add(pool("a", 2))));
    Poll.until(() -> registry.find(MetricCatalog.POOL_WORKERS.meterName()).tag("pool", "b").gauges().isEmpty(),
        gone -> gone, Duration.ofSeconds(20), "pool b's meters removed");
    assertThat(registry.getMeters()).noneMatch(m -> "b".equals(m.getId().getTag("pool")));
    assertThat(gauge("a")).isEqualTo(2.0);
    assertThatThrownBy(() -> ask(MetricsAddresses.POOL, new JsonObject().put("id", "b")))
        .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(404));
    assertThat(ask(MetricsAddresses.POOL, new JsonObject().put("id", "a")).getDouble("cost_per_hour")).isEqualTo(0.5);

    vertx.undeploy(id).await();
    assertThat(registry.getMeters()).noneMatch(m -> m.getId().getName().startsWith("hodei_pool_"));
    assertThatThrownBy(() -> ask(MetricsAddresses.HEALTH))
        .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(503));
  }

  @Test
  void workersTakingAndGivingBackJobsAreNotKeptButTheirLifecycleIs() {
    String address = io.hodei.common.Events.address(io.hodei.common.Events.WORKER_STATE);
    JsonObject taken = new JsonObject().put("worker_id", "w1").put("pool_id", "p1").put("reason", "job j-1");
    JsonObject givenBack = taken.copy().put("reason", "job j-1 succeeded");
    JsonObject ready = taken.copy().put("reason", "ready").put("duration_ms", 12L);
    assertThat(CollectedEvents.keep(address, taken)).isNull();
    assertThat(CollectedEvents.keep(address, givenBack)).isNull();
    assertThat(CollectedEvents.keep(address, ready))
        .isEqualTo(new CollectedEvents.WorkerMoved("p1", "w1", "ready", 12L));
  }
}
