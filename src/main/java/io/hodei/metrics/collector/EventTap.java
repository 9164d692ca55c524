package io.hodei.metrics.collector;

import io.hodei.metrics.SelfCost;
import io.hodei.common.EventObservers;
import io.hodei.common.Events;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * How the collector receives the domain events it counts without an event-loop hop per event. A consumer on the
 * collector's event loop costs a hand-off to that loop and, as the loop is mostly idle, a wake-up of it (an eventfd
 * write, an epoll return) for every event: four per job (job started and finished, the worker taken and given
 * back), which was most of the event-loop CPU that {@code metrics.enabled=true} added under load. The tap is an
 * in-process observer of {@link Events#publish} instead ({@link EventObservers}; until 2026-11-24 an event-bus
 * interceptor, which every other message passed too): it sees each event of its addresses on the publisher's own
 * thread and queues what it keeps of it (with when it was published); the collector applies the queue on its own
 * loop in batches, at most {@link #BATCH_MS} ms after the first event of a batch (one hop and one timer per batch,
 * nothing while no event arrives), and before anything that reads its state ({@link #drain}). Every event is
 * applied, in publish order.
 *
 * <p>What is queued is not the published {@link JsonObject} but what {@code extract} keeps of it (a few fields),
 * read on the publisher's thread: like every consumer of a domain event ({@link io.hodei.common.EventCodec}) the tap
 * only reads the event, and its publisher no longer changes it. Queued events live until their batch is applied;
 * whole events held that long were copied by every young collection that found them queued.
 *
 * <p>Its cost is measured ({@link SelfCost}): one event in {@link SelfCost#TAP_SAMPLE} on the publishers' threads
 * ({@link SelfCost.Part#TAP}), and each batch applied ({@link SelfCost.Part#APPLY}).
 *
 * @param <T> what the sink needs of one event
 */
final class EventTap<T> implements BiConsumer<String, JsonObject> {
  /** The longest an event waits before the collector applies it (metrics are scraped every few seconds). */
  static final long BATCH_MS = 100;

  /** What was kept of one published event, and {@link System#nanoTime()} at its publication. */
  record Tapped<T>(T event, long nanos) {}

  private final Vertx vertx;
  private final Context context;
  private final Set<String> addresses;
  private final BiFunction<String, JsonObject, T> extract;
  private final Consumer<Tapped<T>> sink;
  private final SelfCost cost;
  private final ConcurrentLinkedQueue<Tapped<T>> queue = new ConcurrentLinkedQueue<>();
  /** A drain is scheduled (set by the publisher that queues the first event of a batch). */
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile boolean closed;
  private long timer = -1;

  /**
   * @param context the collector's context: batches are applied there, and {@code sink} is only called there
   * @param extract on the publisher's thread, what to keep of an event published to an address (null: nothing)
   * @param sink    applies one event
   * @param cost    where the tap's own cost is added
   */
  EventTap(Vertx vertx, Context context, Set<String> addresses, BiFunction<String, JsonObject, T> extract,
           Consumer<Tapped<T>> sink, SelfCost cost) {
    if (!addresses.stream().allMatch(a -> a.startsWith(Events.PREFIX))) {
      throw new IllegalArgumentException("only domain events (" + Events.PREFIX + "*) are tapped: " + addresses);
    }
    this.vertx = vertx;
    this.context = context;
    this.addresses = Set.copyOf(addresses);
    this.extract = extract;
    this.sink = sink;
    this.cost = cost;
  }

  /** Starts observing the events. */
  EventTap<T> open() {
    EventObservers.of(vertx).add(addresses, this);
    return this;
  }

  /** Stops tapping; events still queued are dropped. Call on the collector's context. */
  void close() {
    closed = true;
    EventObservers.of(vertx).remove(this);
    if (timer >= 0) vertx.cancelTimer(timer);
    queue.clear();
  }

  /** On the publisher's thread, for every event published to one of its addresses: keep it short. */
  @Override
  public void accept(String address, JsonObject event) {
    if (closed) return;
    // picked at random: the events of a job come in a fixed sequence, which every n-th one would sample unevenly
    if (ThreadLocalRandom.current().nextInt(SelfCost.TAP_SAMPLE) != 0) {
      tap(address, event);
      return;
    }
    long bytes0 = SelfCost.allocatedNow();
    long t0 = System.nanoTime();
    tap(address, event);
    long nanos = System.nanoTime() - t0;
    long bytes = SelfCost.allocatedSince(bytes0);
    // a call this long was descheduled or stopped at a safepoint meanwhile: its wall time is not its cost
    if (nanos < SelfCost.TAP_PREEMPTED_NANOS) {
      cost.add(SelfCost.Part.TAP, nanos * SelfCost.TAP_SAMPLE, bytes * SelfCost.TAP_SAMPLE);
    }
  }

  private void tap(String address, JsonObject event) {
    T kept = extract.apply(address, event);
    if (kept != null) {
      queue.add(new Tapped<>(kept, System.nanoTime()));
      // read first: a failed compare-and-set still takes the cache line from the other publishers
      if (!scheduled.get() && scheduled.compareAndSet(false, true)) context.runOnContext(v -> schedule());
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
    if (queue.isEmpty()) return;
    long cpu0 = SelfCost.cpuNow();
    long bytes0 = SelfCost.allocatedNow();
    for (Tapped<T> t = queue.poll(); t != null && !closed; t = queue.poll()) sink.accept(t);
    cost.since(SelfCost.Part.APPLY, cpu0, bytes0);
  }
}
