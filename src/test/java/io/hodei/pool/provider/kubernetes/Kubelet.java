package io.hodei.pool.provider.kubernetes;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Plays the kubelet for tests on the Kubernetes mock server: when a pod appears in the namespace it starts the pod's
 * agent with the pod's environment (a {@code secretKeyRef} resolved from the mock's Secret, as the kubelet does)
 * and marks the pod Running; when the pod is deleted, its agent is stopped. Pods it does not {@link #accepts accept}
 * stay Pending with no agent.
 */
public final class Kubelet implements AutoCloseable {
  /** Starts the agent of a pod; closing the result stops it. */
  public interface Launcher {
    AutoCloseable launch(String podName, Map<String, String> env) throws Exception;
  }

  private final KubernetesClient client;
  private final String namespace;
  private final Launcher launcher;
  private final Map<String, AutoCloseable> running = new ConcurrentHashMap<>();
  private final Map<String, Map<String, String>> environments = new ConcurrentHashMap<>();
  // one thread: pods start and stop in the order their events arrive
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-kubelet"));
  private final Watch watch;
  volatile Predicate<Pod> accepts = pod -> true;

  public Kubelet(KubernetesClient client, String namespace, Launcher launcher) {
    this.client = client;
    this.namespace = namespace;
    this.launcher = launcher;
    this.watch = client.pods().inNamespace(namespace).watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, Pod pod) {
        String name = pod.getMetadata().getName();
        switch (action) {
          case ADDED -> executor.execute(() -> start(pod));
          case DELETED -> executor.execute(() -> stop(name));
          default -> { }
        }
      }

      @Override
      public void onClose(WatcherException cause) { }
    });
  }

  /** The environment the agent of {@code podName} was started with (null until it started). */
  Map<String, String> environment(String podName) { return environments.get(podName); }

  /** How many pods have a running agent. */
  public int running() { return running.size(); }

  /** The pod fails as an eviction does: its agent is killed and its phase becomes Failed. */
  void evict(String podName) {
    executor.execute(() -> {
      stop(podName);
      client.pods().inNamespace(namespace).withName(podName).editStatus(p -> {
        p.getStatus().setPhase("Failed");
        p.getStatus().setReason("Evicted");
        p.getStatus().setMessage("The node was low on resource: memory.");
        return p;
      });
    });
  }

  private void start(Pod pod) {
    String name = pod.getMetadata().getName();
    if (!accepts.test(pod) || running.containsKey(name)) return;
    try {
      Map<String, String> env = environment(pod);
      environments.put(name, env);
      running.put(name, launcher.launch(name, env));
      client.pods().inNamespace(namespace).withName(name).editStatus(p -> {
        if (p.getStatus() == null) p.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
        p.getStatus().setPhase("Running");
        return p;
      });
    } catch (Exception e) {
      throw new IllegalStateException("the test kubelet could not start pod " + name, e);
    }
  }

  private Map<String, String> environment(Pod pod) {
    Map<String, String> env = new LinkedHashMap<>();
    List<EnvVar> vars = pod.getSpec().getContainers().get(0).getEnv();
    for (EnvVar var : vars) {
      if (var.getValueFrom() != null && var.getValueFrom().getSecretKeyRef() != null) {
        var ref = var.getValueFrom().getSecretKeyRef();
        Secret secret = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
        String value = secret.getData() != null && secret.getData().containsKey(ref.getKey())
            ? new String(Base64.getDecoder().decode(secret.getData().get(ref.getKey())), StandardCharsets.UTF_8)
            : secret.getStringData().get(ref.getKey());
        env.put(var.getName(), value);
      } else {
        env.put(var.getName(), var.getValue());
      }
    }
    return env;
  }

  private void stop(String name) {
    AutoCloseable agent = running.remove(name);
    if (agent == null) return;
    try {
      agent.close();
    } catch (Exception e) {
      throw new IllegalStateException("the test kubelet could not stop pod " + name, e);
    }
  }

  @Override
  public void close() throws Exception {
    watch.close();
    executor.shutdown();
    executor.awaitTermination(30, TimeUnit.SECONDS);
    for (String name : List.copyOf(running.keySet())) stop(name);
  }
}
