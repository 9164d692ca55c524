package io.hodei.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.hodei.store.WriteQueue.Write;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A writer's stall bookkeeping: back-off, order of the retry, what readiness reports. */
class StallTest {
  private static Vertx vertx;

  @BeforeAll
  static void start() { vertx = Vertx.vertx(); }

  @AfterAll
  static void stop() { vertx.close().await(); }

  private static Write write(long seq) {
    return new Write(List.of(), Promise.promise(), true, seq);
  }

  @Test
  void thePauseBetweenTriesDoublesUpToTheLongestAndStartsOverAfterRecovery() {
    Stall stall = Stall.register(vertx, "backoff");
    assertThat(stall.begin(new RuntimeException("down"), 1_000)).isTrue();
    assertThat(stall.begin(new RuntimeException("still down"), 2_000)).isFalse();
    assertThat(stall.nextRetryDelayMs()).isEqualTo(Stall.FIRST_RETRY_MS);
    long previous = Stall.FIRST_RETRY_MS;
    for (int i = 0; i < 10; i++) {
      long next = stall.nextRetryDelayMs();
      assertThat(next).isEqualTo(Math.min(Stall.MAX_RETRY_MS, previous * 2));
      previous = next;
    }
    assertThat(previous).isEqualTo(Stall.MAX_RETRY_MS);
    assertThat(stall.end(1_500)).isEqualTo(500);
    assertThat(stall.active()).isFalse();
    assertThat(stall.end(1_600)).isEqualTo(-1);
    assertThat(stall.nextRetryDelayMs()).isEqualTo(Stall.FIRST_RETRY_MS);
    Stall.unregister(vertx, stall);
  }

  @Test
  void stalledWritesAreTriedAgainInQueueOrder() {
    Stall stall = Stall.register(vertx, "order");
    Write w1 = write(1);
    Write w2 = write(2);
    Write w3 = write(3);
    stall.add(w3);
    stall.add(w1);
    stall.add(w2);
    assertThat(stall.takeInQueueOrder()).containsExactly(w1, w2, w3);
    assertThat(stall.hasWaiting()).isFalse();
    Stall.unregister(vertx, stall);
  }

  @Test
  void readinessReportsStalledWritersUntilTheyRecoverOrClose() {
    Stall ok = Stall.register(vertx, "ok");
    Stall down = Stall.register(vertx, "down");
    down.begin(new RuntimeException("connection refused"), 86_400_000);
    assertThat(Stall.report(vertx)).containsExactly(new JsonObject().put("writer", "down")
        .put("since", "1970-01-02T00:00:00Z").put("reason", "connection refused"));
    down.end(86_400_500);
    assertThat(Stall.report(vertx)).isEmpty();
    down.begin(new RuntimeException("again"), 86_401_000);
    Stall.unregister(vertx, down);
    assertThat(Stall.report(vertx)).isEmpty();
    Stall.unregister(vertx, ok);
  }
}
