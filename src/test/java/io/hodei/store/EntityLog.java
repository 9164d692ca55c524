package io.hodei.store;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A test table of (entity, value) rows that group-commit writers insert into, and the calls the writer tests make on
 * it: writers made and writes queued from a Vert.x context, the values of an entity read back in commit order.
 */
final class EntityLog {
  private final Vertx vertx;
  private final Pool pool;
  private final String table;
  final String insert;

  /** Creates {@code table} in the database of {@code pool}. */
  EntityLog(Vertx vertx, Pool pool, String table) {
    this.vertx = vertx;
    this.pool = pool;
    this.table = table;
    this.insert = "INSERT INTO " + table + " (entity, value) VALUES ($1, $2)";
    pool.query("CREATE TABLE " + table + " (id bigserial PRIMARY KEY, entity text NOT NULL, value int NOT NULL "
        + "CHECK (value >= 0))").execute().await();
  }

  /** Runs {@code make} on a context of its own and returns its future. */
  <T> Future<T> onContext(Supplier<Future<T>> make) {
    Promise<T> p = Promise.promise();
    vertx.runOnContext(v -> make.get().onComplete(p));
    return p.future();
  }

  /** A writer with {@code lingerMs} for snapshots, made on a context of its own. */
  Future<GroupCommit> lingeringWriter(String name, long lingerMs) {
    return onContext(() -> Future.succeededFuture(
        new GroupCommit(name, vertx, ConnectionSource.of(pool), 400, lingerMs)));
  }

  /** A snapshot of {@code entity} (the row {@code value}) queued on {@code writer}. */
  Future<Void> snapshot(GroupCommit writer, String entity, int value) {
    return onContext(() -> writer.writeSnapshot(GroupCommit.Statement.of(entity, insert, Tuple.of(entity, value))));
  }

  /** A plain write of the row {@code value} of {@code entity} queued on {@code writer}. */
  Future<Void> write(GroupCommit writer, String entity, int value) {
    return onContext(() -> writer.write(GroupCommit.Statement.of(entity, insert, Tuple.of(entity, value))));
  }

  /** The values written for {@code entity}, in commit order. */
  List<Integer> values(String entity) {
    List<Integer> values = new ArrayList<>();
    pool.preparedQuery("SELECT value FROM " + table + " WHERE entity = $1 ORDER BY id").execute(Tuple.of(entity))
        .await().forEach(r -> values.add(r.getInteger(0)));
    return values;
  }
}
