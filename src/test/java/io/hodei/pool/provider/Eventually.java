package io.hodei.pool.provider;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.fail;

/** Polls a condition until it holds or a generous deadline passes; the pause between checks is a Vert.x timer. */
final class Eventually {
  static final Duration DEADLINE = Duration.ofSeconds(20);

  private Eventually() {}

  /** The future's value, failing the test when it does not complete before the deadline. */
  static <T> T await(Future<T> future) {
    try {
      return future.await(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no result within " + DEADLINE, e);
    }
  }

  static void until(Vertx vertx, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) fail("timed out waiting until " + what);
      vertx.timer(20).await();
    }
  }
}
