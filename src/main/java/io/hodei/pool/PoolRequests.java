package io.hodei.pool;

import io.hodei.common.Ids;
import io.hodei.common.DomainException;
import io.hodei.common.JsonInput;
import io.hodei.pool.provider.WorkerProvider;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Reads and validates pool requests into {@link Pool} values; nothing here touches state. */
final class PoolRequests {
  static final long MAX_WORKER_CPU_M = 1_000_000;
  static final long MAX_WORKER_MEMORY_MB = 10_000_000;
  static final long DEFAULT_WORKER_CPU_M = 1000;
  static final long DEFAULT_WORKER_MEMORY_MB = 1024;
  static final BigDecimal MAX_PRICE = new BigDecimal("100000");
  static final int PRICE_SCALE = 6;
  private static final String[] CREATE_FIELDS = {"id", "name", "kind", "provider", "size", "min_size", "max_size",
      "target_size", "worker_cpu_m", "worker_memory_mb", "price_per_worker_hour", "auto_scaling_enabled", "labels",
      "provider_config"};

  private final Map<String, WorkerProvider> providers;
  private final String defaultKind;
  private final int maxWorkers;

  PoolRequests(Map<String, WorkerProvider> providers, String defaultKind, int maxWorkers) {
    this.providers = providers;
    this.defaultKind = defaultKind;
    this.maxWorkers = maxWorkers;
  }

  /** A new pool from a REST/gRPC body or a config entry ({@code type} is the seed's name for {@code kind}). */
  Pool create(JsonObject body) {
    JsonObject normalized = body.copy();
    if (normalized.containsKey("type") && !normalized.containsKey("kind")) normalized.put("kind", normalized.remove("type"));
    JsonInput in = JsonInput.of(normalized, CREATE_FIELDS);
    String id = in.string("id", false, Ids.MAX_LENGTH, Ids.POOL, "lower-case letters, digits and dashes");
    String name = in.string("name", false, 128);
    String kind = in.oneOf("kind", false, List.of("static", "dynamic"));
    String provider = in.oneOf("provider", false, List.copyOf(providers.keySet()));
    Long size = in.integer("size", false, 0, maxWorkers);
    Long min = in.integer("min_size", false, 0, maxWorkers);
    Long max = in.integer("max_size", false, 0, maxWorkers);
    Long target = in.integer("target_size", false, 0, maxWorkers);
    Long cpu = in.integer("worker_cpu_m", false, 1, MAX_WORKER_CPU_M);
    Long memory = in.integer("worker_memory_mb", false, 1, MAX_WORKER_MEMORY_MB);
    BigDecimal price = in.decimal("price_per_worker_hour", false, BigDecimal.ZERO, MAX_PRICE, PRICE_SCALE);
    Boolean autoScaling = in.bool("auto_scaling_enabled");
    JsonObject labels = in.labels("labels");
    JsonObject providerConfig = in.rawObject("provider_config", 64);
    String effectiveProvider = provider == null ? "local" : provider;
    if (providers.containsKey(effectiveProvider)) {
      // an absent provider_config is an empty one: a provider may require keys
      providers.get(effectiveProvider).validateConfig(providerConfig == null ? new JsonObject() : providerConfig)
          .forEach(problem -> in.addError("provider_config", problem));
    }
    in.validate();

    Pool pool = new Pool();
    pool.id = id != null ? id : Ids.generate("pool-");
    pool.name = name != null ? name.trim() : pool.id;
    pool.kind = kind != null ? kind : defaultKind;
    pool.provider = effectiveProvider;
    if (pool.kind.equals("static")) {
      if (Boolean.TRUE.equals(autoScaling)) throw autoScalingOnStatic();
      int s = (int) (size != null ? size : min != null ? min : target != null ? target : 1);
      pool.targetSize = s;
      pool.minSize = (int) (min != null ? min : s);
      pool.maxSize = (int) (max != null ? max : Math.max(s, pool.minSize));
      if (target != null && size != null && !target.equals(size)) {
        throw DomainException.unprocessable("size and target_size disagree; a static pool has one size");
      }
    } else {
      if (size != null) throw DomainException.unprocessable("size is for static pools; give a dynamic pool min_size, max_size and target_size");
      pool.minSize = (int) (min != null ? min : 0);
      pool.maxSize = (int) (max != null ? max : Math.max(pool.minSize, 10));
      pool.targetSize = (int) (target != null ? target : pool.minSize);
    }
    checkBounds(pool.minSize, pool.targetSize, pool.maxSize);
    pool.workerCpuM = cpu != null ? cpu : DEFAULT_WORKER_CPU_M;
    pool.workerMemoryMb = memory != null ? memory : DEFAULT_WORKER_MEMORY_MB;
    pool.pricePerWorkerHour = price != null ? price : BigDecimal.ZERO.setScale(PRICE_SCALE);
    pool.autoScalingEnabled = autoScaling != null ? autoScaling : pool.kind.equals("dynamic");
    pool.labels = labels != null ? labels : new JsonObject();
    pool.providerConfig = providerConfig != null ? providerConfig : new JsonObject();
    pool.state = PoolLifecycle.CREATING;
    pool.createdAt = Instant.now();
    pool.updatedAt = pool.createdAt;
    pool.version = 1;
    return pool;
  }

