package io.hodei.store;

import io.hodei.store.GroupCommit.Statement;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * One {@link GroupCommit} transaction, sent as one pipeline: BEGIN, the fence (if any), every execution, COMMIT go out
 * without waiting for each other's answers (the connection runs them in order), so a group costs one round trip
 * however many statements it has. When a statement fails, PostgreSQL refuses the rest and turns the COMMIT into a
 * rollback: the group fails whole.
 *
 * <p>The statements run in layers: a statement's layer is one past the previous statement of the same key (each
 * entity's statements run in the order they were queued, while statements of different entities, which commute,
 * share a layer). Within a layer there is one execution per SQL, in first-seen order: the row statements of that SQL
 * as one execution over column arrays ({@link ColumnArrays}), the others as one pipelined {@code executeBatch}. A
 * group of a thousand job writes so costs a handful of executions.
 */
final class Pipeline {
  private final List<Future<?>> sent;
  private final Future<RowSet<Row>> commit;

  private Pipeline(List<Future<?>> sent, Future<RowSet<Row>> commit) {
    this.sent = sent;
    this.commit = commit;
  }

  /** The statements of one layer with the same SQL, in queue order: one execution. */
  record Execution(String sql, List<Statement> statements) {
    /** Whether these are row statements, combined into one execution over column arrays. */
    boolean rows() { return statements.get(0).row() != null; }

    /** The parameters of the combined row execution: parameter n+1 is the array of every row's value n. */
    Tuple columnArrays() {
      return ColumnArrays.of(statements.get(0).columns(), statements.stream().map(Statement::row).toList());
    }

    /**
     * Sends this execution on {@code conn}; each statement's {@code onResult} sees its rows: every row statement the
     * rows of the combined execution, the others their own result of the batch, in order.
     */
    Future<Void> send(SqlConnection conn) {
      Statement first = statements.get(0);
      if (rows()) {
        return conn.preparedQuery(sql).execute(columnArrays()).map(rows -> {
          for (Statement s : statements) {
            if (s.onResult() != null) s.onResult().accept(rows);
          }
          return null;
        });
      }
      if (statements.size() == 1) {
        return conn.preparedQuery(sql).execute(first.args()).map(rows -> {
          if (first.onResult() != null) first.onResult().accept(rows);
          return null;
        });
      }
      List<Tuple> args = new ArrayList<>(statements.size());
      statements.forEach(s -> args.add(s.args()));
      return conn.preparedQuery(sql).executeBatch(args).map(rows -> {
        RowSet<Row> result = rows;
        for (Statement s : statements) {
          if (s.onResult() != null) s.onResult().accept(result);
          result = result.next();
        }
        return null;
      });
    }
  }

  /** The executions of {@code statements} (in queue order), in the order they are sent: layer by layer. */
  static List<Execution> executions(List<Statement> statements) {
    List<Map<String, List<Statement>>> layers = new ArrayList<>();
    Map<String, Integer> next = new HashMap<>();
    for (Statement s : statements) {
      int layer = next.getOrDefault(s.key(), 0);
      while (layers.size() <= layer) layers.add(new LinkedHashMap<>());
      layers.get(layer).computeIfAbsent(s.sql(), k -> new ArrayList<>()).add(s);
      next.put(s.key(), layer + 1);
    }
    List<Execution> executions = new ArrayList<>();
    for (Map<String, List<Statement>> layer : layers) {
      layer.forEach((sql, same) -> executions.add(new Execution(sql, same)));
    }
    return executions;
  }

  /** Sends the transaction of {@code executions} on {@code conn}, fenced by {@code fence} (null: none). */
  static Pipeline send(SqlConnection conn, Fence fence, List<Execution> executions) {
    List<Future<?>> sent = new ArrayList<>();
    sent.add(conn.query("BEGIN").execute());
    if (fence != null) sent.add(conn.preparedQuery(Fence.SQL).execute(Tuple.of(fence.epoch())));
    executions.forEach(execution -> sent.add(execution.send(conn)));
    Future<RowSet<Row>> commit = conn.query("COMMIT").execute();
    sent.add(commit);
    return new Pipeline(sent, commit);
  }

  /**
   * Completes when every part of the pipeline has answered (join, not all: a transaction ends only when all of it
   * has), fails if one failed or no answer came within {@code timeoutMs} (the outcome is then unknown, as after a
   * lost connection). Call on the writer's event loop: the timer is that loop's own. ({@code Future.timeout} on the
   * joined future, which has no context, would schedule and cancel every transaction's timer on Netty's global
   * executor: two wake-ups of another thread per transaction.)
   */
  Future<?> answered(Vertx vertx, long timeoutMs) {
    Promise<Void> answered = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, id -> answered.tryFail(
        new TimeoutException("no answer to the transaction within " + timeoutMs + " ms")));
    Future.join(sent).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) answered.tryComplete();
      else answered.tryFail(ar.cause());
    });
    return answered.future();
  }

  /**
   * Whether COMMIT succeeded (also when a failed statement turned it into a rollback): the transaction's end is known
   * and its connection still usable.
   */
  boolean commitSucceeded() { return commit.succeeded(); }

  /** The first statement error in pipeline order (later ones only say the transaction was already aborted). */
  Throwable firstCause(Throwable fallback) {
    for (Future<?> f : sent) {
      if (f.failed()) return f.cause();
    }
    return fallback;
  }
}
