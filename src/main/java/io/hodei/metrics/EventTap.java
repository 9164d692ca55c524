package io.hodei.metrics;

import io.hodei.common.Events;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * How the collector receives the domain events it counts without an event-loop hop per event. A consumer on the
 * collector's event loop costs a hand-off to that loop and, as the loop is mostly idle, a wake-up of it (an eventfd
 * write, an epoll return) for every event: four per job (job started and finished, the worker taken and given
 * back), which was most of the event-loop CPU that {@code metrics.enabled=true} added under load. The tap is an
 * outbound event-bus interceptor instead: it sees each publish to one of its addresses on the publisher's own thread
 * and queues the event (with when it was published); the collector applies the queue on its own loop in batches, at
 * most {@link #BATCH_MS} ms after the first event of a batch (one hop and one timer per batch, nothing while no event
 * arrives), and before anything that reads its state ({@link #drain}). Every event is applied, in publish order.
 *
 * <p>The queued event is the published {@link JsonObject} itself: like every consumer of a domain event
 * ({@link io.hodei.common.EventCodec}) the collector only reads it, and its publisher no longer changes it.
 */
final class EventTap implements Handler<DeliveryContext<Object>> {
  /** The longest an event waits before the collector applies it (metrics are scraped every few seconds). */
  static final long BATCH_MS = 100;

  /** One published event: its address, its body and {@link System#nanoTime()} at its publication. */
  record Tapped(String address, JsonObject event, long nanos) {}

  private final Vertx vertx;
  private final Context context;
  private final Set<String> addresses;
  private final Consumer<Tapped> sink;
  private final ConcurrentLinkedQueue<Tapped> queue = new ConcurrentLinkedQueue<>();
  /** A drain is scheduled (set by the publisher that queues the first event of a batch). */
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile boolean closed;
  private long timer = -1;

  /**
   * @param context the collector's context: batches are applied there, and {@code sink} is only called there
   * @param sink    applies one event
   */
  EventTap(Vertx vertx, Context context, Set<String> addresses, Consumer<Tapped> sink) {
    if (!addresses.stream().allMatch(a -> a.startsWith(Events.PREFIX))) {
      throw new IllegalArgumentException("only domain events (" + Events.PREFIX + "*) are tapped: " + addresses);
    }
    this.vertx = vertx;
    this.context = context;
    this.addresses = Set.copyOf(addresses);
    this.sink = sink;
  }

  /** Starts tapping the event bus. */
  EventTap open() {
    vertx.eventBus().addOutboundInterceptor(this);
    return this;
  }

  /** Stops tapping; events still queued are dropped. Call on the collector's context. */
  void close() {
    closed = true;
    vertx.eventBus().removeOutboundInterceptor(this);
    if (timer >= 0) vertx.cancelTimer(timer);
    queue.clear();
  }

  /** On the publisher's thread, for every message sent or published on the event bus: keep it short. */
  @Override
  public void handle(DeliveryContext<Object> delivery) {
    try {
      String address = delivery.message().address();
      // most messages are requests and replies: the prefix turns them away before any hashing
      if (!closed && address.startsWith(Events.PREFIX) && addresses.contains(address)
          && delivery.body() instanceof JsonObject event) {
        queue.add(new Tapped(address, event, System.nanoTime()));
        if (scheduled.compareAndSet(false, true)) context.runOnContext(v -> schedule());
      }
    } finally {
      delivery.next();
    }
  }

  private void schedule() {
    if (closed) return;
    timer = vertx.setTimer(BATCH_MS, id -> {
      timer = -1;
      // cleared before the queue is read: a publisher that queues after this schedules the next batch itself
      scheduled.set(false);
      drain();
    });
  }

  /**
   * Applies every event queued so far, in publish order; on the collector's context. Called by the batch timer and
   * by the collector before it reads its state (a batch still scheduled then finds the events queued after it).
   */
  void drain() {
    for (Tapped t = queue.poll(); t != null && !closed; t = queue.poll()) sink.accept(t);
  }
}
