package io.hodei.store;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Group commit for one domain's writes. Callers queue a <em>write</em>: one or more statements that must commit
 * together, about one entity (its key, e.g. a job id). The writes queued while earlier transactions were in
 * flight go to PostgreSQL together in the next transaction; a write's future completes when its transaction has
 * committed. Up to {@link #DEPTH} transactions are in flight on the writer's one connection, which PostgreSQL runs
 * strictly one after the other: the next is already waiting in the backend while the previous one flushes its
 * commit, and commits still happen one at a time in queue order.
 *
 * <p>Inside a transaction the statements run in layers: a statement's layer is one past the previous statement of
 * the same key, so each entity's statements run in the order they were queued, while statements of different
 * entities (which commute) share a layer. Within a layer, all statements with the same SQL go as one pipelined
 * {@code executeBatch}: a group of a thousand job writes costs a handful of round trips.
 *
 * <p>Consequences the callers rely on: an entity's writes land in the order they were queued (a job's end never
 * overtakes its start: a write about an entity with a statement still in flight waits for that transaction), and
 * transactions commit one at a time, so rows drawing ids from a sequence become visible in id order (the job event
 * log's sequence). When a group fails, its writes are retried one transaction each, in order, with nothing else in
 * flight, so one bad write fails alone.
 *
 * <p>Confined to the event loop of the context that created it; a write from elsewhere hops onto it first.
 */
public final class GroupCommit {
  private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

  /**
   * One SQL statement about the entity {@code key}; {@code onResult} (may be null) sees its rows when it has run.
   * A <em>row</em> statement ({@link #row}) is one row of a multi-row statement: the row statements of a layer with
   * the same SQL run as one execution whose parameter {@code $n} is the array of every row's value n.
   */
  public record Statement(String key, String sql, Tuple args, Class<?>[] columns, Object[] row,
                          Consumer<RowSet<Row>> onResult) {
    public static Statement of(String key, String sql, Tuple args) {
      return new Statement(key, sql, args, null, null, null);
    }

    /**
     * One row of a multi-row statement whose parameters are arrays ({@code unnest($1::text[], ...)}):
     * {@code columns[n]} is the element type of parameter n+1, {@code values[n]} this row's value.
     * {@code onResult} (may be null) sees the rows of the whole combined execution.
     */
    public static Statement row(String key, String sql, Class<?>[] columns, Object[] values,
                                Consumer<RowSet<Row>> onResult) {
      if (columns.length != values.length) throw new IllegalArgumentException("one value per column");
      return new Statement(key, sql, null, columns, values, onResult);
    }
  }

  private record Write(List<Statement> statements, Promise<Void> done) {}

  /**
   * Every statement of a writer is driven by entity keys (multi-row statements join their {@code unnest} rows to
   * primary keys). PostgreSQL's custom plans, made when it sees the arrays, turn into hash joins over a whole table
   * once the arrays are long and the table statistics lag behind its growth; the generic plan (index lookups per
   * row) is the right one at every size, so the writer's connection always uses it. A generic plan is made once per
   * statement and connection, though, from the statistics of that moment: made while a table was still small (a
   * fresh database, before its first analyze), it would scan the whole table for every execution from then on. So
   * the writer's connection also prices sequential scans out ({@code enable_seqscan = off}: a statement that has no
   * index to use still scans).
   */
  static final String WRITER_SESSION = "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off";
  private static final String DEFAULT_SESSION = "RESET plan_cache_mode; RESET enable_seqscan";

  /**
   * Transactions in flight at once on the writer's connection. PostgreSQL runs a connection's commands in order, so
   * the second transaction's statements wait in its backend while the first commits (its WAL flush): the backend
   * never idles for a round trip and this event loop's turnaround, and commits still happen one at a time in queue
   * order.
   */
  static final int DEPTH = 2;

  private final String name;
  private final Pool pool;
  private final Context context;
  private final int maxStatements;
  private final ArrayDeque<Write> queue = new ArrayDeque<>();
  private final List<Promise<Void>> drainWaiters = new ArrayList<>();
  /** Keys with a statement in a transaction in flight: a later write about one of them waits for it to commit. */
  private final Map<String, Integer> busyKeys = new HashMap<>();
  /** Groups that failed while another was in flight: retried one write at a time once nothing is in flight. */
  private final List<List<Write>> failedGroups = new ArrayList<>();
  private SqlConnection held;
  private Future<SqlConnection> connecting;
  private int inFlight;
  private int maxInFlight;
  private boolean scheduled;
  private long groups;
  private long writes;

  /** {@code maxStatements}: a group holds at most this many statements (a larger single write goes alone). */
  public GroupCommit(String name, Vertx vertx, Pool pool, int maxStatements) {
    this.name = name;
    this.pool = pool;
    this.context = vertx.getOrCreateContext();
    this.maxStatements = maxStatements;
  }

  /** Queues statements that commit together, each after the statements queued before it about the same entity. */
  public Future<Void> write(List<Statement> statements) {
    Write w = new Write(statements, Promise.promise());
    if (Vertx.currentContext() != context) {
      context.runOnContext(v -> enqueue(w));
    } else {
      enqueue(w);
    }
    return w.done.future();
  }

  private void enqueue(Write w) {
    queue.add(w);
    if (!scheduled && inFlight < DEPTH && failedGroups.isEmpty()) {
      scheduled = true;
      context.runOnContext(v -> {
        scheduled = false;
        flush();
      });
    }
  }

  public Future<Void> write(Statement... statements) { return write(List.of(statements)); }

  /**
   * Completes when every write queued so far has committed or failed, then gives the writer's connection back to the
   * pool (a later write takes one again). For shutdown.
   */
  public Future<Void> drain() {
    if (Vertx.currentContext() != context) {
      Promise<Void> hop = Promise.promise();
      context.runOnContext(v -> drain().onComplete(hop));
      return hop.future();
    }
    if (idle()) {
      release();
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    drainWaiters.add(p);
    return p.future().onComplete(x -> release());
  }

  /** Mean writes per transaction so far (for logs and benchmarks). */
  public double meanGroupSize() { return groups == 0 ? 0 : (double) writes / groups; }

  /** Most transactions that were in flight at once (for tests and benchmarks). */
  int maxInFlight() { return maxInFlight; }

  private boolean idle() {
    return inFlight == 0 && !scheduled && queue.isEmpty() && failedGroups.isEmpty();
  }

  /**
   * Starts the next transaction with every queued write it can take, while fewer than {@link #DEPTH} are in flight.
   * A group ends at the first write about a key still in flight (the entity's order) or at {@code maxStatements}.
   */
  private void flush() {
    if (!failedGroups.isEmpty()) {
      if (inFlight == 0) retryFailed();
      return;
    }
    while (inFlight < DEPTH) {
      List<Write> group = nextGroup();
      if (group.isEmpty()) break;
      start(group);
    }
    if (idle()) {
      drainWaiters.forEach(Promise::tryComplete);
      drainWaiters.clear();
    }
  }

  /** The queued writes the next transaction takes, in queue order (empty: none can start now). */
  private List<Write> nextGroup() {
    List<Write> group = new ArrayList<>();
    int statements = 0;
    while (!queue.isEmpty() && (group.isEmpty() || statements + queue.peek().statements.size() <= maxStatements)
        && !touchesBusyKey(queue.peek())) {
      Write w = queue.poll();
      group.add(w);
      statements += w.statements.size();
    }
    return group;
  }

  private boolean touchesBusyKey(Write w) {
    if (busyKeys.isEmpty()) return false;
    for (Statement s : w.statements) {
      if (busyKeys.containsKey(s.key)) return true;
    }
    return false;
  }

  private void start(List<Write> group) {
    groups++;
    writes += group.size();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    List<String> keys = new ArrayList<>();
    for (Write w : group) {
      for (Statement s : w.statements) keys.add(s.key);
    }
    keys.forEach(k -> busyKeys.merge(k, 1, Integer::sum));
    run(group).onComplete(ar -> {
      inFlight--;
      keys.forEach(k -> busyKeys.computeIfPresent(k, (key, n) -> n == 1 ? null : n - 1));
      if (ar.succeeded()) {
        group.forEach(w -> w.done.tryComplete());
      } else if (group.size() == 1) {
        group.get(0).done.tryFail(ar.cause());
      } else {
        LOG.warn("group commit failed; retrying its writes one by one", kv("writer", name),
            kv("writes", group.size()), kv("error", String.valueOf(ar.cause().getMessage())));
        failedGroups.add(group);
      }
      flush();
    });
  }

  /**
   * The writes of failed groups, one transaction each, in queue order; nothing else starts meanwhile, so a later
   * write about the same entity still lands after them.
   */
  private void retryFailed() {
    List<Write> retry = new ArrayList<>();
    failedGroups.forEach(retry::addAll);
    failedGroups.clear();
    inFlight++;
    oneByOne(retry, 0).onComplete(x -> {
      inFlight--;
      flush();
    });
  }

  private Future<Void> oneByOne(List<Write> group, int index) {
    if (index >= group.size()) return Future.succeededFuture();
    Write w = group.get(index);
    return run(List.of(w)).transform(ar -> {
      if (ar.succeeded()) w.done.tryComplete();
      else w.done.tryFail(ar.cause());
      return oneByOne(group, index + 1);
    });
  }

  /**
   * One transaction, sent as one pipeline: BEGIN, every layer, COMMIT go out without waiting for each other's answers
   * (the connection runs them in order), so a group costs one round trip however many layers it has. When a statement
   * fails, PostgreSQL refuses the rest and turns the COMMIT into a rollback: the group fails whole.
   */
  private Future<Void> run(List<Write> group) {
    List<Map<String, List<Statement>>> layers = layers(group);
    return connection().compose(conn -> {
      List<Future<?>> pipeline = new ArrayList<>();
      pipeline.add(conn.query("BEGIN").execute());
      for (Map<String, List<Statement>> layer : layers) {
        layer.values().forEach(same -> pipeline.add(execute(conn, same)));
      }
      Future<RowSet<Row>> commit = conn.query("COMMIT").execute();
      pipeline.add(commit);
      // join, not all: the group completes (and its keys free up) only when its whole pipeline has answered
      return Future.join(pipeline).transform(ar -> {
        if (ar.succeeded()) return Future.<Void>succeededFuture();
        if (commit.failed()) release(); // the transaction's end is unknown: never reuse that connection
        return Future.<Void>failedFuture(firstCause(pipeline, ar.cause()));
      });
    }).onFailure(err -> {
      // a broken connection is replaced on the next transaction
      if (held != null && !(err instanceof io.vertx.pgclient.PgException)) release();
    });
  }

  /** The first statement error in pipeline order (later ones only say the transaction was already aborted). */
  private static Throwable firstCause(List<Future<?>> pipeline, Throwable fallback) {
    for (Future<?> f : pipeline) {
      if (f.failed()) return f.cause();
    }
    return fallback;
  }

  /**
   * The writer's own connection, kept between transactions: a group never waits for the pool (where reads and other
   * domains queue) and skips the acquire round trip.
   */
  private Future<SqlConnection> connection() {
    if (held != null) return Future.succeededFuture(held);
    if (connecting != null) return connecting;
    connecting = pool.getConnection().compose(conn -> conn.query(WRITER_SESSION).execute().map(conn)
        .onFailure(err -> conn.close())).onComplete(ar -> connecting = null).onSuccess(conn -> {
          held = conn;
          conn.closeHandler(v -> {
            if (held == conn) held = null;
          });
        });
    return connecting;
  }

  private void release() {
    SqlConnection conn = held;
    held = null;
    if (conn != null) conn.query(DEFAULT_SESSION).execute().onComplete(ar -> conn.close());
  }

  /** Statements by layer (one past the same key's previous statement), then by SQL in first-seen order. */
  static List<Map<String, List<Statement>>> layers(List<Write> group) {
    List<Map<String, List<Statement>>> layers = new ArrayList<>();
    Map<String, Integer> next = new HashMap<>();
    for (Write w : group) {
      for (Statement s : w.statements) {
        int layer = next.getOrDefault(s.key, 0);
        while (layers.size() <= layer) layers.add(new LinkedHashMap<>());
        layers.get(layer).computeIfAbsent(s.sql, k -> new ArrayList<>()).add(s);
        next.put(s.key, layer + 1);
      }
    }
    return layers;
  }

  /**
   * The statements of a layer with the same SQL: row statements as one execution over column arrays, others as one
   * pipelined {@code executeBatch} with the results handed back in order.
   */
  private static Future<Void> execute(SqlConnection conn, List<Statement> run) {
    Statement first = run.get(0);
    if (first.row != null) {
      Tuple arrays = ColumnArrays.of(first.columns, run.stream().map(Statement::row).toList());
      return conn.preparedQuery(first.sql).execute(arrays).map(rows -> {
        for (Statement s : run) {
          if (s.onResult != null) s.onResult.accept(rows);
        }
        return null;
      });
    }
    if (run.size() == 1) {
      return conn.preparedQuery(first.sql).execute(first.args).map(rows -> {
        if (first.onResult != null) first.onResult.accept(rows);
        return null;
      });
    }
    List<Tuple> args = new ArrayList<>(run.size());
    run.forEach(s -> args.add(s.args));
    return conn.preparedQuery(first.sql).executeBatch(args).map(rows -> {
      RowSet<Row> result = rows;
      for (Statement s : run) {
        if (s.onResult != null) s.onResult.accept(result);
        result = result.next();
      }
      return null;
    });
  }
}
