package io.hodei.pool.provider.kubernetes;

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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end on the Kubernetes mock: the test kubelet starts each pod's agent as a separate JVM from the built jar
 * with the pod's environment (the token resolved from the pool's Secret), as a node would run the image. Runs in the
 * integration-test phase, after the jar is packaged.
 */
class KubernetesIT {
  static final Path JAR = Path.of("target", "hodei-pools.jar").toAbsolutePath();
  static final String NAMESPACE = "hodei-it";
  static final String POOL = "k8s-it";

  @TempDir
  Path work;

  /** Starts the pod's agent process; stopping it is what the kubelet does on deletion (TERM, then KILL). */
  private AutoCloseable launch(String pod, Map<String, String> env) throws Exception {
    Path dir = work.resolve(pod);
    Files.createDirectories(dir);
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1", "-jar", JAR.toString(), "agent")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve(pod + ".log").toFile()));
    builder.environment().keySet().removeIf(k -> k.startsWith("HODEI_"));
    builder.environment().putAll(env);
    // the pod's own file system
    builder.environment().put("HODEI_AGENT_WORK_DIR", dir.toString());
    Process process = builder.start();
    return () -> {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    };
  }

  @Test
  void jobsRunOnAgentPodsAndAPodDeletedFromOutsideHasItsJobRetriedOnAnotherPod() throws Exception {
    assertThat(JAR).as("the jar is built by mvn package before this test").exists();
    try (MockCluster cluster = new MockCluster();
         TestServer server = TestServer.start(Map.of());
         Kubelet kubelet = new Kubelet(cluster.client, NAMESPACE, this::launch)) {
      Fixtures fixtures = new Fixtures(server);
      String submitter = fixtures.tenant("t-k8s-it", new JsonObject().put("cpu_m", 100_000)
          .put("memory_mb", 1_000_000).put("max_concurrent_jobs", 100).put("max_queued_jobs", 1000), 1, "submitter");
      JsonObject body = new JsonObject().put("id", POOL).put("name", POOL).put("kind", "static")
          .put("provider", "kubernetes").put("size", 2).put("worker_cpu_m", 1000).put("worker_memory_mb", 512)
          .put("provider_config", new JsonObject().put("namespace", NAMESPACE).put("master_url", cluster.url())
              .put("server", "127.0.0.1:" + server.port()));
      assertThat(server.admin(HttpMethod.POST, "/api/v1/pools", body).status()).isEqualTo(201);
      Poll.until(() -> server.get("/api/v1/pools/" + POOL, TestServer.ADMIN_TOKEN).json(),
          p -> p.getJsonObject("workers").getInteger("idle", 0) >= 2, Duration.ofSeconds(120), "2 agent pods ready");

      List<String> jobs = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        jobs.add(fixtures.submitted(submitter, job(1, "sh", "-c", "echo out-$1; exit $2", "sh", "n" + i,
            Integer.toString(i % 5 == 0 ? 3 : 0))));
      }
      for (int i = 0; i < jobs.size(); i++) {
        JsonObject ended = awaitEnded(fixtures, submitter, jobs.get(i));
        assertThat(ended.getString("state")).as(ended.encode()).isEqualTo(i % 5 == 0 ? "failed" : "succeeded");
        assertThat(ended.getInteger("exit_code")).isEqualTo(i % 5 == 0 ? 3 : 0);
        assertThat(lastLog(server, submitter, jobs.get(i))).contains("out-n" + i);
      }

      Path marker = work.resolve("first-attempt");
      String retried = fixtures.submitted(submitter, job(2, "sh", "-c",
          "if [ -e " + marker + " ]; then echo second attempt; else touch " + marker + "; sleep 300; fi"));
      JsonObject running = Poll.until(() -> fixtures.job(submitter, retried), j -> "running".equals(j.getString("state"))
          && Files.exists(marker), Duration.ofSeconds(60), "the first attempt running");
      String firstPod = AgentPods.podName(running.getString("worker_id"));
      cluster.client.pods().inNamespace(NAMESPACE).withName(firstPod).delete();

      JsonObject ended = awaitEnded(fixtures, submitter, retried);
      assertThat(ended.getString("state")).as(ended.encode()).isEqualTo("succeeded");
      assertThat(ended.getInteger("attempts")).isEqualTo(2);
      assertThat(ended.getString("worker_id")).isNotEqualTo(running.getString("worker_id"));
      assertThat(lastLog(server, submitter, retried)).contains("second attempt");
      Set<String> pods = Poll.until(() -> cluster.client.pods().inNamespace(NAMESPACE)
          .withLabel(AgentPods.POOL_LABEL, POOL).list().getItems().stream().map(p -> p.getMetadata().getName())
          .collect(Collectors.toSet()), s -> s.size() == 2, Duration.ofSeconds(60), "the lost pod replaced");
      assertThat(pods).doesNotContain(firstPod);
    }
  }

  private static JsonObject job(int maxAttempts, String... argv) {
    return new JsonObject().put("pool_id", POOL).put("command", new JsonArray(List.of(argv))).put("cpu_m", 100)
        .put("memory_mb", 64).put("max_attempts", maxAttempts).put("timeout_s", 600);
  }

  private static JsonObject awaitEnded(Fixtures fixtures, String submitter, String id) {
    return Poll.until(() -> fixtures.job(submitter, id), j -> List.of("succeeded", "failed", "cancelled", "timed_out",
        "abandoned").contains(j.getString("state")), Duration.ofSeconds(120), "job " + id + " to end");
  }

  private static String lastLog(TestServer server, String submitter, String id) {
    JsonArray attempts = server.get("/api/v1/jobs/" + id + "/logs", submitter).json().getJsonArray("attempts");
    return attempts.isEmpty() ? null : attempts.getJsonObject(attempts.size() - 1).getString("log");
  }
}
