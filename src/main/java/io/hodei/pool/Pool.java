package io.hodei.pool;

import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** A pool as the pool verticle holds it: mutable, confined to the verticle's event loop. */
final class Pool {
  String id;
  String name;
  String kind;
  String provider;
  String state;
  int minSize;
  int maxSize;
  int targetSize;
  long workerCpuM;
  long workerMemoryMb;
  BigDecimal pricePerWorkerHour;
  boolean autoScalingEnabled;
  JsonObject labels;
  JsonObject providerConfig;
  Instant createdAt;
  Instant updatedAt;
  long version;

  /** Workers that are not terminated, by id. */
  final Map<String, Worker> workers = new LinkedHashMap<>();
  /** Provisioning failures in a row; drives the retry backoff. */
  int provisionFailures;
  long nextProvisionAtMillis;

  long count(String state) { return workers.values().stream().filter(w -> w.state.equals(state)).count(); }

  JsonObject toJson() {
    JsonObject counts = new JsonObject();
    for (String s : new String[] {WorkerStates.PROVISIONING, WorkerStates.IDLE, WorkerStates.BUSY,
        WorkerStates.TERMINATING, WorkerStates.UNHEALTHY}) {
      counts.put(s, count(s));
    }
    counts.put("total", workers.size());
    return new JsonObject()
        .put("id", id)
        .put("name", name)
        .put("kind", kind)
        .put("provider", provider)
        .put("state", state)
        .put("min_size", minSize)
        .put("max_size", maxSize)
        .put("target_size", targetSize)
        .put("worker_cpu_m", workerCpuM)
        .put("worker_memory_mb", workerMemoryMb)
        .put("price_per_worker_hour", pricePerWorkerHour)
        .put("auto_scaling_enabled", autoScalingEnabled)
        .put("labels", labels.copy())
        .put("provider_config", providerConfig.copy())
        .put("workers", counts)
        .put("allowed_actions", PoolLifecycle.allowed(state))
        .put("created_at", createdAt.toString())
        .put("updated_at", updatedAt.toString())
        .put("version", version);
  }
}