  /** PATCH: the fields an operator may change on a live pool. Returns the changes to apply. */
  JsonObject update(JsonObject body) {
    JsonInput in = JsonInput.of(body, "name", "labels", "price_per_worker_hour", "auto_scaling_enabled");
    String name = in.string("name", false, 128);
    JsonObject labels = in.labels("labels");
    BigDecimal price = in.decimal("price_per_worker_hour", false, BigDecimal.ZERO, MAX_PRICE, PRICE_SCALE);
    Boolean autoScaling = in.bool("auto_scaling_enabled");
    in.validate();
    if (name == null && labels == null && price == null && autoScaling == null) {
      throw DomainException.unprocessable(
          "the patch changes nothing; send name, labels, price_per_worker_hour or auto_scaling_enabled");
    }
    JsonObject changes = new JsonObject();
    if (name != null) changes.put("name", name.trim());
    if (labels != null) changes.put("labels", labels);
    if (price != null) changes.put("price_per_worker_hour", price.toPlainString());
    if (autoScaling != null) changes.put("auto_scaling_enabled", autoScaling);
    return changes;
  }

  /** A static pool keeps the size it is given: the autoscaler never changes it. */
  static DomainException autoScalingOnStatic() {
    return DomainException.unprocessable("auto_scaling_enabled is for dynamic pools: a static pool keeps its size; "
        + "give kind dynamic with min_size and max_size to let the autoscaler size it");
  }

  /** PUT /static: {size}. */
  int staticSize(JsonObject body) {
    JsonInput in = JsonInput.of(body, "size");
    Long size = in.integer("size", true, 0, maxWorkers);
    in.validate();
    return size.intValue();
  }

  /** PUT /dynamic: {min_size, max_size, target_size?}; returns [min, max, target or -1]. */
  int[] dynamicBounds(JsonObject body) {
    JsonInput in = JsonInput.of(body, "min_size", "max_size", "target_size");
    Long min = in.integer("min_size", true, 0, maxWorkers);
    Long max = in.integer("max_size", true, 0, maxWorkers);
    Long target = in.integer("target_size", false, 0, maxWorkers);
    in.validate();
    if (min > max) throw minAboveMax(min, max);
    if (target != null) checkBounds(min.intValue(), target.intValue(), max.intValue());
    return new int[] {min.intValue(), max.intValue(), target == null ? -1 : target.intValue()};
  }

  String action(JsonObject body) {
    JsonInput in = JsonInput.of(body, "action");
    String action = in.oneOf("action", true, PoolLifecycle.ACTIONS);
    in.validate();
    return action;
  }

  int workerCount(JsonObject body) {
    JsonInput in = JsonInput.of(body, "count");
    Long count = in.integer("count", false, 1, maxWorkers);
    in.validate();
    return count == null ? 1 : count.intValue();
  }

  static void checkBounds(int min, int target, int max) {
    if (min > max) throw minAboveMax(min, max);
    if (target < min || target > max) {
      throw DomainException.invalid(422, new JsonArray().add(new JsonObject().put("field", "target_size")
          .put("message", target + " is outside min_size " + min + " .. max_size " + max)));
    }
  }

  private static DomainException minAboveMax(long min, long max) {
    return DomainException.invalid(422, new JsonArray().add(new JsonObject().put("field", "min_size")
        .put("message", min + " is greater than max_size " + max)));
  }
}
