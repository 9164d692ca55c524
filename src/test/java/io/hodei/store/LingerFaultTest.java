package io.hodei.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hodei.support.FaultyDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A writer's lingering snapshots across a database outage (PostgreSQL stopped and started again): they are not lost,
 * whether the transaction that takes them starts because another write came or because the linger ended while the
 * database was away, and they land in order after the writer's stall.
 */
class LingerFaultTest {
  private static FaultyDatabase db;
  private static Vertx vertx;
  private static Pool pool;
  private static EntityLog log;

  @BeforeAll
  static void start() throws Exception {
    db = FaultyDatabase.start();
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(db.url())).with(new PoolOptions().setMaxSize(4))
        .using(vertx).build();
    log = new EntityLog(vertx, pool, "linger_log");
  }

  @AfterAll
  static void stop() throws Exception {
    pool.close().await();
    vertx.close().await();
    db.close();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  @Test
  void snapshotsTakenAlongByAWriteThatMeetsTheOutageLandAfterIt() throws Exception {
    GroupCommit writer = await(log.lingeringWriter("linger-outage-write", 600_000));
    await(log.snapshot(writer, "a", 1));
    Future<Void> lingering = log.snapshot(writer, "a", 2);
    Future<Void> lingeringToo = log.snapshot(writer, "a", 3);
    db.stopServer();
    Future<Void> other = log.write(writer, "b", 7);
    Thread.sleep(500); // the write's transaction fails against the stopped server; the writer stalls and retries
    db.startServer();
    await(other);
    await(lingering);
    await(lingeringToo);
    assertEquals(List.of(1, 3), log.values("a"), "the last snapshot, once");
    assertEquals(List.of(7), log.values("b"));
    await(log.onContext(writer::drain));
  }

  @Test
  void aLingerThatEndsWhileTheDatabaseIsAwayIsRetriedUntilItCommits() throws Exception {
    GroupCommit writer = await(log.lingeringWriter("linger-outage-timer", 300));
    await(log.snapshot(writer, "c", 1));
    db.stopServer();
    Future<Void> lingering = log.snapshot(writer, "c", 2); // its linger ends while the server is stopped
    Thread.sleep(1_000);
    db.startServer();
    await(lingering);
    assertEquals(List.of(1, 2), log.values("c"));
    await(log.onContext(writer::drain));
  }
}
