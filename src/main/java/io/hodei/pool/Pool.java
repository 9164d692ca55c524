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

  long count(WorkerState state) { return workers.values().stream().filter(w -> w.state == state).count(); }

  JsonObject toJson() {
    JsonObject counts = new JsonObject();
    for (WorkerState s : WorkerState.values()) {
      if (s != WorkerState.TERMINATED) counts.put(s.wire(), count(s));
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

  /** The fields an operator or the autoscaler may change, copied so a failed write can be undone. */
  Pool changeableCopy() {
    Pool c = new Pool();
    c.name = name;
    c.state = state;
    c.minSize = minSize;
    c.maxSize = maxSize;
    c.targetSize = targetSize;
    c.pricePerWorkerHour = pricePerWorkerHour;
    c.autoScalingEnabled = autoScalingEnabled;
    c.labels = labels;
    c.providerConfig = providerConfig;
    c.updatedAt = updatedAt;
    c.version = version;
    return c;
  }

  /** Puts back what {@link #changeableCopy()} took. */
  void restore(Pool before) {
    name = before.name;
    state = before.state;
    minSize = before.minSize;
    maxSize = before.maxSize;
    targetSize = before.targetSize;
    pricePerWorkerHour = before.pricePerWorkerHour;
    autoScalingEnabled = before.autoScalingEnabled;
    labels = before.labels;
    providerConfig = before.providerConfig;
    updatedAt = before.updatedAt;
    version = before.version;
  }
}
