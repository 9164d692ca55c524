package io.hodei.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

/** Where a group-commit writer gets its connection from. */
@FunctionalInterface
public interface ConnectionSource {
  Future<SqlConnection> connect();

  /** The fencing token a writer using these connections starts each transaction with; null: none (one server). */
  default Fence fence() { return null; }

  /** These connections, with every writer transaction fenced by {@code fence}. */
  default ConnectionSource fenced(Fence fence) {
    ConnectionSource base = this;
    return new ConnectionSource() {
      @Override public Future<SqlConnection> connect() { return base.connect(); }

      @Override public Fence fence() { return fence; }
    };
  }

  /**
   * A connection of its own each time, outside any pool: closing it closes it for good, so one that broke can never be
   * handed out again, and a writer retrying after an outage never queues behind request traffic.
   */
  static ConnectionSource dedicated(Vertx vertx, PgConnectOptions options) {
    return () -> PgConnection.connect(vertx, options).map(c -> (SqlConnection) c);
  }

  /** A connection borrowed from {@code pool} (closing gives it back). */
  static ConnectionSource of(Pool pool) { return pool::getConnection; }
}
