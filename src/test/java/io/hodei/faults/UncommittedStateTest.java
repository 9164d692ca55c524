package io.hodei.faults;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.FaultyDatabase;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job's end is visible only once its write committed, and a final write the database refused never makes a read go
 * backwards. The test holds a lock on the job's row so the end write waits, reads the job meanwhile, then ends the
 * waiting write's connection from the server side (as a crash or a network cut would) and releases the lock.
 */
class UncommittedStateTest {
  @Test
  void readsShowAJobsEndOnlyOnceItCommittedAndNeverGoBackwards() throws Exception {
    try (FaultyDatabase db = FaultyDatabase.start();
         TestServer server = TestServer.start(Map.of(ConfigSchema.DB_URL, db.url()))) {
      Fixtures fx = new Fixtures(server);
      String token = fx.tenant("judged", null, 1, "submitter");
      fx.pool(Fixtures.simulatedPool("sim", 1, 1_000), 1);
      String id = fx.submitted(token, Fixtures.spec("sim", "true"));
      Poll.until(() -> fx.job(token, id).getString("state"), "running"::equals, Duration.ofSeconds(10),
          "job running");

      List<String> reads = new ArrayList<>();
      try (Connection lock = db.connect()) {
        lock.setAutoCommit(false);
        try (PreparedStatement s = lock.prepareStatement("SELECT 1 FROM job WHERE id = ? FOR UPDATE")) {
          s.setString(1, id);
          s.executeQuery().close();
        }
        // the job ends after 1 s; its end write now waits for the lock
        Poll.until(() -> waitingForLocks(db), n -> n > 0, Duration.ofSeconds(10), "the end write waiting for the row lock");
        for (int i = 0; i < 5; i++) reads.add(fx.job(token, id).getString("state"));
        assertThat(reads).as("reads while the end write has not committed").containsOnly("running");

        // the waiting write's connection dies before it commits
        try (Statement s = lock.createStatement()) {
          s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
              + " AND pid <> pg_backend_pid()");
        }
        lock.rollback();
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      String state;
      do {
        state = fx.job(token, id).getString("state");
        reads.add(state);
        Thread.sleep(20);
      } while (!"succeeded".equals(state) && System.nanoTime() < deadline);
      for (int i = 0; i < 20; i++) {
        reads.add(fx.job(token, id).getString("state"));
        Thread.sleep(20);
      }
      int firstFinal = reads.indexOf("succeeded");
      assertThat(firstFinal).as("the job ends once its write commits: %s", reads).isGreaterThanOrEqualTo(0);
      assertThat(reads.subList(firstFinal, reads.size())).as("reads after the first final one: %s", reads)
          .containsOnly("succeeded");
      assertThat(db.column("SELECT state FROM job WHERE id = '" + id + "'")).containsExactly("succeeded");
      JsonObject job = fx.job(token, id);
      assertThat(job.getInteger("attempts")).isEqualTo(1);
    }
  }

  private static long waitingForLocks(FaultyDatabase db) {
    try {
      return db.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
