package io.hodei.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hodei.support.Poll;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The group-commit writer against a real PostgreSQL: per-entity order, commit order of ids, failure isolation. */
class GroupCommitTest {
  private static final String INSERT = "INSERT INTO gc_log (entity, value) VALUES ($1, $2)";
  private static final String INSERT_CHECKED = "INSERT INTO gc_log (entity, value) VALUES ($1, $2::int)";
  private static Vertx vertx;
  private static Database db;
  /** The table the linger tests write (gc_log is the older tests'). */
  private static EntityLog log;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    db = Database.start(vertx, new DatabaseConfig(null, null, true, 4, 0, true)).await();
    db.pool().query("CREATE TABLE gc_log (id bigserial PRIMARY KEY, entity text NOT NULL, value int NOT NULL "
        + "CHECK (value >= 0))").execute().await();
    log = new EntityLog(vertx, db.pool(), "gc_linger_log");
  }

  /** Every test's writer gives its connection back (the pool has four). */
  private static final List<GroupCommit> writers = new java.util.concurrent.CopyOnWriteArrayList<>();

  @org.junit.jupiter.api.AfterEach
  void drainWriters() {
    writers.forEach(w -> w.drain().await());
    writers.clear();
  }

  private static GroupCommit writer(String name, Pool pool, int maxStatements) {
    GroupCommit w = new GroupCommit(name, vertx, pool, maxStatements);
    writers.add(w);
    return w;
  }

  /**
   * A writer with a linger whose first transaction (snapshot 1 of {@code entity}) has committed: it went at once, no
   * transaction having started within the linger before it. Later snapshots wait for the linger.
   */
  private static GroupCommit lingeringAfterOneSnapshot(String entity, long lingerMs) {
    GroupCommit w = log.lingeringWriter("linger-" + entity, lingerMs).await();
    writers.add(w);
    log.snapshot(w, entity, 1).await();
    return w;
  }

  @Test
  void snapshotsQueuedWithinTheLingerAfterATransactionFoldIntoOneRowAndDrainWritesThemAtOnce() throws Exception {
    // a linger far longer than the test: nothing but drain or another write can start the snapshots' transaction
    GroupCommit writer = lingeringAfterOneSnapshot("lf", 60_000);
    Future<Void> second = log.snapshot(writer, "lf", 2);
    Thread.sleep(100); // turns of the event loop later (without a linger, 2 would be written on its own meanwhile)
    Future<Void> third = log.snapshot(writer, "lf", 3);
    assertEquals(List.of(1), log.values("lf"), "snapshots wait while the linger lasts");
    log.onContext(writer::drain).await();
    assertTrue(second.isComplete() && third.isComplete());
    assertEquals(List.of(1, 3), log.values("lf"), "the waiting snapshot was replaced by the later one");
  }

  @Test
  void anotherWriteStartsATransactionAtOnceAndTakesTheWaitingSnapshotsAlong() {
    GroupCommit writer = lingeringAfterOneSnapshot("lo", 60_000);
    Future<Void> waiting = log.snapshot(writer, "lo", 2);
    log.write(writer, "lo-other", 7).await();
    assertTrue(waiting.isComplete(), "the snapshot queued before the write committed with it");
    assertEquals(List.of(1, 2), log.values("lo"));
    assertEquals(List.of(7), log.values("lo-other"));
  }

  @Test
  void aLingeringSnapshotCommitsWhenTheLingerIsOverWithNothingElseQueued() {
    GroupCommit writer = lingeringAfterOneSnapshot("lt", 200);
    log.snapshot(writer, "lt", 2).await(); // completes without drain: the linger's timer started its transaction
    assertEquals(List.of(1, 2), log.values("lt"));
  }

  @AfterAll
  static void stop() {
    db.close(vertx).await();
    vertx.close().await();
  }

  @Test
  void aTransactionWithoutAnAnswerInTimeFailsAsTransientAndOneAnsweredInTimeSucceeds() {
    io.vertx.sqlclient.SqlConnection conn = db.pool().getConnection().await();
    try {
      Pipeline slow = Pipeline.send(conn, null, Pipeline.executions(List.of(GroupCommit.Statement.of("k",
          "SELECT pg_sleep(2)", Tuple.tuple()))));
      // fails (not the statement's answer, which would succeed): it gave up before the answer came
      Throwable failure = slow.answered(vertx, 200).map(x -> (Throwable) null).otherwise(e -> e).await();
      assertTrue(failure instanceof java.util.concurrent.TimeoutException, String.valueOf(failure));
      assertTrue(io.hodei.common.PgErrors.isTransient(failure), "a transaction without an answer is retried");
      // the connection answers the slow transaction in the end; a quick one on it answers within its time
      slow.answered(vertx, 10_000).await();
      Pipeline quick = Pipeline.send(conn, null, Pipeline.executions(List.of(GroupCommit.Statement.of("k",
          "SELECT 1", Tuple.tuple()))));
      quick.answered(vertx, 10_000).await();
      assertTrue(quick.commitSucceeded());
    } finally {
      conn.close().await();
    }
  }

  @Test
  void aDurableEmbeddedDatabaseFlushesEveryCommit() {
    // the embedded server's library defaults are fsync=off and synchronous_commit=off
    for (String setting : List.of("fsync", "synchronous_commit")) {
      assertEquals("on", db.pool().query("SHOW " + setting).execute().await().iterator().next().getString(0), setting);
    }
  }

  @Test
  void writesOfOneEntityLandInQueueOrderAndGroupsShareTransactions() {
    Pool pool = db.pool();
    GroupCommit[] writer = new GroupCommit[1];
    int entities = 50;
    int perEntity = 20;
    List<Future<Void>> done = new ArrayList<>();
    // queue everything from one context in one go: the writer must split it into few transactions
    vertx.runOnContext(v -> {
      writer[0] = writer("test", pool, 400);
      for (int round = 0; round < perEntity; round++) {
        for (int e = 0; e < entities; e++) {
          String key = "e" + e;
          done.add(writer[0].write(GroupCommit.Statement.of(key, INSERT, Tuple.of(key, round)),
              GroupCommit.Statement.of(key, INSERT, Tuple.of(key, 1000 + round))));
        }
      }
    });
    Poll.until(done::size, n -> n == entities * perEntity, Duration.ofSeconds(30), "writes queued");
    Future.all(done).await();
    Map<String, List<Integer>> byEntity = new HashMap<>();
    for (Row r : pool.query("SELECT entity, value FROM gc_log WHERE entity LIKE 'e%' ORDER BY id").execute().await()) {
      byEntity.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r.getInteger(1));
    }
    assertEquals(entities, byEntity.size());
    for (List<Integer> values : byEntity.values()) {
      List<Integer> expected = new ArrayList<>();
      for (int round = 0; round < perEntity; round++) {
        expected.add(round);
        expected.add(1000 + round);
      }
      assertEquals(expected, values, "one entity's rows are in the order they were queued");
    }
    assertTrue(writer[0].meanGroupSize() > 10, "writes queued together share transactions: mean group "
        + writer[0].meanGroupSize());
  }

  @Test
  void aWaitingSnapshotIsReplacedByALaterOneButNeverOvertakesAnotherWrite() {
    Pool pool = db.pool();
    List<Future<Void>> done = new ArrayList<>();
    // all queued before the writer's first transaction: 1 and 2 are replaced by 3, 4 by 5; 100 stays between them
    vertx.runOnContext(v -> {
      GroupCommit writer = writer("snapshots", pool, 400);
      for (int value : new int[] {1, 2, 3}) {
        done.add(writer.writeSnapshot(GroupCommit.Statement.of("snap", INSERT, Tuple.of("snap", value))));
      }
      done.add(writer.write(GroupCommit.Statement.of("snap", INSERT, Tuple.of("snap", 100))));
      for (int value : new int[] {4, 5}) {
        done.add(writer.writeSnapshot(GroupCommit.Statement.of("snap", INSERT, Tuple.of("snap", value))));
      }
    });
    Poll.until(done::size, n -> n == 6, Duration.ofSeconds(30), "writes queued");
    Future.all(done).await();
    List<Integer> values = new ArrayList<>();
    pool.query("SELECT value FROM gc_log WHERE entity = 'snap' ORDER BY id").execute().await()
        .forEach(r -> values.add(r.getInteger(0)));
    assertEquals(List.of(3, 100, 5), values);
  }

  @Test
  void rowStatementsOfALayerRunAsOneExecutionAndEachSeesTheResult() {
    Pool pool = db.pool();
    String sql = "INSERT INTO gc_log (entity, value) SELECT * FROM unnest($1::text[], $2::int[]) RETURNING entity";
    Class<?>[] columns = {String.class, Integer.class};
    List<Future<Void>> done = new ArrayList<>();
    List<Integer> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    GroupCommit[] writer = new GroupCommit[1];
    vertx.runOnContext(v -> {
      writer[0] = writer("rows", pool, 1000);
      for (int i = 0; i < 40; i++) {
        // two rows of the same entity: the second lands in the next layer, after the first
        String key = "r" + (i % 20);
        done.add(writer[0].write(GroupCommit.Statement.row(key, sql, columns, new Object[] {key, i},
            rows -> seen.add(rows.size()))));
      }
    });
    Poll.until(() -> done.size() == 40 && done.stream().allMatch(Future::isComplete), b -> b,
        Duration.ofSeconds(30), "row writes done");
    Future.all(done).await();
    assertEquals(40, seen.size());
    assertTrue(seen.stream().allMatch(n -> n == 20), "each row statement sees its layer's combined result: " + seen);
    List<Integer> firstEntity = new ArrayList<>();
    for (Row r : pool.query("SELECT value FROM gc_log WHERE entity = 'r0' ORDER BY id").execute().await()) {
      firstEntity.add(r.getInteger(0));
    }
    assertEquals(List.of(0, 20), firstEntity);
  }

  @Test
  void aFailingWriteFailsAloneAndTheOthersCommit() {
    Pool pool = db.pool();
    AtomicInteger failed = new AtomicInteger();
    List<Future<Void>> done = new ArrayList<>();
    vertx.runOnContext(v -> {
      GroupCommit writer = writer("test", pool, 1000);
      for (int i = 0; i < 30; i++) {
        int value = i == 17 ? -1 : i; // the CHECK constraint refuses -1
        done.add(writer.write(GroupCommit.Statement.of("f" + i, INSERT_CHECKED, Tuple.of("iso", value)))
            .onFailure(err -> failed.incrementAndGet()));
      }
    });
    Poll.until(() -> done.size() == 30 && done.stream().allMatch(Future::isComplete), b -> b,
        Duration.ofSeconds(30), "writes done");
    assertEquals(1, failed.get());
    long rows = pool.query("SELECT count(*) FROM gc_log WHERE entity = 'iso'").execute().await()
        .iterator().next().getLong(0);
    assertEquals(29, rows);
  }

  @Test
  void aGroupFailingWhileTheNextIsInFlightIsRetriedBeforeLaterWritesOfItsEntities() {
    Pool pool = db.pool();
    AtomicInteger failed = new AtomicInteger();
    List<Future<Void>> done = new ArrayList<>();
    GroupCommit[] writer = new GroupCommit[1];
    vertx.runOnContext(v -> {
      writer[0] = writer("test", pool, 1000);
      // one group: p1 and p3 are fine, p2 breaks the CHECK constraint and fails the group's transaction
      for (int i = 1; i <= 3; i++) {
        done.add(writer[0].write(GroupCommit.Statement.of("p" + i, INSERT_CHECKED, Tuple.of("p" + i, i == 2 ? -1 : i)))
            .onFailure(err -> failed.incrementAndGet()));
      }
      // a few turns of the event loop later (the first transaction has been sent, not yet answered): writes about
      // other entities may go in a second transaction; p1's second write must wait for p1's first
      vertx.runOnContext(a -> vertx.runOnContext(b -> {
        done.add(writer[0].write(GroupCommit.Statement.of("q1", INSERT_CHECKED, Tuple.of("q1", 10))));
        done.add(writer[0].write(GroupCommit.Statement.of("p1", INSERT_CHECKED, Tuple.of("p1", 11))));
        done.add(writer[0].write(GroupCommit.Statement.of("q2", INSERT_CHECKED, Tuple.of("q2", 12))));
      }));
    });
    Poll.until(() -> done.size() == 6 && done.stream().allMatch(Future::isComplete), b -> b,
        Duration.ofSeconds(30), "writes done");
    assertEquals(1, failed.get());
    List<String> rows = new ArrayList<>();
    for (Row r : pool.query("SELECT entity, value FROM gc_log WHERE entity ~ '^[pq][0-9]$' ORDER BY id").execute().await()) {
      rows.add(r.getString(0) + "=" + r.getInteger(1));
    }
    assertEquals(5, rows.size(), rows.toString());
    assertTrue(rows.indexOf("p1=1") < rows.indexOf("p1=11"), "p1's writes in queue order: " + rows);
    assertTrue(rows.containsAll(List.of("p3=3", "q1=10", "q2=12")), rows.toString());
    // the failing group really had the next transaction in flight beside it
    assertEquals(2, writer[0].maxInFlight());
  }

  @Test
  void pipelinedTransactionsKeepEveryEntitysOrderAndCommitIdsInOrder() {
    Pool pool = db.pool();
    List<Future<Void>> done = new ArrayList<>();
    GroupCommit[] writer = new GroupCommit[1];
    int waves = 40;
    // writes arrive in waves over many turns of the event loop, so that transactions overlap; each wave writes
    // every entity once, and one entity's wave-w write must land after its wave-(w-1) write
    vertx.runOnContext(v -> writer[0] = writer("test", pool, 50));
    Poll.until(() -> writer[0], w -> w != null, Duration.ofSeconds(5), "writer created");
    AtomicInteger wave = new AtomicInteger();
    long timer = vertx.setPeriodic(1, t -> {
      int w = wave.getAndIncrement();
      if (w >= waves) return;
      for (int e = 0; e < 7; e++) {
        String key = "w" + e;
        done.add(writer[0].write(GroupCommit.Statement.of(key, INSERT, Tuple.of(key, w))));
      }
    });
    Poll.until(() -> done.size() == waves * 7 && done.stream().allMatch(Future::isComplete), b -> b,
        Duration.ofSeconds(30), "writes done");
    vertx.cancelTimer(timer);
    Future.all(done).await();
    Map<String, List<Integer>> byEntity = new HashMap<>();
    for (Row r : pool.query("SELECT entity, value FROM gc_log WHERE entity ~ '^w[0-9]$' ORDER BY id").execute().await()) {
      byEntity.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r.getInteger(1));
    }
    assertEquals(7, byEntity.size());
    List<Integer> inOrder = new ArrayList<>();
    for (int w = 0; w < waves; w++) inOrder.add(w);
    byEntity.values().forEach(values -> assertEquals(inOrder, values));
    assertTrue(writer[0].maxInFlight() <= GroupCommit.DEPTH);
  }

  @Test
  void theWritersSessionUsesGenericPlansWithoutSequentialScans() {
    List<String> settings = new ArrayList<>();
    List<Future<Void>> done = new ArrayList<>();
    vertx.runOnContext(v -> done.add(writer("settings", db.pool(), 10).write(new GroupCommit.Statement("k",
        "SELECT current_setting('plan_cache_mode'), current_setting('enable_seqscan')", Tuple.tuple(), null, null,
        rows -> rows.forEach(r -> settings.add(r.getString(0) + " " + r.getString(1)))))));
    Poll.until(() -> done.size() == 1 && done.get(0).isComplete(), b -> b, Duration.ofSeconds(30), "read");
    Future.all(done).await();
    assertEquals(List.of("force_generic_plan off"), settings);
  }

  @Test
  void onAFreshJobTableTheWritersGenericPlanLooksJobsUpByKey() {
    // the generic plan PostgreSQL caches for a job writer's multi-row update, planned while the job table is new and
    // empty (as on a fresh server): without the writer's settings, a hash join over a scan of the whole table, kept
    // for every execution until the next analyze
    String update = "EXPLAIN (GENERIC_PLAN) WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], "
        + "$3::timestamptz[]) AS d(id, state, at)), u AS (UPDATE job SET state = d.state, finished_at = d.at FROM d "
        + "WHERE job.id = d.id RETURNING job.id) INSERT INTO job_event_log (last_seq, first_seq, job_ids) "
        + "SELECT 1, 1, array_agg(id) FROM u";
    Pool pool = db.pool();
    io.vertx.sqlclient.SqlConnection conn = pool.getConnection().await();
    try {
      String plain = String.join("\n", plan(conn, update));
      assertTrue(plain.contains("Seq Scan on job"), "the case this guards against: " + plain);
      conn.query(GroupCommit.WRITER_SESSION).execute().await();
      String writer = String.join("\n", plan(conn, update));
      assertTrue(writer.contains("Index Scan using job_pkey on job") && !writer.contains("Seq Scan on job"), writer);
    } finally {
      conn.query("RESET ALL").execute().await();
      conn.close().await();
    }
  }

  private static List<String> plan(io.vertx.sqlclient.SqlConnection conn, String explain) {
    List<String> lines = new ArrayList<>();
    for (Row r : conn.query(explain).execute().await()) lines.add(r.getString(0));
    return lines;
  }
}
