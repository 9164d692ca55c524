package io.hodei.bench;

import io.fabric8.mockwebserver.http.RecordedRequest;
import io.hodei.agent.InJvmAgent;
import io.hodei.pool.provider.kubernetes.Kubelet;
import io.hodei.pool.provider.kubernetes.MockCluster;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Scale-out of a Kubernetes pool from 0 to N pods and back, on the fabric8 mock API server (CRUD mode) with a test
 * kubelet that starts the real agent code of every pod in this JVM (one shared Vert.x). Measures the time from the
 * target change to the first and to all N workers ready (agents registered), back to none, and counts the
 * Kubernetes API calls the server made in each phase.
 *   bash bench/kubernetes-bench.sh [--pods 100]
 */
public final class KubernetesBench {
  static final String POOL = "bench-k8s";
  static final String NAMESPACE = "bench";
  static final String ADMIN = TestServer.ADMIN_TOKEN;

  public static void main(String[] args) throws Exception {
    int pods = 100;
    for (int i = 0; i < args.length - 1; i++) if (args[i].equals("--pods")) pods = Integer.parseInt(args[i + 1]);
    Path work = Files.createTempDirectory("hodei-k8s-bench");
    Vertx agents = Vertx.vertx();
    JsonObject result = new JsonObject().put("pods", pods).put("load_average_before", loadAverage());
    try (MockCluster cluster = new MockCluster();
         TestServer server = TestServer.start(Map.of());
         Kubelet kubelet = new Kubelet(cluster.client, NAMESPACE,
             (pod, env) -> InJvmAgent.start(agents, env, work.resolve(pod)))) {
      JsonObject body = new JsonObject().put("id", POOL).put("name", POOL).put("kind", "dynamic")
          .put("provider", "kubernetes").put("min_size", 0).put("max_size", pods).put("target_size", 0)
          .put("auto_scaling_enabled", false).put("worker_cpu_m", 100).put("worker_memory_mb", 128)
          .put("provider_config", new JsonObject().put("namespace", NAMESPACE).put("master_url", cluster.url())
              .put("server", "127.0.0.1:" + server.port()).put("register_timeout_seconds", 600));
      check(server.admin(HttpMethod.POST, "/api/v1/pools", body).status(), 201);
      drain(cluster);

      long out = System.nanoTime();
      check(server.admin(HttpMethod.PUT, "/api/v1/pools/" + POOL + "/dynamic", bounds(pods, pods)).status(), 200);
      double firstReady = -1;
      while (true) {
        int idle = server.get("/api/v1/pools/" + POOL, ADMIN).json().getJsonObject("workers").getInteger("idle", 0);
        if (firstReady < 0 && idle > 0) firstReady = BenchSupport.seconds(out);
        if (idle >= pods) break;
        BenchSupport.sleep(100);
      }
      result.put("scale_out", new JsonObject().put("first_worker_ready_s", firstReady)
          .put("all_workers_ready_s", BenchSupport.seconds(out)).put("api_calls", drain(cluster)));

      long in = System.nanoTime();
      check(server.admin(HttpMethod.PUT, "/api/v1/pools/" + POOL + "/dynamic", bounds(pods, 0)).status(), 200);
      while (server.get("/api/v1/pools/" + POOL, ADMIN).json().getJsonObject("workers").getInteger("total", 1) > 0
          || kubelet.running() > 0) {
        BenchSupport.sleep(100);
      }
      result.put("scale_in", new JsonObject().put("pods_gone_s", BenchSupport.seconds(in))
          .put("api_calls", drain(cluster)));
    } finally {
      agents.close().await();
    }
    result.put("load_average_after", loadAverage());
    System.out.println(result.encodePrettily());
    BenchSupport.writeResults("bench/results", "kubernetes", result);
    System.exit(0);
  }

  private static String loadAverage() throws java.io.IOException {
    String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return fields[0] + " " + fields[1] + " " + fields[2];
  }

  private static JsonObject bounds(int max, int target) {
    return new JsonObject().put("min_size", 0).put("max_size", max).put("target_size", target);
  }

  private static void check(int status, int expected) {
    if (status != expected) throw new IllegalStateException("HTTP " + status + ", expected " + expected);
  }

  /**
   * The server's API calls the mock recorded since the last drain (the test kubelet's are left out), by method and
   * resource (watch requests apart).
   */
  private static JsonObject drain(MockCluster cluster) throws InterruptedException {
    Map<String, Integer> counts = new TreeMap<>();
    RecordedRequest request;
    while ((request = cluster.server.takeRequest(200, TimeUnit.MILLISECONDS)) != null) {
      if (MockCluster.TEST_USER_AGENT.equals(request.getHeaders().get("User-Agent"))) continue;
      String path = request.getPath();
      String resource = path.contains("/pods") ? "pods" : path.contains("/secrets") ? "secrets" : "other";
      String key = request.getMethod() + " " + resource + (path.contains("watch=true") ? " (watch)" : "");
      counts.merge(key, 1, Integer::sum);
    }
    JsonObject json = new JsonObject();
    counts.forEach(json::put);
    return json;
  }
}
