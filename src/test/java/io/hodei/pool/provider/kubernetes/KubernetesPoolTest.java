package io.hodei.pool.provider.kubernetes;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.hodei.agent.InJvmAgent;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kubernetes pools over the public API, against the fabric8 mock API server in CRUD mode: a test kubelet starts each
 * pod's agent (the real agent code, in this JVM) with the pod's environment, so workers register over the real
 * gRPC stream and run real processes.
 */
class KubernetesPoolTest {
  static final String NAMESPACE = "hodei-test";

  @TempDir
  static Path work;
  static TestServer server;
  static Fixtures fixtures;
  static MockCluster cluster;
  static Kubelet kubelet;
  static String submitter;

  @BeforeAll
  static void start() {
    cluster = new MockCluster();
    server = TestServer.start(Map.of());
    fixtures = new Fixtures(server);
    submitter = fixtures.tenant("t-k8s", new JsonObject().put("cpu_m", 100_000).put("memory_mb", 1_000_000)
        .put("max_concurrent_jobs", 100).put("max_queued_jobs", 1000), 1, "submitter");
    kubelet = new Kubelet(cluster.client, NAMESPACE, (pod, env) -> InJvmAgent.start(env, work.resolve(pod)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (kubelet != null) kubelet.close();
    if (server != null) server.close();
    if (cluster != null) cluster.close();
  }

  static JsonObject providerConfig() {
    return new JsonObject().put("namespace", NAMESPACE).put("master_url", cluster.url())
        .put("server", "127.0.0.1:" + server.port());
  }

  static JsonObject staticPool(String id, int size) {
    return new JsonObject().put("id", id).put("name", id).put("kind", "static").put("provider", "kubernetes")
        .put("size", size).put("worker_cpu_m", 500).put("worker_memory_mb", 768).put("provider_config", providerConfig());
  }

  static List<Pod> pods(String poolId) {
    return cluster.client.pods().inNamespace(NAMESPACE).withLabel(AgentPods.POOL_LABEL, poolId).list().getItems();
  }

  static Set<String> podNames(String poolId) {
    return pods(poolId).stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
  }

  static JsonObject pool(String id) { return server.get("/api/v1/pools/" + id, TestServer.ADMIN_TOKEN).json(); }

  static JsonObject awaitIdle(String id, int n) {
    return Poll.until(() -> pool(id), p -> p.getJsonObject("workers").getInteger("idle", 0) >= n,
        Duration.ofSeconds(60), n + " idle workers in " + id);
  }

  static List<JsonObject> workers(String poolId) {
    JsonArray items = server.get("/api/v1/pools/" + poolId + "/workers", TestServer.ADMIN_TOKEN).json()
        .getJsonArray("items");
    return items.stream().map(JsonObject.class::cast).toList();
  }

  static String submit(String poolId, int maxAttempts, String... argv) {
    return fixtures.submitted(submitter, new JsonObject().put("pool_id", poolId).put("command", new JsonArray(List.of(argv)))
        .put("cpu_m", 100).put("memory_mb", 64).put("max_attempts", maxAttempts).put("timeout_s", 300));
  }

  static JsonObject awaitEnded(String jobId) {
    return Poll.until(() -> fixtures.job(submitter, jobId), j -> List.of("succeeded", "failed", "cancelled",
        "timed_out", "abandoned").contains(j.getString("state")), Duration.ofSeconds(90), "job " + jobId + " to end");
  }

  static String lastLog(String jobId) {
    JsonArray attempts = server.get("/api/v1/jobs/" + jobId + "/logs", submitter).json().getJsonArray("attempts");
    return attempts.isEmpty() ? null : attempts.getJsonObject(attempts.size() - 1).getString("log");
  }

  @Test
  void aBadProviderConfigIsRefusedWithEveryProblem() {
    JsonObject body = staticPool("k8s-bad", 1);
    body.getJsonObject("provider_config").put("namespace", "Not_A_Namespace").put("register_timeout_seconds", 1)
        .put("tolerations", new JsonArray().add(new JsonObject().put("effect", "Sometimes")))
        .put("node_selector", new JsonObject().put("disk", 3)).put("no_such_key", true);
    Response r = server.admin(HttpMethod.POST, "/api/v1/pools", body);
    assertThat(r.status()).as(r.toString()).isEqualTo(422);
    assertThat(r.body()).contains("namespace", "register_timeout_seconds", "tolerations[0].effect",
        "node_selector.disk", "no_such_key");
    JsonObject noServer = staticPool("k8s-bad", 1);
    noServer.getJsonObject("provider_config").remove("server");
    Response missing = server.admin(HttpMethod.POST, "/api/v1/pools", noServer);
    assertThat(missing.status()).as(missing.toString()).isEqualTo(422);
    assertThat(missing.body()).contains("server");
  }

  @Test
  void eachWorkerIsAPodRunningThePoolsAgentWithItsTokenFromASecret() {
    JsonObject body = staticPool("k8s-spec", 2);
    body.getJsonObject("provider_config").put("node_selector", new JsonObject().put("disktype", "ssd"))
        .put("tolerations", new JsonArray().add(new JsonObject().put("key", "dedicated").put("operator", "Equal")
            .put("value", "hodei").put("effect", "NoSchedule")));
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools", body).status()).isEqualTo(201);
    awaitIdle("k8s-spec", 2);

    List<Pod> pods = pods("k8s-spec");
    assertThat(pods).hasSize(2);
    Set<String> workerIds = workers("k8s-spec").stream().map(w -> w.getString("id")).collect(Collectors.toSet());
    Secret secret = cluster.client.secrets().inNamespace(NAMESPACE).withName("hodei-agent-token-k8s-spec").get();
    assertThat(secret).as("the pool's token Secret").isNotNull();
    String tokenId = secret.getMetadata().getAnnotations().get(AgentPods.TOKEN_ID_ANNOTATION);
    JsonArray tokens = server.get("/api/v1/pools/k8s-spec/agent-tokens", TestServer.ADMIN_TOKEN).json()
        .getJsonArray("items");
    assertThat(tokens.stream().map(JsonObject.class::cast).filter(t -> t.getString("id").equals(tokenId)
        && t.getValue("revoked_at") == null)).as("the Secret's token is an active agent token of the pool").hasSize(1);
    for (Pod pod : pods) {
      String workerId = pod.getMetadata().getLabels().get(AgentPods.WORKER_LABEL);
      assertThat(workerIds).contains(workerId);
      assertThat(pod.getMetadata().getLabels()).containsEntry(AgentPods.POOL_LABEL, "k8s-spec");
      assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
      assertThat(pod.getSpec().getNodeSelector()).containsExactly(Map.entry("disktype", "ssd"));
      assertThat(pod.getSpec().getTolerations()).singleElement().satisfies(t -> {
        assertThat(t.getKey()).isEqualTo("dedicated");
        assertThat(t.getOperator()).isEqualTo("Equal");
        assertThat(t.getValue()).isEqualTo("hodei");
        assertThat(t.getEffect()).isEqualTo("NoSchedule");
      });
      Container agent = pod.getSpec().getContainers().get(0);
      assertThat(agent.getImage()).isEqualTo(KubernetesProviderFactory.DEFAULT_IMAGE);
      assertThat(agent.getArgs()).containsExactly("agent");
      assertThat(agent.getResources().getRequests().get("cpu").toString()).isEqualTo("500m");
      assertThat(agent.getResources().getLimits().get("memory").toString()).isEqualTo("768Mi");
      Map<String, EnvVar> env = agent.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
      assertThat(env.get("HODEI_AGENT_ID").getValue()).isEqualTo(workerId);
      assertThat(env.get("HODEI_AGENT_POOL").getValue()).isEqualTo("k8s-spec");
      assertThat(env.get("HODEI_AGENT_SLOTS").getValue()).isEqualTo("1");
      assertThat(env.get("HODEI_AGENT_SERVER").getValue()).isEqualTo("127.0.0.1:" + server.port());
      EnvVar token = env.get("HODEI_AGENT_TOKEN");
      assertThat(token.getValue()).as("the token is never in the pod spec in clear").isNull();
      assertThat(token.getValueFrom().getSecretKeyRef().getName()).isEqualTo("hodei-agent-token-k8s-spec");
      String secretValue = kubelet.environment(pod.getMetadata().getName()).get("HODEI_AGENT_TOKEN");
      assertThat(secretValue).isNotBlank();
      assertThat(pod.toString()).doesNotContain(secretValue);
    }

    String job = submit("k8s-spec", 1, "echo", "hello from a pod");
    JsonObject ended = awaitEnded(job);
    assertThat(ended.getString("state")).as(ended.encode()).isEqualTo("succeeded");
    assertThat(workerIds).contains(ended.getString("worker_id"));
    assertThat(lastLog(job)).contains("hello from a pod");

    Response resized = server.admin(HttpMethod.PUT, "/api/v1/pools/k8s-spec/static", new JsonObject().put("size", 0));
    assertThat(resized.status()).as(resized.toString()).isEqualTo(200);
    Poll.until(() -> pods("k8s-spec"), List::isEmpty, Duration.ofSeconds(30), "the pods deleted");
    Poll.until(() -> kubelet.running(), n -> podNames("k8s-spec").isEmpty(), Duration.ofSeconds(5), "no pod");
    assertThat(workers("k8s-spec")).isEmpty();

    // a deleted pool takes its agent token and the Secret holding it along
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools/k8s-spec/lifecycle", new JsonObject().put("action", "stop"))
        .status()).isEqualTo(200);
    Response deleted = server.admin(HttpMethod.DELETE, "/api/v1/pools/k8s-spec", null);
    assertThat(deleted.status()).as(deleted.toString()).isEqualTo(204);
    Poll.until(() -> cluster.client.secrets().inNamespace(NAMESPACE).withName("hodei-agent-token-k8s-spec").get(),
        java.util.Objects::isNull, Duration.ofSeconds(30), "the token Secret deleted with the pool");
  }

  @Test
  void aWorkerIsIdleOnlyWhenItsAgentRegistersAndAnAgentThatNeverDoesIsAFailedProvisioning() {
    kubelet.accepts = pod -> !"k8s-slow".equals(pod.getMetadata().getLabels().get(AgentPods.POOL_LABEL));
    try {
      JsonObject body = staticPool("k8s-slow", 1);
      body.getJsonObject("provider_config").put("register_timeout_seconds", 5);
      assertThat(server.admin(HttpMethod.POST, "/api/v1/pools", body).status()).isEqualTo(201);
      Set<String> first = Poll.until(() -> podNames("k8s-slow"), s -> s.size() == 1, Duration.ofSeconds(30),
          "the first pod");
      assertThat(workers("k8s-slow")).singleElement()
          .satisfies(w -> assertThat(w.getString("state")).as("no agent yet").isEqualTo("provisioning"));
      // the agent never registers: the pod is deleted and, after the pool's back-off, another one is made
      Poll.until(() -> podNames("k8s-slow"), s -> !s.isEmpty() && !s.containsAll(first), Duration.ofSeconds(60),
          "the pod of a failed provisioning replaced");
      assertThat(pool("k8s-slow").getJsonObject("workers").getInteger("idle", 0)).isZero();
    } finally {
      kubelet.accepts = pod -> true;
    }
    // pods made from now on start their agent
    awaitIdle("k8s-slow", 1);
  }

  @Test
  void aPodDeletedFromOutsideLosesItsWorkerAndItsJobIsRetriedOnAnotherPod() throws Exception {
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools", staticPool("k8s-lost", 1)).status()).isEqualTo(201);
    awaitIdle("k8s-lost", 1);
    Path marker = work.resolve("lost-marker");
    String job = submit("k8s-lost", 2, "sh", "-c",
        "if [ -e " + marker + " ]; then echo second attempt; else touch " + marker + "; sleep 120; fi");
    JsonObject running = Poll.until(() -> fixtures.job(submitter, job), j -> "running".equals(j.getString("state"))
        && Files.exists(marker), Duration.ofSeconds(60), "the first attempt running");
    String firstWorker = running.getString("worker_id");
    String firstPod = AgentPods.podName(firstWorker);
    assertThat(podNames("k8s-lost")).containsExactly(firstPod);

    cluster.client.pods().inNamespace(NAMESPACE).withName(firstPod).delete();

    JsonObject ended = awaitEnded(job);
    assertThat(ended.getString("state")).as(ended.encode()).isEqualTo("succeeded");
    assertThat(ended.getInteger("attempts")).isEqualTo(2);
    assertThat(ended.getString("worker_id")).isNotEqualTo(firstWorker);
    assertThat(lastLog(job)).contains("second attempt");
    assertThat(podNames("k8s-lost")).doesNotContain(firstPod).hasSize(1);
  }

  @Test
  void anEvictedPodLosesItsWorkerAndThePoolReplacesIt() {
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools", staticPool("k8s-evict", 1)).status()).isEqualTo(201);
    awaitIdle("k8s-evict", 1);
    String pod = podNames("k8s-evict").iterator().next();
    kubelet.evict(pod);
    Poll.until(() -> podNames("k8s-evict"), s -> s.size() == 1 && !s.contains(pod), Duration.ofSeconds(60),
        "the evicted pod deleted and replaced");
    awaitIdle("k8s-evict", 1);
    assertThat(workers("k8s-evict")).singleElement()
        .satisfies(w -> assertThat(AgentPods.podName(w.getString("id"))).isNotEqualTo(pod));
  }

  @Test
  void aDynamicPoolScalesThroughPodsAndScaleInKeepsTheBusyAgent() throws Exception {
    JsonObject body = new JsonObject().put("id", "k8s-dyn").put("name", "k8s-dyn").put("kind", "dynamic")
        .put("provider", "kubernetes").put("min_size", 0).put("max_size", 4).put("target_size", 0)
        .put("auto_scaling_enabled", false).put("worker_cpu_m", 500).put("worker_memory_mb", 256)
        .put("provider_config", providerConfig());
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools", body).status()).isEqualTo(201);
    assertThat(podNames("k8s-dyn")).isEmpty();
    Response out = server.admin(HttpMethod.PUT, "/api/v1/pools/k8s-dyn/dynamic", new JsonObject().put("min_size", 0)
        .put("max_size", 4).put("target_size", 3));
    assertThat(out.status()).as(out.toString()).isEqualTo(200);
    awaitIdle("k8s-dyn", 3);
    assertThat(podNames("k8s-dyn")).hasSize(3);

    Path marker = work.resolve("dyn-release");
    String job = submit("k8s-dyn", 1, "sh", "-c", "while [ ! -e " + marker + " ]; do sleep 0.2; done; echo done");
    String busyWorker = Poll.until(() -> fixtures.job(submitter, job), j -> "running".equals(j.getString("state")),
        Duration.ofSeconds(60), "the job running").getString("worker_id");
    Response in = server.admin(HttpMethod.PUT, "/api/v1/pools/k8s-dyn/dynamic", new JsonObject().put("min_size", 0)
        .put("max_size", 4).put("target_size", 1));
    assertThat(in.status()).as(in.toString()).isEqualTo(200);
    Poll.until(() -> podNames("k8s-dyn"), s -> s.size() == 1, Duration.ofSeconds(30), "the idle pods deleted");
    assertThat(podNames("k8s-dyn")).as("scale-in removes the idle agents, not the busy one")
        .containsExactly(AgentPods.podName(busyWorker));
    Files.createFile(marker);
    JsonObject ended = awaitEnded(job);
    assertThat(ended.getString("state")).as(ended.encode()).isEqualTo("succeeded");
    assertThat(ended.getInteger("attempts")).isEqualTo(1);
  }
}
