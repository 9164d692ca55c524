package io.hodei.bench;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Replays a bursty workload (bursts of jobs separated by idle gaps) on an autoscaled dynamic pool (min 1, max peak,
 * queue_depth_per_worker policy) and, at the same time, on a static pool of the peak size; reports scale-out
 * reaction time (burst to decision, burst to capacity ready), idle worker-seconds (sampled every 250 ms) and the
 * jobs' queue wait p50/p95. Not part of {@code mvn verify}: run bench/scaling-bench.sh.
 */
public final class ScalingBench {
  private static final String ADMIN = TestServer.ADMIN_TOKEN;

  public static void main(String[] args) throws Exception {
    Map<String, Integer> opt = new HashMap<>(Map.of("peak", 8, "bursts", 3, "burst-jobs", 24, "job-ms", 2000,
        "gap-s", 20, "provision-ms", 2000));
    for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i].replaceFirst("^--", ""), Integer.parseInt(args[i + 1]));
    try (TestServer server = TestServer.start(Map.of(ConfigSchema.SCALING_INTERVAL, 1,
        ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.METRICS_INTERVAL, 1))) {
      new ScalingBench().run(server, opt);
    }
    System.exit(0);
  }

  private void run(TestServer server, Map<String, Integer> opt) throws Exception {
    Fixtures fixtures = new Fixtures(server);
    String token = fixtures.tenant("bench", new JsonObject().put("cpu_m", 10_000_000).put("memory_mb", 100_000_000)
        .put("max_concurrent_jobs", 100_000).put("max_queued_jobs", 100_000), 1, "submitter");
    int peak = opt.get("peak");
    JsonObject provider = new JsonObject().put("provision_delay_ms", opt.get("provision-ms"));
    fixtures.pool(new JsonObject().put("id", "bench-dynamic").put("kind", "dynamic").put("provider", "simulated")
        .put("min_size", 1).put("max_size", peak).put("target_size", 1).put("auto_scaling_enabled", true)
        .put("worker_cpu_m", 1000).put("worker_memory_mb", 1024).put("provider_config", provider), 1);
    fixtures.pool(new JsonObject().put("id", "bench-fixed").put("kind", "static").put("provider", "simulated")
        .put("size", peak).put("worker_cpu_m", 1000).put("worker_memory_mb", 1024).put("provider_config", provider),
        peak);
    server.admin(HttpMethod.PUT, "/api/v1/pools/bench-dynamic/scaling/cooldown", new JsonObject()
        .put("scale_out_cooldown_s", 5).put("scale_in_cooldown_s", 10).put("scale_in_stabilisation_s", 15));
    server.admin(HttpMethod.POST, "/api/v1/pools/bench-dynamic/scaling/policies", new JsonObject()
        .put("type", "queue_depth_per_worker").put("target", 1).put("max_step", peak));

    String[] pools = {"bench-dynamic", "bench-fixed"};
    Map<String, List<String>> jobs = Map.of(pools[0], new ArrayList<>(), pools[1], new ArrayList<>());
    Map<String, double[]> idle = Map.of(pools[0], new double[2], pools[1], new double[2]);
    List<Instant> burstAt = new ArrayList<>();
    Instant start = Instant.now();
    Instant end = start;
    Instant lastSample = Instant.now();
    for (int b = 0; b < opt.get("bursts"); b++) {
      burstAt.add(Instant.now());
      for (int j = 0; j < opt.get("burst-jobs"); j++) {
        for (String pool : pools) {
          jobs.get(pool).add(fixtures.submitted(token, Fixtures.spec(pool, "sim").put("payload",
              new JsonObject().put("duration_ms", opt.get("job-ms")))));
        }
      }
      end = Instant.now().plusSeconds(opt.get("gap-s"));
      while (Instant.now().isBefore(end)) lastSample = sample(server, pools, idle, lastSample);
    }
    // after the last burst: until the jobs are done and the dynamic pool is back at its minimum
    while (!done(server, jobs) || server.get("/api/v1/pools/bench-dynamic", ADMIN).json().getInteger("target_size") > 1) {
      lastSample = sample(server, pools, idle, lastSample);
    }
    Duration wall = Duration.between(start, Instant.now());

    List<JsonObject> ledger = new ArrayList<>();
    server.get("/api/v1/pools/bench-dynamic/scaling/history?limit=500", ADMIN).json().getJsonArray("items")
        .forEach(e -> ledger.add(0, (JsonObject) e));
    List<Double> decisionS = new ArrayList<>();
    List<Double> readyS = new ArrayList<>();
    for (Instant burst : burstAt) {
      ledger.stream().filter(e -> e.getString("direction").equals("scale_out")
          && !Instant.parse(e.getString("at")).isBefore(burst)).findFirst().ifPresent(e -> {
            Instant at = Instant.parse(e.getString("at"));
            decisionS.add(Duration.between(burst, at).toMillis() / 1000.0);
            if (e.getLong("capacity_ready_ms") != null) {
              readyS.add(Duration.between(burst, at).toMillis() / 1000.0 + e.getLong("capacity_ready_ms") / 1000.0);
            }
          });
    }
    JsonObject result = new JsonObject().put("options", new JsonObject(new HashMap<>(opt)))
        .put("wall_s", wall.toMillis() / 1000.0).put("decisions", ledger.size());
    StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%-44s %14s %14s%n", "metric", "autoscaled",
        "fixed (peak " + peak + ")"));
    Map<String, double[]> waits = new HashMap<>();
    for (String pool : pools) waits.put(pool, waits(server, jobs.get(pool)));
    row(table, "scale-out reaction: burst -> decision, mean s", mean(decisionS), Double.NaN);
    row(table, "scale-out reaction: burst -> capacity ready, mean s", mean(readyS), Double.NaN);
    row(table, "idle worker-seconds (wastage)", idle.get(pools[0])[0], idle.get(pools[1])[0]);
    row(table, "provisioned worker-seconds", idle.get(pools[0])[1], idle.get(pools[1])[1]);
    row(table, "queue wait p50 s", waits.get(pools[0])[0], waits.get(pools[1])[0]);
    row(table, "queue wait p95 s", waits.get(pools[0])[1], waits.get(pools[1])[1]);
    row(table, "scaling decisions", ledger.size(), 0);
    for (String pool : pools) {
      result.put(pool, new JsonObject().put("idle_worker_seconds", idle.get(pool)[0])
          .put("provisioned_worker_seconds", idle.get(pool)[1]).put("queue_wait_p50_s", waits.get(pool)[0])
          .put("queue_wait_p95_s", waits.get(pool)[1]));
    }
    result.put("reaction_decision_s", new JsonArray(decisionS)).put("reaction_capacity_ready_s", new JsonArray(readyS));
    System.out.println(table);
    BenchSupport.writeResults("bench/results", "scaling", result);
  }

  /** Adds idle and provisioned worker-seconds since the last sample, then waits a little. */
  private static Instant sample(TestServer server, String[] pools, Map<String, double[]> acc, Instant last)
      throws InterruptedException {
    Instant now = Instant.now();
    double dt = Duration.between(last, now).toMillis() / 1000.0;
    for (String pool : pools) {
      JsonObject workers = server.get("/api/v1/pools/" + pool, ADMIN).json().getJsonObject("workers");
      acc.get(pool)[0] += workers.getInteger("idle") * dt;
      acc.get(pool)[1] += workers.getInteger("total") * dt;
    }
    Thread.sleep(250);
    return now;
  }

  private static boolean done(TestServer server, Map<String, List<String>> jobs) {
    Response r = server.get("/api/v1/jobs?limit=500&state=queued", ADMIN);
    Response running = server.get("/api/v1/jobs?limit=500&state=running", ADMIN);
    return r.json().getJsonArray("items").isEmpty() && running.json().getJsonArray("items").isEmpty();
  }

  private static double[] waits(TestServer server, List<String> ids) {
    List<Double> waits = new ArrayList<>();
    for (String id : ids) {
      JsonObject job = server.get("/api/v1/jobs/" + id, ADMIN).json();
      if (job.getString("started_at") == null) continue;
      waits.add(Duration.between(Instant.parse(job.getString("submitted_at")),
          Instant.parse(job.getString("started_at"))).toMillis() / 1000.0);
    }
    waits.sort(Double::compare);
    return new double[] {percentile(waits, 0.50), percentile(waits, 0.95)};
  }

  private static double percentile(List<Double> sorted, double q) {
    if (sorted.isEmpty()) return Double.NaN;
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }

  private static double mean(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  private static void row(StringBuilder table, String name, double a, double b) {
    table.append(String.format(Locale.ROOT, "%-44s %14.2f %14s%n", name, a, Double.isNaN(b) ? "-"
        : String.format(Locale.ROOT, "%.2f", b)));
  }
}
