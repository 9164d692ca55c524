package io.hodei.scheduler;

import io.hodei.support.Fixtures;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job's state never goes backwards for a reader: several clients poll jobs while they run, and none ever reads a
 * state earlier than one it has already seen (by attempt, then queued < running < final).
 */
class MonotonicReadsTest {
  /** Jobs each client keeps polling at a time: the oldest ones it has not seen final yet. */
  private static final int WINDOW = 6;
  private static final Set<String> FINAL = Set.of("succeeded", "failed", "cancelled", "timed_out", "abandoned");

  private static int rank(JsonObject job) {
    String state = job.getString("state");
    return FINAL.contains(state) ? 2 : "running".equals(state) ? 1 : 0;
  }

  @Test
  void pollingClientsNeverReadAnEarlierStateThanTheyHaveSeen() throws Exception {
    // durable commits (fsync, as in production) take milliseconds: reads and commits overlap as they do for real users
    try (TestServer server = TestServer.start(Map.of(io.hodei.app.config.ConfigSchema.DB_EMBEDDED_DURABLE, true))) {
      Fixtures fx = new Fixtures(server);
      String token = fx.tenant("polled", new JsonObject().put("cpu_m", 1_000_000).put("memory_mb", 10_000_000)
          .put("max_concurrent_jobs", 1000).put("max_queued_jobs", 100_000), 1, "submitter");
      JsonObject pool = Fixtures.simulatedPool("sim", 4, 5);
      pool.getJsonObject("provider_config").put("job_duration_jitter_ms", 20);
      fx.pool(pool, 4);
      List<String> ids = new ArrayList<>();
      JsonArray batch = new JsonArray();
      for (int i = 0; i < 400; i++) {
        batch.add(new JsonObject().put("pool_id", "sim").put("command", new JsonArray().add("true"))
            .put("cpu_m", 100).put("memory_mb", 64));
      }
      List<String> backwards = Collections.synchronizedList(new ArrayList<>());
      List<Thread> clients = new ArrayList<>();
      HttpClient http = HttpClient.newHttpClient();
      JsonArray created = server.send(io.vertx.core.http.HttpMethod.POST, "/api/v1/jobs:batch", token,
          new JsonObject().put("jobs", batch)).json().getJsonArray("items");
      created.forEach(j -> ids.add(((JsonObject) j).getString("id")));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      for (int c = 0; c < 4; c++) {
        Thread t = new Thread(() -> {
          Map<String, int[]> seen = new HashMap<>();
          int done = 0;
          while (done < ids.size() && System.nanoTime() < deadline) {
            done = 0;
            int polled = 0;
            for (String id : ids) {
              int[] last = seen.get(id);
              if (last != null && last[1] == 2) {
                done++;
                continue;
              }
              // poll the first few jobs not seen final yet, again and again: reads cluster around their transitions
              if (++polled > WINDOW) break;
              JsonObject job = get(http, server.port(), token, id);
              if (job == null) continue;
              int[] now = {job.getInteger("attempts", 0), rank(job)};
              if (last != null && (now[0] < last[0] || (now[0] == last[0] && now[1] < last[1]))) {
                backwards.add(id + ": attempt " + last[0] + " rank " + last[1] + " then attempt " + now[0]
                    + " rank " + now[1] + " (" + job.getString("state") + ")");
              }
              seen.put(id, now);
              if (now[1] == 2) done++;
            }
          }
        });
        clients.add(t);
        t.start();
      }
      for (Thread t : clients) t.join();
      assertThat(backwards).isEmpty();
      for (String id : ids) assertThat(fx.job(token, id).getString("state")).isEqualTo("succeeded");
    }
  }

  private static JsonObject get(HttpClient http, int port, String token, String id) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/api/v1/jobs/" + id)).header("Authorization", "Bearer " + token).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? new JsonObject(r.body()) : null;
    } catch (java.io.IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
