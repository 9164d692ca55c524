package io.hodei.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** scheduler.job_retention_days: jobs that ended longer ago go with their events and output; the others stay. */
class JobRetentionTest {

  @Test
  void jobsThatEndedBeforeTheRetentionAreTrimmedWithTheirEventsAndOutput() throws Exception {
    Path dir = Files.createTempDirectory("hodei-job-retention-");
    try {
      String token;
      String old;
      String recent;
      String open;
      try (TestServer first = TestServer.startPersistent(dir, Map.of())) {
        Fixtures fx = new Fixtures(first);
        token = fx.tenant("keeper", null, 1, "submitter");
        fx.pool(Fixtures.simulatedPool("ret-pool", 1, 0), 1);
        old = fx.submitted(token, Fixtures.spec("ret-pool", "noop"));
        recent = fx.submitted(token, Fixtures.spec("ret-pool", "noop"));
        fx.awaitState(token, old, "succeeded");
        fx.awaitState(token, recent, "succeeded");
        open = fx.submitted(token, Fixtures.spec("ret-pool", "noop").put("payload",
            new JsonObject().put("duration_ms", 600_000)));
        fx.awaitState(token, open, "running");
        Pool db = first.server().database().pool();
        assertThat(count(db, "SELECT count(*) FROM job_log WHERE job_id = $1", old)).isEqualTo(1);
        // as if it had ended 40 days ago
        db.preparedQuery("UPDATE job SET finished_at = finished_at - interval '40 days' WHERE id = $1")
            .execute(Tuple.of(old)).await();
      }
      try (TestServer second = TestServer.startPersistent(dir, Map.of(ConfigSchema.SCHED_JOB_RETENTION, 30))) {
        Pool db = second.server().database().pool();
        String gone = old;
        Poll.until(() -> second.get("/api/v1/jobs/" + gone, token).status(), s -> s == 404, Duration.ofSeconds(30),
            "the old job trimmed");
        assertThat(second.get("/api/v1/jobs/" + recent, token).status()).isEqualTo(200);
        assertThat(second.get("/api/v1/jobs/" + recent + "/events", token).json().getJsonArray("items")).hasSize(4);
        assertThat(second.get("/api/v1/jobs/" + open, token).json().getString("state")).isIn("running", "queued");
        assertThat(count(db, "SELECT count(*) FROM job_log WHERE job_id = $1", old)).isZero();
        assertThat(count(db, "SELECT count(*) FROM job_event WHERE job_id = $1", old)).isZero();
        // no event log row is left without a job (a row that also names a kept job stays)
        assertThat(count(db, "SELECT count(*) FROM job_event_log g WHERE $1 = $1 AND NOT EXISTS "
            + "(SELECT 1 FROM job j WHERE j.id = ANY(g.job_ids))", old)).isZero();
        assertThat(count(db, "SELECT count(*) FROM job_event_log WHERE $1 = ANY(job_ids)", recent)).isEqualTo(3);
      }
    } finally {
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static long count(Pool db, String sql, String id) {
    return db.preparedQuery(sql).execute(Tuple.of(id)).await().iterator().next().getLong(0);
  }
}
