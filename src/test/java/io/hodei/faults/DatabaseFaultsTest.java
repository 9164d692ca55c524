package io.hodei.faults;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.FaultyDatabase;
import io.hodei.support.Fixtures;
import io.hodei.support.JobLedger;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.SubmitLoad;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The database is the judge, with faults injected into a real PostgreSQL under submit load: the database stopped,
 * every connection (the writers' included) cut from the server side, the postmaster killed with SIGKILL. Submits
 * answer 201 or 503 problem+json with Retry-After, never anything else; readiness follows the write path; every
 * connection heals without a restart; every accepted job ends, once; the counters agree with the rows.
 */
class DatabaseFaultsTest {
  private static final Map<String, Object> CONFIG = Map.of(ConfigSchema.SCHED_TICK, 100,
      ConfigSchema.POOLS_RECONCILE_INTERVAL, 1);

  /** A tenant that can queue everything, a simulated pool of 8 workers with 50..150 ms jobs. */
  private static String setUp(TestServer server) {
    Fixtures fx = new Fixtures(server);
    String token = fx.tenant("load", new JsonObject().put("cpu_m", 1_000_000).put("memory_mb", 10_000_000)
        .put("max_concurrent_jobs", 1000).put("max_queued_jobs", 100_000), 1, "submitter");
    JsonObject pool = Fixtures.simulatedPool("sim", 8, 50);
    pool.getJsonObject("provider_config").put("job_duration_jitter_ms", 100);
    fx.pool(pool, 8);
    return token;
  }

  private static JsonObject job() {
    return new JsonObject().put("pool_id", "sim").put("command", new io.vertx.core.json.JsonArray().add("true"))
        .put("cpu_m", 100).put("memory_mb", 64);
  }

  /** What a test does to the database while clients submit. */
  private interface Fault {
    void inject(FaultyDatabase db, TestServer server, SubmitLoad load) throws Exception;
  }

  /**
   * Runs {@code fault} against a server on a database of its own while 4 clients submit (at most {@code maxJobs}),
   * then checks the answers (201 or 503 problem+json with Retry-After only) and the ledger.
   */
  private static SubmitLoad underLoad(int maxJobs, Fault fault) throws Exception {
    try (FaultyDatabase db = FaultyDatabase.start();
         TestServer server = TestServer.start(withUrl(db))) {
      String token = setUp(server);
      SubmitLoad load = new SubmitLoad(server.port(), token, job(), 4, maxJobs);
      try {
        fault.inject(db, server, load);
      } finally {
        load.close();
      }
      assertThat(load.violations).as(load.toString()).isEmpty();
      verifyLedger(db, server, load);
      return load;
    }
  }

  private static void awaitAccepted(SubmitLoad load, int more, String what) {
    int before = load.accepted.size();
    Poll.until(load.accepted::size, n -> n >= before + more, Duration.ofSeconds(30), what);
  }

  private static void awaitReady(TestServer server, int status, String what) {
    Poll.until(() -> server.get("/health/ready", null).status(), s -> s == status, Duration.ofSeconds(30), what);
  }

  @Test
  void aStoppedDatabaseAnswers503AndEveryAcceptedJobEndsOnceAfterItIsBack() throws Exception {
    SubmitLoad load = underLoad(3000, (db, server, l) -> {
      awaitAccepted(l, 200, "jobs accepted before the outage");
      db.stopServer();
      Response down = Poll.until(() -> server.get("/health/ready", null), r -> r.status() == 503,
          Duration.ofSeconds(15), "readiness DOWN while the database is stopped");
      assertThat(down.header("Retry-After")).isNotNull();
      int before = l.count(503);
      Poll.until(() -> l.count(503), n -> n > before + 20, Duration.ofSeconds(30), "submits refused with 503");
      db.startServer();
      awaitReady(server, 200, "readiness UP after the database is back");
      awaitAccepted(l, 100, "submits accepted again");
    });
    assertThat(load.count(503)).as(load.toString()).isPositive();
  }

  @Test
  void everyConnectionCutFromTheServerSideHealsWithoutARestart() throws Exception {
    underLoad(2000, (db, server, l) -> {
      // the writers' connections alone, then every connection, three times
      awaitAccepted(l, 150, "jobs accepted");
      assertThat(db.terminateConnections("hodei-writers")).isEqualTo(2);
      for (int cut = 0; cut < 3; cut++) {
        awaitAccepted(l, 150, "jobs accepted");
        assertThat(db.terminateClientConnections()).isPositive();
      }
      awaitAccepted(l, 150, "submits accepted after the cuts");
      awaitReady(server, 200, "readiness UP after the cuts");
    });
  }

  @Test
  void aKilledPostmasterIsRecoveredFromWithNothingLostOrRunTwice() throws Exception {
    underLoad(2000, (db, server, l) -> {
      awaitAccepted(l, 200, "jobs accepted before the kill");
      db.killPostmaster();
      Poll.until(() -> server.get("/health/ready", null).status(), s -> s == 503, Duration.ofSeconds(15),
          "readiness DOWN after the kill");
      db.startServer();
      awaitReady(server, 200, "readiness UP after crash recovery");
      awaitAccepted(l, 100, "submits accepted again");
    });
  }

  /** Every accepted job ends within a minute of recovery, none ran after it ended, the counters agree. */
  private static void verifyLedger(FaultyDatabase db, TestServer server, SubmitLoad load) throws Exception {
    JobLedger ledger = new JobLedger(db);
    ledger.allEnd(load.accepted, Duration.ofSeconds(60));
    ledger.nothingRanTwice();
    Poll.until(() -> {
      try {
        ledger.countersAgree(server.get("/metrics", TestServer.ADMIN_TOKEN).body());
        return true;
      } catch (AssertionError | java.sql.SQLException e) {
        return false;
      }
    }, ok -> ok, Duration.ofSeconds(15), "counters agreeing with the database");
  }

  private static Map<String, Object> withUrl(FaultyDatabase db) {
    Map<String, Object> config = new java.util.HashMap<>(CONFIG);
    config.put(ConfigSchema.DB_URL, db.url());
    return config;
  }
}
