package io.hodei.store;

import io.hodei.store.WriteQueue.Write;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * A {@link GroupCommit} writer's stall, as bookkeeping: the durable writes whose transaction failed for a transient
 * reason and wait to be tried again (in queue order, whatever order their failures came in), since when and why the
 * writer is stalled, and the growing pause between tries. The writer decides when to try (timers, transactions);
 * this only keeps the state. Confined to the writer's event loop, except {@link #since} and {@link #reason}, which
 * readiness ({@link #report}) reads from any thread.
 */
final class Stall {
  /** First and longest pause between tries of stalled writes. */
  static final long FIRST_RETRY_MS = 100;
  static final long MAX_RETRY_MS = 2_000;

  /**
   * The stall of every writer of a Vert.x instance, for readiness; weakly held (the stall of a writer nobody uses any
   * more drops out with it).
   */
  private static final Map<Vertx, Set<Stall>> STALLS = Collections.synchronizedMap(new WeakHashMap<>());

  private final String writer;

  /** Durable writes whose transaction failed for a transient reason: tried again before anything. */
  private final List<Write> waiting = new ArrayList<>();
  /** When the writer stalled (epoch ms), 0 while it commits. */
  private volatile long since;
  private volatile String reason;
  private long retryDelayMs = FIRST_RETRY_MS;

  private Stall(String writer) {
    this.writer = writer;
  }

  /** The stall of the new writer {@code writer} of {@code vertx}, reported by {@link #report} until unregistered. */
  static Stall register(Vertx vertx, String writer) {
    Stall stall = new Stall(writer);
    STALLS.computeIfAbsent(vertx, v -> Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>())))
        .add(stall);
    return stall;
  }

  /** The writer of {@code stall} is closed: it is no longer reported. */
  static void unregister(Vertx vertx, Stall stall) {
    Set<Stall> all = STALLS.get(vertx);
    if (all != null) all.remove(stall);
  }

  /** The writers of {@code vertx} stalled now, with since when and why (see {@link GroupCommit#stalledWriters}). */
  static List<JsonObject> report(Vertx vertx) {
    Set<Stall> all = STALLS.get(vertx);
    List<JsonObject> result = new ArrayList<>();
    if (all == null) return result;
    synchronized (all) {
      for (Stall s : all) {
        long since = s.since;
        if (since != 0) {
          result.add(new JsonObject().put("writer", s.writer).put("since", Instant.ofEpochMilli(since).toString())
              .put("reason", s.reason));
        }
      }
    }
    return result;
  }

  /** Whether durable writes wait to be tried again. */
  boolean hasWaiting() { return !waiting.isEmpty(); }

  int waiting() { return waiting.size(); }

  void add(Write w) { waiting.add(w); }

  /** Whether the writer is stalled now (from its first transient failure until it commits again). */
  boolean active() { return since != 0; }

  /** When the writer stalled (epoch ms), 0 while it commits. Any thread. */
  long since() { return since; }

  /** Why the writer stalled (the first failure's message), null while it commits. Any thread. */
  String reason() { return reason; }

  /** Marks the writer stalled by {@code cause}, unless it already is; true when this began the stall. */
  boolean begin(Throwable cause, long nowMs) {
    if (since != 0) return false;
    since = nowMs;
    reason = String.valueOf(cause.getMessage());
    return true;
  }

  /** The pause before the next try: {@link #FIRST_RETRY_MS}, then each twice the last, up to {@link #MAX_RETRY_MS}. */
  long nextRetryDelayMs() {
    long delay = retryDelayMs;
    retryDelayMs = Math.min(MAX_RETRY_MS, retryDelayMs * 2);
    return delay;
  }

  /** Takes out the waiting writes, in the order their failures came. */
  List<Write> takeWaiting() {
    List<Write> taken = new ArrayList<>(waiting);
    waiting.clear();
    return taken;
  }

  /** Takes out the waiting writes, in queue order (the order they are tried again in). */
  List<Write> takeInQueueOrder() {
    List<Write> retry = takeWaiting();
    retry.sort(Comparator.comparingLong(Write::seq));
    return retry;
  }

  /**
   * The writer commits again: ends the stall and starts the pauses over; returns how long it lasted (ms), or -1 when
   * the writer was not stalled.
   */
  long end(long nowMs) {
    if (since == 0) return -1;
    long downMs = nowMs - since;
    since = 0;
    reason = null;
    retryDelayMs = FIRST_RETRY_MS;
    return downMs;
  }
}
