package io.hodei.pool.provider.kubernetes;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.hodei.pool.provider.WorkerProvider.WorkerSpec;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the Kubernetes provider asks the API server for: one pod per worker running the Hodei agent (one slot, the
 * worker's id as agent id, the pool's agent token from a Secret), and that Secret. Names and labels here are the
 * contract with the cluster: pods are found again by {@link #POOL_LABEL} and {@link #WORKER_LABEL}.
 */
final class AgentPods {
  static final String POOL_LABEL = "hodei.io/pool";
  static final String WORKER_LABEL = "hodei.io/worker";
  static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  static final String MANAGED_BY = "hodei-pools";
  /** The Secret's annotation naming the agent token it holds (its id, never the secret). */
  static final String TOKEN_ID_ANNOTATION = "hodei.io/agent-token-id";
  static final String TOKEN_KEY = "token";
  static final String CONTAINER = "agent";

  private AgentPods() {}

  static String podName(String workerId) { return "hodei-" + workerId.toLowerCase(java.util.Locale.ROOT); }

  static String secretName(String poolId) { return "hodei-agent-token-" + poolId; }

  /** The pod of one worker: the agent of the worker's pool with one slot of the worker's shape. */
  static Pod pod(WorkerSpec spec, KubernetesConfig config) {
    Map<String, Quantity> resources = new java.util.LinkedHashMap<>();
    if (spec.cpuM() > 0) resources.put("cpu", new Quantity(spec.cpuM() + "m"));
    if (spec.memoryMb() > 0) resources.put("memory", new Quantity(spec.memoryMb() + "Mi"));
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar("HODEI_AGENT_SERVER", config.server(), null));
    env.add(new EnvVar("HODEI_AGENT_POOL", spec.poolId(), null));
    env.add(new EnvVar("HODEI_AGENT_ID", spec.workerId(), null));
    env.add(new EnvVar("HODEI_AGENT_SLOTS", "1", null));
    env.add(new EnvVar("HODEI_AGENT_CPU_M", String.valueOf(spec.cpuM()), null));
    env.add(new EnvVar("HODEI_AGENT_MEMORY_MB", String.valueOf(spec.memoryMb()), null));
    env.add(new EnvVarBuilder().withName("HODEI_AGENT_TOKEN").withNewValueFrom().withNewSecretKeyRef()
        .withName(secretName(spec.poolId())).withKey(TOKEN_KEY).endSecretKeyRef().endValueFrom().build());
    return new PodBuilder()
        .withNewMetadata()
          .withName(podName(spec.workerId()))
          .withNamespace(config.namespace())
          .addToLabels(POOL_LABEL, spec.poolId())
          .addToLabels(WORKER_LABEL, spec.workerId())
          .addToLabels(MANAGED_BY_LABEL, MANAGED_BY)
        .endMetadata()
        .withNewSpec()
          // a failed agent is a lost worker, replaced by the pool: the kubelet does not restart it in place
          .withRestartPolicy("Never")
          // the agent needs no access to the Kubernetes API
          .withAutomountServiceAccountToken(false)
          .withServiceAccountName(config.serviceAccount())
          .withNodeSelector(config.nodeSelector().isEmpty() ? null : config.nodeSelector())
          .withTolerations(tolerations(config.tolerations()))
          .addNewContainer()
            .withName(CONTAINER)
            .withImage(config.image())
            .withImagePullPolicy(config.imagePullPolicy())
            .withArgs("agent")
            .withEnv(env)
            .withNewResources().withRequests(resources).withLimits(resources).endResources()
          .endContainer()
        .endSpec()
        .build();
  }

  /** The Secret holding the pool's agent token; pods read it through {@code secretKeyRef}. */
  static Secret secret(String poolId, String namespace, String tokenId, String token) {
    return new SecretBuilder()
        .withNewMetadata()
          .withName(secretName(poolId))
          .withNamespace(namespace)
          .addToLabels(POOL_LABEL, poolId)
          .addToLabels(MANAGED_BY_LABEL, MANAGED_BY)
          .addToAnnotations(TOKEN_ID_ANNOTATION, tokenId)
        .endMetadata()
        .withType("Opaque")
        .addToStringData(TOKEN_KEY, token)
        .build();
  }

  private static List<Toleration> tolerations(List<JsonObject> tolerations) {
    List<Toleration> result = new ArrayList<>();
    for (JsonObject t : tolerations) {
      Object seconds = t.getValue("toleration_seconds");
      result.add(new TolerationBuilder().withKey(t.getString("key")).withOperator(t.getString("operator"))
          .withValue(t.getString("value")).withEffect(t.getString("effect"))
          .withTolerationSeconds(seconds == null ? null : ((Number) seconds).longValue()).build());
    }
    return result;
  }

  /** Why a pod no longer runs its agent, or null while it does (or may still start). */
  static String gone(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null) return "pod " + pod.getMetadata().getName() + " is being deleted";
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (!"Failed".equals(phase) && !"Succeeded".equals(phase)) return null;
    String reason = pod.getStatus().getReason();
    String message = pod.getStatus().getMessage();
    return "pod " + pod.getMetadata().getName() + " " + phase.toLowerCase(java.util.Locale.ROOT)
        + (reason == null ? "" : " (" + reason + (message == null ? "" : ": " + message) + ")");
  }
}
