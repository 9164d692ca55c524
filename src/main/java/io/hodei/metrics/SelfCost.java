package io.hodei.metrics;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * What {@code metrics.enabled=true} costs the server, measured by the metrics subsystem itself and exported as
 * {@link MetricCatalog#METRICS_SELF_SECONDS} and {@link MetricCatalog#METRICS_SELF_BYTES} by {@link Part}:
 * <ul>
 *   <li>work on an event loop or worker thread (applying tapped events, a collection, a runtime or history sample):
 *   the thread's CPU time and the bytes it allocated meanwhile, read around the work;</li>
 *   <li>the event tap on the publishers' threads: one call in {@value #TAP_SAMPLE}, picked at random, is timed (wall
 *   time, as a call is far shorter than a scheduling slice; a call the thread was descheduled in is left out, see
 *   {@link #TAP_PREEMPTED_NANOS}) and counted {@value #TAP_SAMPLE} times;</li>
 *   <li>what runs elsewhere on its behalf (its SQL statements, the pool domain building a snapshot): the wall time
 *   from request to answer, which bounds the CPU both ends spend on it from above.</li>
 * </ul>
 * Thread-safe: the tap adds from every publisher's thread.
 */
public final class SelfCost {
  /** Where the time goes. */
  public enum Part {
    /** The event tap on the publishers' threads (every domain event it observes passes it). */
    TAP,
    /** Applying the tapped events to the meters, on the collector's loop. */
    APPLY,
    /** A collection: the pool snapshot, from request to applied. */
    COLLECT,
    /** The runtime sampler: request rates, database pool and transactions, OS figures, the event-loop probe. */
    RUNTIME,
    /** The history: samples, rollups and retention, with their SQL. */
    HISTORY;

    public String wire() { return name().toLowerCase(Locale.ROOT); }
  }

  /** One tap call in this many is measured. */
  public static final int TAP_SAMPLE = 64;
  /**
   * A measured tap call that took longer than this (wall time) is left out: the thread was descheduled or held at a
   * safepoint meanwhile (a call is a few hundred ns; a scheduling slice or a GC pause is 100 us or more). Such calls
   * are a tiny fraction of the sample, so leaving them out barely lowers the estimate.
   */
  public static final long TAP_PREEMPTED_NANOS = 50_000;

  private static final com.sun.management.ThreadMXBean THREADS = threads();

  private final LongAdder[] nanos = adders();
  private final LongAdder[] bytes = adders();
  private final List<Meter> meters = new ArrayList<>();

  /** The current thread's CPU time in ns (-1 when the JVM cannot tell). */
  public static long cpuNow() { return THREADS == null ? -1 : THREADS.getCurrentThreadCpuTime(); }

  /** Bytes the current thread allocated so far (-1 when the JVM cannot tell). */
  public static long allocatedNow() { return THREADS == null ? -1 : THREADS.getCurrentThreadAllocatedBytes(); }

  /** Bytes the current thread allocated since {@code bytes0} (a read of {@link #allocatedNow}; 0 when unknown). */
  public static long allocatedSince(long bytes0) { return bytes0 < 0 ? 0 : allocatedNow() - bytes0; }

  /** Adds the CPU and allocation of the current thread since {@code cpu0} / {@code bytes0} (from the two reads). */
  public void since(Part part, long cpu0, long bytes0) {
    if (cpu0 >= 0) nanos[part.ordinal()].add(Math.max(0, cpuNow() - cpu0));
    if (bytes0 >= 0) bytes[part.ordinal()].add(Math.max(0, allocatedNow() - bytes0));
  }

  /** Runs {@code work} on this thread and adds its CPU and allocation to {@code part}. */
  public void run(Part part, Runnable work) {
    long cpu0 = cpuNow();
    long bytes0 = allocatedNow();
    try {
      work.run();
    } finally {
      since(part, cpu0, bytes0);
    }
  }

  /** Adds wall time (ns) spent elsewhere on the subsystem's behalf, or an estimate from a sample. */
  public void add(Part part, long wallNanos, long allocated) {
    nanos[part.ordinal()].add(Math.max(0, wallNanos));
    bytes[part.ordinal()].add(Math.max(0, allocated));
  }

  /** {@code work}'s wall time from now until it completes, added to {@code part} (for SQL and bus requests). */
  public <T> Future<T> timed(Part part, Future<T> work) {
    long started = System.nanoTime();
    return work.andThen(ar -> add(part, System.nanoTime() - started, 0));
  }

  /**
   * Wall time from calling {@code work} until its future completes (its own code, its SQL and what answers it),
   * with the bytes the call allocated on this thread.
   */
  public <T> Future<T> timed(Part part, Supplier<Future<T>> work) {
    long started = System.nanoTime();
    long bytes0 = allocatedNow();
    Future<T> future = work.get();
    long allocated = allocatedSince(bytes0);
    return future.andThen(ar -> add(part, System.nanoTime() - started, allocated));
  }

  public double seconds(Part part) { return nanos[part.ordinal()].sum() / 1e9; }

  public long bytes(Part part) { return bytes[part.ordinal()].sum(); }

  /** Seconds and bytes by part, and their totals (the collector's status answer). */
  public JsonObject toJson() {
    JsonObject seconds = new JsonObject();
    JsonObject allocated = new JsonObject();
    double totalSeconds = 0;
    long totalBytes = 0;
    for (Part p : Part.values()) {
      seconds.put(p.wire(), seconds(p));
      allocated.put(p.wire(), bytes(p));
      totalSeconds += seconds(p);
      totalBytes += bytes(p);
    }
    return new JsonObject().put("seconds", seconds.put("total", totalSeconds))
        .put("allocated_bytes", allocated.put("total", totalBytes));
  }

  /** Registers the two counters (one series per part each). */
  public void register(MeterRegistry registry) {
    for (Part p : Part.values()) {
      meters.add(MetricCatalog.METRICS_SELF_SECONDS.functionCounter(this, c -> c.seconds(p))
          .tag(MetricCatalog.PART, p.wire())
          .register(registry));
      meters.add(MetricCatalog.METRICS_SELF_BYTES.functionCounter(this, c -> c.bytes(p))
          .tag(MetricCatalog.PART, p.wire())
          .register(registry));
    }
  }

  public void unregister(MeterRegistry registry) {
    meters.forEach(registry::remove);
    meters.clear();
  }

  private static LongAdder[] adders() {
    LongAdder[] a = new LongAdder[Part.values().length];
    for (int i = 0; i < a.length; i++) a[i] = new LongAdder();
    return a;
  }

  private static com.sun.management.ThreadMXBean threads() {
    if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t)) return null;
    try {
      if (!t.isCurrentThreadCpuTimeSupported() || !t.isThreadAllocatedMemorySupported()) return null;
      if (!t.isThreadCpuTimeEnabled()) t.setThreadCpuTimeEnabled(true);
      if (!t.isThreadAllocatedMemoryEnabled()) t.setThreadAllocatedMemoryEnabled(true);
      return t;
    } catch (UnsupportedOperationException | SecurityException e) {
      return null;
    }
  }
}
