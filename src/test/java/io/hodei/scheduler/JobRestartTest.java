package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** No accepted job is lost across a restart; one that was running is not run twice at once. */
class JobRestartTest {

  @Test
  void queuedAndRunningJobsSurviveARestart() throws Exception {
    Path dir = Files.createTempDirectory("hodei-job-restart-");
    Map<String, Object> config = Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 100,
        ConfigSchema.SCHED_BACKOFF, 1);
    try {
      String token;
      String running;
      long pid;
      List<String> queued = new ArrayList<>();
      try (TestServer first = TestServer.startPersistent(dir, config)) {
        Fixtures fx = new Fixtures(first);
        token = fx.tenant("durable", null, 1, "submitter");
        fx.pool(new JsonObject().put("id", "host").put("provider", "local").put("size", 1), 1);
        running = fx.submitted(token, Fixtures.spec("host", "sleep", "60"));
        JsonObject started = fx.awaitState(token, running, "running");
        pid = started.getLong("pid");
        assertThat(ProcessHandle.of(pid)).isPresent();
        for (int i = 0; i < 3; i++) queued.add(fx.submitted(token, Fixtures.spec("host", "true")));
        assertThat(first.admin(HttpMethod.POST, "/api/v1/pools/host/lifecycle", new JsonObject().put("action", "pause"))
            .status()).isEqualTo(200);
      }
      try (TestServer second = TestServer.startPersistent(dir, config)) {
        Fixtures fx = new Fixtures(second);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        for (String id : queued) assertThat(fx.job(token, id).getString("state")).isEqualTo("queued");
        // the retry of the run lost in the restart is written while the server already serves
        JsonObject retried = Poll.until(() -> fx.job(token, running), j -> !j.getString("state").equals("running"),
            Duration.ofSeconds(30), "lost run retried");
        assertThat(retried.getString("state")).isEqualTo("queued");
        assertThat(retried.getString("error_type")).isEqualTo("worker_lost");
        assertThat(second.admin(HttpMethod.POST, "/api/v1/pools/host/lifecycle",
            new JsonObject().put("action", "resume")).status()).isEqualTo(200);
        for (String id : queued) fx.awaitState(token, id, "succeeded");
        JsonObject again = Poll.until(() -> fx.job(token, running), j -> j.getString("state").equals("running"),
            Duration.ofSeconds(30), "retried job running");
        assertThat(again.getInteger("attempts")).isEqualTo(2);
        JsonArray events = second.get("/api/v1/jobs/" + running + "/events", token).json().getJsonArray("items");
        assertThat(events.stream().map(e -> ((JsonObject) e).getString("state")))
            .containsSubsequence("queued", "running", "queued", "running");
        second.send(HttpMethod.POST, "/api/v1/jobs/" + running + "/cancel", token, null);
        fx.awaitState(token, running, "cancelled");
      }
    } finally {
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
