package io.hodei.store;

import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;

/**
 * When a {@link GroupCommit} whose queue holds only snapshot writes may start its next transaction: no sooner than
 * the linger after the previous transaction started (see {@link GroupCommit#GroupCommit(String, Vertx,
 * ConnectionSource, int, long)}). While it holds them back, one timer calls the writer back when the linger is over.
 * Confined to the writer's event loop.
 */
final class Linger {
  private final Vertx vertx;
  private final long nanos;
  private final Runnable over;
  private long lastStartNanos;
  private long timer = -1;
  /** After {@link #stop}: nothing is held back any more. */
  private boolean stopped;

  /** {@code lingerMs} 0: never holds back; {@code over}: called on the event loop when a held-back linger ends. */
  Linger(Vertx vertx, long lingerMs, Runnable over) {
    if (lingerMs < 0) throw new IllegalArgumentException("lingerMs < 0");
    this.vertx = vertx;
    this.nanos = TimeUnit.MILLISECONDS.toNanos(lingerMs);
    this.over = over;
    this.lastStartNanos = System.nanoTime() - nanos;
  }

  /** Whether queued writes, {@code onlySnapshots}, wait now (then the timer is set). */
  boolean holds(boolean onlySnapshots) {
    if (nanos == 0 || stopped || !onlySnapshots) return false;
    long wait = lastStartNanos + nanos - System.nanoTime();
    if (wait <= 0) return false;
    if (timer < 0) {
      timer = vertx.setTimer((wait + 999_999) / 1_000_000, id -> { // rounded up: it fires when the linger is over
        timer = -1;
        over.run();
      });
    }
    return true;
  }

  /** Whether a held-back linger's timer is pending. */
  boolean pending() { return timer >= 0; }

  /** A transaction started now. */
  void started() { lastStartNanos = System.nanoTime(); }

  /** Never holds back again; the pending timer, if any, is cancelled. */
  void stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
  }
}
