package io.hodei.store;

import io.hodei.common.PgErrors;
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
import java.util.Set;
import java.util.function.Consumer;
import io.hodei.common.DomainException;
import io.vertx.core.json.JsonObject;
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
 * <p><b>The database is the judge.</b> A {@link #write durable} write is retried until it commits: when a
 * transaction fails because the database is away or the connection broke ({@link PgErrors#isTransient}), the writer
 * gives its connection back, <em>stalls</em> (nothing behind the failed writes starts, so the order above holds across
 * the outage) and tries the failed writes again with a growing back-off until they commit. A {@link #tryWrite
 * try-write} (a request a client waits for, such as a submission) is never retried: it fails at once with 503 while
 * the writer is stalled, and fails with its transaction otherwise. Whether a transaction whose COMMIT got no answer
 * committed is unknown; {@link #onRecovered} listeners hear when the writer commits again after a stall, and reload
 * what they hold from the database. {@link #stalledWriters} tells readiness whether the write path works.
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

  /** {@code snapshot}: its one statement writes the whole state of its entity (see {@link #writeSnapshot}). */
  private record Write(List<Statement> statements, Promise<Void> done, boolean durable, long seq, boolean snapshot) {
    Write(List<Statement> statements, Promise<Void> done, boolean durable, long seq) {
      this(statements, done, durable, seq, false);
    }
  }

  /** First and longest pause between tries of stalled writes. */
  static final long FIRST_RETRY_MS = 100;
  static final long MAX_RETRY_MS = 2_000;

  /** Every writer of a Vert.x instance, for readiness; weakly held (a writer nobody uses any more drops out). */
  private static final Map<Vertx, Set<GroupCommit>> WRITERS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

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

  /** Longest wait for the writer's connection (opened and set up). */
  static final long CONNECT_TIMEOUT_MS = 5_000;
  /** Longest wait for a transaction's answers before its connection is taken for dead. */
  static final long TRANSACTION_TIMEOUT_MS = 30_000;

  private final String name;
  private final ConnectionSource connections;
  private final Context context;
  private final int maxStatements;
  private final ArrayDeque<Write> queue = new ArrayDeque<>();
  private final List<Promise<Void>> drainWaiters = new ArrayList<>();
  /** Keys with a statement in a transaction in flight: a later write about one of them waits for it to commit. */
  private final Map<String, Integer> busyKeys = new HashMap<>();
  /** The snapshot write of a key still waiting in the queue, when nothing about that key was queued after it. */
  private final Map<String, Write> pendingSnapshots = new HashMap<>();
  /** Groups that failed while another was in flight: retried one write at a time once nothing is in flight. */
  private final List<List<Write>> failedGroups = new ArrayList<>();
  private SqlConnection held;
  private Future<SqlConnection> connecting;
  private int inFlight;
  private int maxInFlight;
  private boolean scheduled;
  private long groups;
  private long writes;
  /** Durable writes whose transaction failed for a transient reason, in queue order: tried again before anything. */
  private final List<Write> stalled = new ArrayList<>();
  /** When the writer stalled (epoch ms), 0 while it commits. Read by readiness from other threads. */
  private volatile long stalledSince;
  private volatile String stallReason;
  private long retryDelayMs = FIRST_RETRY_MS;
  private long retryTimer = -1;
  private final List<Runnable> recoveryListeners = new ArrayList<>();
  /** Order of writes as queued (stalled writes are tried again in this order, whatever order their failures came). */
  private long seq;
  /** Transactions in flight on the held connection: when it is given up, they are given up with it. */
  private final List<Promise<Void>> onHeld = new ArrayList<>();

  /** {@code maxStatements}: a group holds at most this many statements (a larger single write goes alone). */
  public GroupCommit(String name, Vertx vertx, Pool pool, int maxStatements) {
    this(name, vertx, ConnectionSource.of(pool), maxStatements);
  }

  /** {@code connections}: where the writer's connection comes from (a new one after it gave one up). */
  public GroupCommit(String name, Vertx vertx, ConnectionSource connections, int maxStatements) {
    this.name = name;
    this.connections = connections;
    this.context = vertx.getOrCreateContext();
    this.maxStatements = maxStatements;
    WRITERS.computeIfAbsent(vertx, v -> java.util.Collections.synchronizedSet(
        java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()))).add(this);
  }

  /**
   * Queues statements that commit together, each after the statements queued before it about the same entity. The
   * write is durable: retried until it commits, across a database outage; it fails only when the database refuses its
   * statements (a constraint, a bug), never because the database was away.
   */
  public Future<Void> write(List<Statement> statements) {
    return submit(new Write(statements, Promise.promise(), true, ++seq));
  }

  public Future<Void> write(Statement... statements) { return write(List.of(statements)); }

  /**
   * A durable write whose one statement writes the whole state of its entity (an upsert or update of every column
   * from values given): while it waits in the queue, a later snapshot of the same entity with the same SQL takes its
   * place instead of queueing behind it (both futures complete when that one commits). An entity that changes twice
   * while a transaction is in flight so writes its row once.
   */
  public Future<Void> writeSnapshot(Statement statement) {
    return submit(new Write(new ArrayList<>(List.of(statement)), Promise.promise(), true, ++seq, true));
  }

  /**
   * Like {@link #write(List)}, but never retried: fails at once with 503 while the writer is stalled, and with its
   * transaction when that fails (for a request whose client is waiting and can try again).
   */
  public Future<Void> tryWrite(List<Statement> statements) {
    return submit(new Write(statements, Promise.promise(), false, ++seq));
  }

  /** Runs {@code listener} on this writer's event loop each time it commits again after a stall. */
  public void onRecovered(Runnable listener) { recoveryListeners.add(listener); }

  /** Whether writes commit now (false while the writer is stalled, retrying after a transient failure). */
  public boolean healthy() { return stalledSince == 0; }

  /**
   * The writers of {@code vertx} that are stalled now, with since when and why (empty: the write path works). For
   * readiness; callable from any thread.
   */
  public static List<JsonObject> stalledWriters(Vertx vertx) {
    Set<GroupCommit> all = WRITERS.get(vertx);
    List<JsonObject> result = new ArrayList<>();
    if (all == null) return result;
    synchronized (all) {
      for (GroupCommit w : all) {
        long since = w.stalledSince;
        if (since != 0) {
          result.add(new JsonObject().put("writer", w.name).put("since", java.time.Instant.ofEpochMilli(since)
              .toString()).put("reason", w.stallReason));
        }
      }
    }
    return result;
  }

  private Future<Void> submit(Write w) {
    if (Vertx.currentContext() != context) {
      context.runOnContext(v -> enqueue(w));
    } else {
      enqueue(w);
    }
    return w.done.future();
  }

  private void enqueue(Write w) {
    if (!w.durable && stalledSince != 0) {
      w.done.tryFail(unavailable());
      return;
    }
    if (w.snapshot) {
      Statement s = w.statements.get(0);
      Write waiting = pendingSnapshots.get(s.key());
      if (waiting != null && waiting.statements.get(0).sql().equals(s.sql())) {
        waiting.statements.set(0, s);
        waiting.done.future().onComplete(w.done);
        return;
      }
      pendingSnapshots.put(s.key(), w);
    } else if (!pendingSnapshots.isEmpty()) {
      // a later snapshot must not overtake this write: it queues behind it
      for (Statement s : w.statements) pendingSnapshots.remove(s.key());
    }
    queue.add(w);
    if (!scheduled && inFlight < DEPTH && failedGroups.isEmpty() && stalled.isEmpty()) {
      scheduled = true;
      context.runOnContext(v -> {
        scheduled = false;
        flush();
      });
    }
  }

  /**
   * Completes when every write queued so far has committed or failed, then closes the writer's connection (a later
   * write opens one again). For shutdown.
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
    return inFlight == 0 && !scheduled && queue.isEmpty() && failedGroups.isEmpty() && stalled.isEmpty();
  }

  /**
   * Starts the next transaction with every queued write it can take, while fewer than {@link #DEPTH} are in flight.
   * A group ends at the first write about a key still in flight (the entity's order) or at {@code maxStatements}.
   */
  private void flush() {
    if (!stalled.isEmpty()) {
      if (inFlight == 0 && retryTimer < 0) {
        retryTimer = context.owner().setTimer(retryDelayMs, id -> {
          retryTimer = -1;
          retryStalled();
        });
        retryDelayMs = Math.min(MAX_RETRY_MS, retryDelayMs * 2);
      }
      return;
    }
    if (!failedGroups.isEmpty()) {
      if (inFlight == 0) retryFailed();
      return;
    }
    // while the retry of stalled writes is in flight nothing overtakes it: writes land in queue order across an outage
    if (stalledSince != 0 && inFlight > 0) return;
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
      if (w.snapshot) pendingSnapshots.remove(w.statements.get(0).key(), w);
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
        if (stalled.isEmpty()) recovered();
      } else if (PgErrors.isTransient(ar.cause())) {
        stall(group, ar.cause());
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
      if (ar.succeeded()) {
        w.done.tryComplete();
      } else if (PgErrors.isTransient(ar.cause())) {
        // the database went away meanwhile: this write and the rest wait for it, in order
        stall(group.subList(index, group.size()), ar.cause());
        return Future.succeededFuture();
      } else {
        w.done.tryFail(ar.cause());
      }
      return oneByOne(group, index + 1);
    });
  }

  /**
   * The writes of a transaction that failed for a transient reason: durable ones wait to be tried again (before
   * anything queued after them), try-writes fail with 503, and so do the try-writes still queued.
   */
  private void stall(List<Write> group, Throwable cause) {
    discard();
    for (Write w : group) {
      if (w.durable) stalled.add(w);
      else w.done.tryFail(unavailable());
    }
    queue.removeIf(w -> {
      if (w.durable) return false;
      if (w.snapshot) pendingSnapshots.remove(w.statements.get(0).key(), w);
      w.done.tryFail(unavailable());
      return true;
    });
    if (stalled.isEmpty()) return;
    LOG.debug("database write failed; waiting to retry", kv("writer", name), kv("stalled", stalled.size()),
        kv("error", String.valueOf(cause)));
    if (stalledSince == 0) {
      stalledSince = System.currentTimeMillis();
      stallReason = String.valueOf(cause.getMessage());
      LOG.warn("database write failed; retrying until it commits", kv("writer", name),
          kv("writes", stalled.size()), kv("error", stallReason));
    }
  }

  /** Tries the stalled writes again, as one transaction (their layers keep each entity's order). */
  private void retryStalled() {
    if (stalled.isEmpty() || inFlight > 0) {
      flush();
      return;
    }
    List<Write> retry = new ArrayList<>(stalled);
    retry.sort(java.util.Comparator.comparingLong(Write::seq));
    stalled.clear();
    LOG.debug("retrying stalled database writes", kv("writer", name), kv("writes", retry.size()));
    start(retry);
  }

  /** After a stall: the writer commits again; listeners reload what may have been decided without them. */
  private void recovered() {
    if (stalledSince == 0) return;
    long downMs = System.currentTimeMillis() - stalledSince;
    stalledSince = 0;
    stallReason = null;
    retryDelayMs = FIRST_RETRY_MS;
    LOG.info("database writes commit again", kv("writer", name), kv("stalled_ms", downMs));
    recoveryListeners.forEach(Runnable::run);
  }

  private static DomainException unavailable() {
    return DomainException.unavailable("the database is not available; try again shortly");
  }

  /**
   * One transaction, sent as one pipeline: BEGIN, every layer, COMMIT go out without waiting for each other's answers
   * (the connection runs them in order), so a group costs one round trip however many layers it has. When a statement
   * fails, PostgreSQL refuses the rest and turns the COMMIT into a rollback: the group fails whole.
   */
  private Future<Void> run(List<Write> group) {
    List<Map<String, List<Statement>>> layers = layers(group);
    return connection().compose(conn -> {
      Promise<Void> outcome = Promise.promise();
      if (conn == held) onHeld.add(outcome);
      List<Future<?>> pipeline = new ArrayList<>();
      pipeline.add(conn.query("BEGIN").execute());
      Fence fence = connections.fence();
      if (fence != null) pipeline.add(conn.preparedQuery(Fence.SQL).execute(Tuple.of(fence.epoch())));
      for (Map<String, List<Statement>> layer : layers) {
        layer.values().forEach(same -> pipeline.add(execute(conn, same)));
      }
      Future<RowSet<Row>> commit = conn.query("COMMIT").execute();
      pipeline.add(commit);
      // join, not all: the group completes (and its keys free up) only when its whole pipeline has answered, or
      // the connection is taken for dead (no answer in time: the outcome is unknown, as after a lost connection)
      Future.join(pipeline).timeout(TRANSACTION_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
          .onComplete(ar -> {
            onHeld.remove(outcome);
            if (ar.succeeded()) {
              outcome.tryComplete();
              return;
            }
            Throwable cause = firstCause(pipeline, ar.cause());
            if (fence != null && Fence.refused(cause)) fence.onRefused().run();
            // the transaction's end is unknown: never reuse that connection
            if (!commit.succeeded() && conn == held) discard();
            outcome.tryFail(cause);
          });
      return outcome.future();
    }).onFailure(err -> {
      // a broken connection (or one the server ended: 57P01, class 08) is replaced on the next transaction
      if (held != null && (PgErrors.isTransient(err) || !(err instanceof io.vertx.pgclient.PgException))) discard();
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
    // a connection that died without a word may never answer: give up on it after a while and try again (one that
    // still arrives afterwards goes straight back)
    Promise<SqlConnection> attempt = Promise.promise();
    long timer = context.owner().setTimer(CONNECT_TIMEOUT_MS, id -> attempt.tryFail(
        new java.util.concurrent.TimeoutException("no database connection within " + CONNECT_TIMEOUT_MS + " ms")));
    connections.connect().compose(conn -> conn.query(WRITER_SESSION).execute().map(conn)
        .onFailure(err -> conn.close())).onComplete(ar -> {
          context.owner().cancelTimer(timer);
          if (ar.failed()) attempt.tryFail(ar.cause());
          else if (!attempt.tryComplete(ar.result())) ar.result().close();
        });
    connecting = attempt.future().onComplete(ar -> connecting = null).onSuccess(conn -> {
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

  /**
   * Closes the held connection at once, without a statement first (one sent on a dead connection may never be
   * answered); the next transaction opens a new one.
   */
  private void discard() {
    SqlConnection conn = held;
    held = null;
    // a broken connection may never answer the transactions still queued on it: they fail now, with it
    List<Promise<Void>> doomed = new ArrayList<>(onHeld);
    onHeld.clear();
    if (conn != null) conn.close();
    io.vertx.core.VertxException gone = new io.vertx.core.VertxException("database connection given up", true);
    doomed.forEach(p -> p.tryFail(gone));
  }

  /** Stops retrying (shutdown): stalled writes fail, so nothing waits for a database that is not coming back. */
  public void close() {
    context.runOnContext(v -> {
      if (retryTimer >= 0) context.owner().cancelTimer(retryTimer);
      retryTimer = -1;
      List<Write> left = new ArrayList<>(stalled);
      stalled.clear();
      left.forEach(w -> w.done.tryFail(unavailable()));
      Set<GroupCommit> all = WRITERS.get(context.owner());
      if (all != null) all.remove(this);
      flush();
    });
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
