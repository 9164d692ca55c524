package io.hodei.metrics.collector;

import io.hodei.metrics.SelfCost;
import io.hodei.common.Events;
import io.hodei.support.Poll;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The collector's event tap: every event {@link Events#publish}ed to its addresses, in publish order, on the collector's
 * context only.
 */
class EventTapTest {
  private static final String TAPPED_TYPE = "test.tapped";
  private static final String OTHER_TYPE = "test.other";
  private static final String TAPPED = Events.address(TAPPED_TYPE);

  private Vertx vertx;
  private Context context;
  private final List<String> applied = new CopyOnWriteArrayList<>();
  private final AtomicInteger offContext = new AtomicInteger();
  private EventTap<String> tap;
  private Events events;
  private final SelfCost cost = new SelfCost();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    events = new Events(vertx, new SimpleMeterRegistry());
    tap = new EventTap<String>(vertx, context, Set.of(TAPPED), (address, event) -> event.getString("id"), t -> {
      if (Vertx.currentContext() != context) offContext.incrementAndGet();
      applied.add(t.event());
    }, cost).open();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void everyEventOfItsAddressesIsAppliedInOrderOnItsContextAndOthersStillReachTheirConsumers() {
    List<String> delivered = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(TAPPED, m -> delivered.add(m.body().getString("id")));
    consumer.completion().await();
    List<String> published = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      published.add("e" + i);
      events.publish(TAPPED_TYPE, new JsonObject().put("id", "e" + i));
      events.publish(OTHER_TYPE, new JsonObject().put("id", "other" + i));
    }
    Poll.until(applied::size, n -> n == published.size(), Duration.ofSeconds(20), "every event applied");
    assertThat(applied).containsExactlyElementsOf(published);
    assertThat(offContext.get()).isZero();
    Poll.until(delivered::size, n -> n == published.size(), Duration.ofSeconds(20), "every event delivered");
    assertThat(delivered).containsExactlyElementsOf(published);
    // its cost is measured: of 2,000 tapped events, about 31 are sampled (none: p = (63/64)^2000 < 1e-13)
    assertThat(cost.seconds(SelfCost.Part.TAP)).isPositive();
    assertThat(cost.bytes(SelfCost.Part.TAP)).isPositive();
    assertThat(cost.seconds(SelfCost.Part.APPLY)).isPositive();
  }

  @Test
  void drainAppliesWhatIsQueuedAtOnceAndNothingIsTappedAfterClose() {
    events.publish(TAPPED_TYPE, new JsonObject().put("id", "a"));
    onContext(tap::drain);
    assertThat(applied).containsExactly("a");
    onContext(tap::close);
    events.publish(TAPPED_TYPE, new JsonObject().put("id", "b"));
    onContext(tap::drain);
    assertThat(applied).containsExactly("a");
  }

  /** Runs {@code action} on the tap's context and waits for it. */
  private void onContext(Runnable action) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      action.run();
      done.complete();
    });
    done.future().await();
  }
}
