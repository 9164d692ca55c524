package io.hodei.pool.provider.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.hodei.agent.InJvmAgent;
import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** A restarted server takes its pods back by label (their agents register again) and deletes orphan pods. */
class KubernetesRestartTest {
  static final String NAMESPACE = "hodei-restart";
  static final String POOL = "k8s-restart";

  @TempDir
  Path work;

  @Test
  void aRestartedServerAdoptsItsWorkersPodsAndDeletesOrphans() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    // a short shutdown: the agents keep their connections open, and the test restarts within their grace
    Map<String, Object> config = Map.of(ConfigSchema.SERVER_PORT, port, ConfigSchema.SERVER_SHUTDOWN_TIMEOUT, 1);
    Path data = work.resolve("db");
    TestServer server = TestServer.startPersistent(data, config);
    try (MockCluster cluster = new MockCluster();
         Kubelet kubelet = new Kubelet(cluster.client, NAMESPACE,
             (pod, env) -> InJvmAgent.start(env, work.resolve(pod)))) {
      kubelet.accepts = pod -> !pod.getMetadata().getName().startsWith("orphan");
      JsonObject body = new JsonObject().put("id", POOL).put("name", POOL).put("kind", "static")
          .put("provider", "kubernetes").put("size", 2).put("worker_cpu_m", 500).put("worker_memory_mb", 256)
          .put("provider_config", new JsonObject().put("namespace", NAMESPACE).put("master_url", cluster.url())
              .put("server", "127.0.0.1:" + port).put("register_timeout_seconds", 60));
      assertThat(server.admin(HttpMethod.POST, "/api/v1/pools", body).status()).isEqualTo(201);
      awaitIdleWorkers(server, 2);
      Set<String> pods = podNames(cluster);
      Set<String> workers = workerIds(server);
      assertThat(pods).hasSize(2);
      // a third worker whose pod gets no agent before the restart: still provisioning when the server stops
      kubelet.accepts = pod -> pods.contains(pod.getMetadata().getName());
      assertThat(server.admin(HttpMethod.PUT, "/api/v1/pools/" + POOL + "/static", new JsonObject().put("size", 3))
          .status()).isEqualTo(200);
      String pendingPod = Poll.until(() -> podNames(cluster), names -> names.size() == 3, Duration.ofSeconds(30),
          "a third pod").stream().filter(name -> !pods.contains(name)).findFirst().orElseThrow();
      String tokenId = cluster.client.secrets().inNamespace(NAMESPACE).withName(AgentPods.secretName(POOL)).get()
          .getMetadata().getAnnotations().get(AgentPods.TOKEN_ID_ANNOTATION);

      server.close();
      assertThat(podNames(cluster)).as("pods outlive the server").contains(pendingPod).containsAll(pods);
      // while the server is away, a pod of the pool appears that no worker owns
      Pod orphan = new PodBuilder().withNewMetadata().withName("orphan-pod").withNamespace(NAMESPACE)
          .addToLabels(AgentPods.POOL_LABEL, POOL).addToLabels(AgentPods.WORKER_LABEL, "w-nobody").endMetadata()
          .withNewSpec().addNewContainer().withName("agent").withImage("hodei-pools").endContainer().endSpec().build();
      cluster.client.pods().inNamespace(NAMESPACE).resource(orphan).create();

      server = TestServer.startPersistent(data, config);
      TestServer restarted = server;
      Poll.until(() -> podNames(cluster), names -> !names.contains("orphan-pod") && !names.contains(pendingPod),
          Duration.ofSeconds(30), "the orphan pod and the pod of the worker that was provisioning deleted");
      awaitIdleWorkers(restarted, 2);
      assertThat(workerIds(restarted)).as("the ready workers, adopted").containsAll(workers);
      assertThat(podNames(cluster)).as("their pods kept, not made again").containsAll(pods);
      assertThat(cluster.client.secrets().inNamespace(NAMESPACE).withName(AgentPods.secretName(POOL)).get()
          .getMetadata().getAnnotations().get(AgentPods.TOKEN_ID_ANNOTATION)).as("the token Secret is kept")
          .isEqualTo(tokenId);
      // both adopted workers take jobs once their agents are back (a job offered earlier is put back, not failed)
      io.hodei.support.Fixtures fixtures = new io.hodei.support.Fixtures(restarted);
      String submitter = fixtures.tenant("t-restart", new JsonObject().put("cpu_m", 10_000).put("memory_mb", 10_000)
          .put("max_concurrent_jobs", 10).put("max_queued_jobs", 100), 1, "submitter");
      java.util.List<String> jobs = new java.util.ArrayList<>();
      for (int i = 0; i < 2; i++) {
        jobs.add(fixtures.submitted(submitter, new JsonObject().put("pool_id", POOL).put("cpu_m", 100)
            .put("memory_mb", 64).put("max_attempts", 1)
            .put("command", new io.vertx.core.json.JsonArray().add("sh").add("-c").add("sleep 2; echo ran"))));
      }
      Set<String> ranOn = new java.util.HashSet<>();
      for (String job : jobs) {
        JsonObject ended = Poll.until(() -> fixtures.job(submitter, job), j -> List.of("succeeded", "failed")
            .contains(j.getString("state")), Duration.ofSeconds(60), "job " + job);
        assertThat(ended.getString("state")).as(ended.encode()).isEqualTo("succeeded");
        assertThat(ended.getInteger("attempts")).isEqualTo(1);
        ranOn.add(ended.getString("worker_id"));
      }
      assertThat(ranOn).isSubsetOf(workers);
    } finally {
      server.close();
    }
  }

  private static Set<String> podNames(MockCluster cluster) {
    return cluster.client.pods().inNamespace(NAMESPACE).withLabel(AgentPods.POOL_LABEL, POOL).list().getItems()
        .stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
  }

  private static Set<String> workerIds(TestServer server) {
    return server.get("/api/v1/pools/" + POOL + "/workers", TestServer.ADMIN_TOKEN).json().getJsonArray("items")
        .stream().map(w -> ((JsonObject) w).getString("id")).collect(Collectors.toSet());
  }

  private static void awaitIdleWorkers(TestServer server, int n) {
    Poll.until(() -> server.get("/api/v1/pools/" + POOL, TestServer.ADMIN_TOKEN).json(),
        p -> p.getJsonObject("workers").getInteger("idle", 0) >= n, Duration.ofSeconds(60), n + " idle workers");
  }
}
