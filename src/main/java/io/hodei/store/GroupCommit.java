package io.hodei.store;

import io.hodei.common.PgErrors;
import io.hodei.store.WriteQueue.Write;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
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
 * <p>Inside a transaction the statements run in {@link Pipeline layers}: each entity's statements in the order they
 * were queued, while statements of different entities (which commute) share a layer. Within a layer, all statements
 * with the same SQL go as one execution: a group of a thousand job writes costs a handful of round trips. Which
 * queued writes a transaction takes is the {@link WriteQueue}'s answer.
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
  private final WriteQueue queue;
  private final List<Promise<Void>> drainWaiters = new ArrayList<>();
  /** Groups that failed while another was in flight: retried one write at a time once nothing is in flight. */
  private final List<List<Write>> failedGroups = new ArrayList<>();
  private SqlConnection held;
  private Future<SqlConnection> connecting;
  private int inFlight;
  private int maxInFlight;
  private boolean scheduled;
  private long groups;
  private long writes;
  private final Stall stall;
  private long retryTimer = -1;
  /** See {@link #GroupCommit(String, Vertx, ConnectionSource, int, long)}; 0: none. */
  private final Linger linger;
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
    this(name, vertx, connections, maxStatements, 0);
  }

  /**
   * A writer whose snapshot writes may wait: while only {@link #writeSnapshot snapshots} are queued, the next
   * transaction starts no sooner than {@code snapshotLingerMs} after the previous one started, so an entity that
   * changes many times meanwhile writes its row once, and the writer leaves the WAL's flushes to the writers whose
   * callers wait. Any other write starts a transaction at once (taking the waiting snapshots along), and so does
   * {@link #drain}. For state whose row may trail memory by that long (nobody waits for it to commit).
   */
  public GroupCommit(String name, Vertx vertx, ConnectionSource connections, int maxStatements,
                     long snapshotLingerMs) {
    this.name = name;
    this.connections = connections;
    this.context = vertx.getOrCreateContext();
    this.queue = new WriteQueue(maxStatements);
    this.stall = Stall.register(vertx, name);
    this.linger = new Linger(vertx, snapshotLingerMs, this::flush);
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
  public boolean healthy() { return !stall.active(); }

  /**
   * The writers of {@code vertx} that are stalled now, with since when and why (empty: the write path works). For
   * readiness; callable from any thread.
   */
  public static List<JsonObject> stalledWriters(Vertx vertx) { return Stall.report(vertx); }

  private Future<Void> submit(Write w) {
    if (Vertx.currentContext() != context) {
      context.runOnContext(v -> enqueue(w));
    } else {
      enqueue(w);
    }
    return w.done().future();
  }

  private void enqueue(Write w) {
    if (!w.durable() && stall.active()) {
      w.done().tryFail(unavailable());
      return;
    }
    if (!queue.add(w)) return;
    if (!scheduled && inFlight < DEPTH && failedGroups.isEmpty() && !stall.hasWaiting()) {
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
    if (linger.pending()) flush(); // lingering snapshots go now
    return p.future().onComplete(x -> release());
  }

  /** Mean writes per transaction so far (for logs and benchmarks). */
  public double meanGroupSize() { return groups == 0 ? 0 : (double) writes / groups; }

  /** Most transactions that were in flight at once (for tests and benchmarks). */
  int maxInFlight() { return maxInFlight; }

  private boolean idle() {
    return inFlight == 0 && !scheduled && queue.isEmpty() && failedGroups.isEmpty() && !stall.hasWaiting();
  }

  /**
   * Starts the next transaction with every queued write it can take, while fewer than {@link #DEPTH} are in flight.
   * A group ends at the first write about a key still in flight (the entity's order) or at {@code maxStatements}.
   */
  private void flush() {
    if (stall.hasWaiting()) {
      if (inFlight == 0 && retryTimer < 0) {
        retryTimer = context.owner().setTimer(stall.nextRetryDelayMs(), id -> {
          retryTimer = -1;
          retryStalled();
        });
      }
      return;
    }
    if (!failedGroups.isEmpty()) {
      if (inFlight == 0) retryFailed();
      return;
    }
    // while the retry of stalled writes is in flight nothing overtakes it: writes land in queue order across an outage
    if (stall.active() && inFlight > 0) return;
    while (inFlight < DEPTH && !lingering()) {
      List<Write> group = queue.nextGroup();
      if (group.isEmpty()) break;
      start(group);
    }
    if (idle()) {
      drainWaiters.forEach(Promise::tryComplete);
      drainWaiters.clear();
    }
  }

  /** Whether the queued writes, all snapshots, wait for the linger (see {@link Linger}). */
  private boolean lingering() {
    return !queue.isEmpty() && drainWaiters.isEmpty() && linger.holds(queue.onlySnapshots());
  }

  private void start(List<Write> group) {
    linger.started();
    groups++;
    writes += group.size();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    List<String> keys = queue.hold(group);
    run(group).onComplete(ar -> {
      inFlight--;
      queue.free(keys);
      if (ar.succeeded()) {
        group.forEach(w -> w.done().tryComplete());
        if (!stall.hasWaiting()) recovered();
      } else if (PgErrors.isTransient(ar.cause())) {
        stall(group, ar.cause());
      } else if (group.size() == 1) {
        group.get(0).done().tryFail(ar.cause());
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
        w.done().tryComplete();
      } else if (PgErrors.isTransient(ar.cause())) {
        // the database went away meanwhile: this write and the rest wait for it, in order
        stall(group.subList(index, group.size()), ar.cause());
        return Future.succeededFuture();
      } else {
        w.done().tryFail(ar.cause());
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
      if (w.durable()) stall.add(w);
      else w.done().tryFail(unavailable());
    }
    queue.removeTryWrites(w -> w.done().tryFail(unavailable()));
    if (!stall.hasWaiting()) return;
    LOG.debug("database write failed; waiting to retry", kv("writer", name), kv("stalled", stall.waiting()),
        kv("error", String.valueOf(cause)));
    if (stall.begin(cause, System.currentTimeMillis())) {
      LOG.warn("database write failed; retrying until it commits", kv("writer", name),
          kv("writes", stall.waiting()), kv("error", stall.reason()));
    }
  }

  /** Tries the stalled writes again, as one transaction (their layers keep each entity's order). */
  private void retryStalled() {
    if (!stall.hasWaiting() || inFlight > 0) {
      flush();
      return;
    }
    List<Write> retry = stall.takeInQueueOrder();
    LOG.debug("retrying stalled database writes", kv("writer", name), kv("writes", retry.size()));
    start(retry);
  }

  /** After a stall: the writer commits again; listeners reload what may have been decided without them. */
  private void recovered() {
    if (!stall.active()) return;
    long downMs = stall.end(System.currentTimeMillis());
    LOG.info("database writes commit again", kv("writer", name), kv("stalled_ms", downMs));
    recoveryListeners.forEach(Runnable::run);
  }

  private static DomainException unavailable() {
    return DomainException.unavailable("the database is not available; try again shortly");
  }

  /**
   * One transaction, sent as one {@link Pipeline}. It completes (and its keys free up) only when its whole pipeline
   * has answered, or when its connection is taken for dead.
   */
  private Future<Void> run(List<Write> group) {
    List<Pipeline.Execution> executions =
        Pipeline.executions(group.stream().flatMap(w -> w.statements().stream()).toList());
    return connection().compose(conn -> {
      Promise<Void> outcome = Promise.promise();
      if (conn == held) onHeld.add(outcome);
      Fence fence = connections.fence();
      Pipeline pipeline = Pipeline.send(conn, fence, executions);
      pipeline.answered(context.owner(), TRANSACTION_TIMEOUT_MS).onComplete(ar -> {
        onHeld.remove(outcome);
        if (ar.succeeded()) {
          outcome.tryComplete();
          return;
        }
        Throwable cause = pipeline.firstCause(ar.cause());
        if (fence != null && Fence.refused(cause)) fence.onRefused().run();
        // the transaction's end is unknown: never reuse that connection
        if (!pipeline.commitSucceeded() && conn == held) discard();
        outcome.tryFail(cause);
      });
      return outcome.future();
    }).onFailure(err -> {
      // a broken connection (or one the server ended: 57P01, class 08) is replaced on the next transaction
      if (held != null && (PgErrors.isTransient(err) || !(err instanceof io.vertx.pgclient.PgException))) discard();
    });
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
      linger.stop();
      stall.takeWaiting().forEach(w -> w.done().tryFail(unavailable()));
      Stall.unregister(context.owner(), stall);
      flush();
    });
  }
}
