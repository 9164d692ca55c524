package io.hodei.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hodei.support.FaultyDatabase;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A writer's lingering snapshots across a database outage (PostgreSQL stopped and started again): they are not lost,
 * whether the transaction that takes them starts because another write came or because the linger ended while the
 * database was away, and they land in order after the writer's stall.
 */
class LingerFaultTest {
  private static final String INSERT = "INSERT INTO linger_log (entity, value) VALUES ($1, $2)";
  private static FaultyDatabase db;
  private static Vertx vertx;
  private static Pool pool;

  @BeforeAll
  static void start() throws Exception {
    db = FaultyDatabase.start();
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(db.url())).with(new PoolOptions().setMaxSize(4))
        .using(vertx).build();
    pool.query("CREATE TABLE linger_log (id bigserial PRIMARY KEY, entity text NOT NULL, value int NOT NULL)")
        .execute().await();
  }

  @AfterAll
  static void stop() throws Exception {
    pool.close().await();
    vertx.close().await();
    db.close();
  }

  private static <T> Future<T> onContext(Supplier<Future<T>> make) {
    Promise<T> p = Promise.promise();
    vertx.runOnContext(v -> make.get().onComplete(p));
    return p.future();
  }

  private static Future<Void> snapshot(GroupCommit writer, String entity, int value) {
    return onContext(() -> writer.writeSnapshot(GroupCommit.Statement.of(entity, INSERT, Tuple.of(entity, value))));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  private static List<Integer> values(String entity) {
    List<Integer> values = new ArrayList<>();
    pool.preparedQuery("SELECT value FROM linger_log WHERE entity = $1 ORDER BY id").execute(Tuple.of(entity))
        .await().forEach(r -> values.add(r.getInteger(0)));
    return values;
  }

  private static GroupCommit writer(String name, long lingerMs) throws Exception {
    return await(onContext(() -> Future.succeededFuture(
        new GroupCommit(name, vertx, ConnectionSource.of(pool), 400, lingerMs))));
  }

  @Test
  void snapshotsTakenAlongByAWriteThatMeetsTheOutageLandAfterIt() throws Exception {
    GroupCommit writer = writer("linger-outage-write", 600_000);
    await(snapshot(writer, "a", 1));
    Future<Void> lingering = snapshot(writer, "a", 2);
    Future<Void> lingeringToo = snapshot(writer, "a", 3);
    db.stopServer();
    Future<Void> other = onContext(() -> writer.write(GroupCommit.Statement.of("b", INSERT, Tuple.of("b", 7))));
    Thread.sleep(500); // the write's transaction fails against the stopped server; the writer stalls and retries
    db.startServer();
    await(other);
    await(lingering);
    await(lingeringToo);
    assertEquals(List.of(1, 3), values("a"), "the last snapshot, once");
    assertEquals(List.of(7), values("b"));
    await(onContext(writer::drain));
  }

  @Test
  void aLingerThatEndsWhileTheDatabaseIsAwayIsRetriedUntilItCommits() throws Exception {
    GroupCommit writer = writer("linger-outage-timer", 300);
    await(snapshot(writer, "c", 1));
    db.stopServer();
    Future<Void> lingering = snapshot(writer, "c", 2); // its linger ends while the server is stopped
    Thread.sleep(1_000);
    db.startServer();
    await(lingering);
    assertEquals(List.of(1, 2), values("c"));
    await(onContext(writer::drain));
  }
}
