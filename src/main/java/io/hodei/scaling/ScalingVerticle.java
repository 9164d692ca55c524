package io.hodei.scaling;

import io.hodei.common.Ids;
import io.hodei.common.Audit;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.common.Paging;
import io.hodei.common.Role;
import io.hodei.pool.PoolAddresses;
import io.hodei.scheduler.SchedulerAddresses;
import io.hodei.tenant.Tokens;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The autoscaler: serves policies, triggers, cooldowns and the ledger, and every
 * {@code scaling.evaluation_interval_seconds} evaluates each active dynamic pool whose {@code auto_scaling_enabled}
 * is on (and only while {@code resource_pools.auto_scaling_enabled} is): inputs from the pool domain's snapshot and
 * the scheduler's queue status, the decision from {@link Autoscaler}, the change through {@code hodei.pool.scale}
 * (the pool domain keeps the target within [min_size, max_size] and shrinks idle workers first, draining busy ones).
 */
public final class ScalingVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ScalingVerticle.class);
  private static final Instant FAR_FUTURE = Instant.parse("9999-12-31T00:00:00Z");

  private final Pool sql;
  private final ScalingSettings settings;
  private final MeterRegistry registry;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private final Map<String, Cooldown> cooldowns = new HashMap<>();
  private final Map<String, Autoscaler> scalers = new HashMap<>();
  /** Per pool: the longest queue wait (ms) of jobs that started since the last evaluation. */
  private final Map<String, Long> startedWaitMs = new HashMap<>();
  /** Per pool: since when jobs have been queued for it without any starting there. */
  private final Map<String, Instant> blockedSince = new HashMap<>();
  private final Map<String, Instant> lastSeen = new HashMap<>();
  private ScalingStore store;
  private ScalingMeters meters;
  private ScalingLedger ledger;
  private PoolItems<Policy> policies;
  private PoolItems<Trigger> triggers;
  private long timer = -1;
  private boolean evaluating;
  private boolean stopped;

  public ScalingVerticle(Pool sql, ScalingSettings settings, MeterRegistry registry) {
    this.sql = sql;
    this.settings = settings;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    store = new ScalingStore(sql);
    meters = new ScalingMeters(registry);
    ledger = new ScalingLedger(store, new Events(vertx, registry), meters);
    policies = new PoolItems<>("scaling policy", Policy::id, Policy::poolId, Policy::version, Policy::toJson,
        store::savePolicy, store::deletePolicy);
    triggers = new PoolItems<>("scaling trigger", Trigger::id, Trigger::poolId, Trigger::version, Trigger::toJson,
        store::saveTrigger, store::deleteTrigger);
    serveRead(ScalingAddresses.POLICY_LIST, (req, pool) -> Future.succeededFuture(policies.list(pool.getString("id"))));
    serveRead(ScalingAddresses.POLICY_GET, (req, pool) ->
        Future.succeededFuture(policies.get(pool.getString("id"), req.param("item_id")).toJson()));
    serveWrite(ScalingAddresses.POLICY_CREATE, "scaling.policy.create", (req, pool) -> {
      policies.checkRoom(pool.getString("id"));
      return policies.put(ScalingRequests.policy(req.payload(), Ids.generate("sp-"), pool.getString("id"),
          pool.getInteger("max_size"), null, 1));
    });
    serveWrite(ScalingAddresses.POLICY_UPDATE, "scaling.policy.update", (req, pool) -> {
      Policy current = policies.get(pool.getString("id"), req.param("item_id"));
      policies.checkVersion(current, req.ifMatch());
      return policies.put(ScalingRequests.policy(req.payload(), current.id(), current.poolId(),
          pool.getInteger("max_size"), current.createdAt(), current.version() + 1));
    });
    serveWrite(ScalingAddresses.POLICY_DELETE, "scaling.policy.delete", (req, pool) ->
        policies.remove(policies.get(pool.getString("id"), req.param("item_id"))));
    serveRead(ScalingAddresses.TRIGGER_LIST, (req, pool) -> Future.succeededFuture(triggers.list(pool.getString("id"))));
    serveRead(ScalingAddresses.TRIGGER_GET, (req, pool) ->
        Future.succeededFuture(triggers.get(pool.getString("id"), req.param("item_id")).toJson()));
    serveWrite(ScalingAddresses.TRIGGER_CREATE, "scaling.trigger.create", (req, pool) -> {
      triggers.checkRoom(pool.getString("id"));
      return triggers.put(ScalingRequests.trigger(req.payload(), Ids.generate("st-"), pool.getString("id"), null,
          1));
    });
    serveWrite(ScalingAddresses.TRIGGER_UPDATE, "scaling.trigger.update", (req, pool) -> {
      Trigger current = triggers.get(pool.getString("id"), req.param("item_id"));
      triggers.checkVersion(current, req.ifMatch());
      return triggers.put(ScalingRequests.trigger(req.payload(), current.id(), current.poolId(), current.createdAt(),
          current.version() + 1));
    });
    serveWrite(ScalingAddresses.TRIGGER_DELETE, "scaling.trigger.delete", (req, pool) ->
        triggers.remove(triggers.get(pool.getString("id"), req.param("item_id"))));
    serveRead(ScalingAddresses.COOLDOWN_GET, (req, pool) -> Future.succeededFuture(cooldown(pool.getString("id"))
        .toJson()));
    serveWrite(ScalingAddresses.COOLDOWN_SET, "scaling.cooldown.set", (req, pool) -> {
      Cooldown current = cooldown(pool.getString("id"));
      if (req.ifMatch() != null && req.ifMatch() != current.version()) {
        throw DomainException.preconditionFailed("the cooldown of pool '" + current.poolId() + "' is at version "
            + current.version() + ", not " + req.ifMatch());
      }
      Cooldown next = ScalingRequests.cooldown(req.payload(), current);
      return store.saveCooldown(next).map(v -> {
        cooldowns.put(next.poolId(), next);
        return next.toJson();
      });
    });
    serveRead(ScalingAddresses.HISTORY, this::history);
    consumers.add(vertx.eventBus().<JsonObject>consumer(Events.address(Events.JOB_STARTED), msg -> {
      JsonObject e = msg.body();
      String pool = e.getString("pool_id");
      if (pool == null) return;
      startedWaitMs.merge(pool, e.getLong("queue_wait_ms", 0L), Math::max);
      blockedSince.remove(pool);
    }));
    return Future.all(store.policies(), store.triggers(), store.cooldowns(), store.lastChanges())
        .compose(loaded -> {
          policies.load(loaded.resultAt(0));
          triggers.load(loaded.resultAt(1));
          List<Cooldown> stored = loaded.resultAt(2);
          stored.forEach(c -> cooldowns.put(c.poolId(), c));
          restoreClocks(loaded.resultAt(3));
          return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
        })
        .onSuccess(v -> {
          timer = vertx.setPeriodic(settings.evaluationIntervalSeconds() * 1000L, id -> evaluateAll());
          LOG.info("autoscaler started", kv("enabled", settings.enabled()),
              kv("evaluation_interval_seconds", settings.evaluationIntervalSeconds()),
              kv("policies", policies.all().size()), kv("triggers", triggers.all().size()));
        });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    meters.close();
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList());
  }

  private void restoreClocks(List<JsonObject> lastChanges) {
    Map<String, Instant[]> clocks = new HashMap<>();
    for (JsonObject row : lastChanges) {
      Instant[] pair = clocks.computeIfAbsent(row.getString("pool_id"), p -> new Instant[2]);
      pair[Trigger.SCALE_OUT.equals(row.getString("direction")) ? 0 : 1] = Instant.parse(row.getString("at"));
    }
    clocks.forEach((pool, pair) -> scaler(pool).restore(pair[0], pair[1]));
  }

  private Cooldown cooldown(String pool) { return cooldowns.getOrDefault(pool, Cooldown.defaults(pool)); }

  private Autoscaler scaler(String pool) { return scalers.computeIfAbsent(pool, p -> new Autoscaler()); }

  // ---------------------------------------------------------------- requests

  private interface PoolHandler extends java.util.function.BiFunction<BusRequest, JsonObject, Future<JsonObject>> {}

  /** A read: the pool must exist and be visible to the caller (the pool domain decides; viewer+). */
  private void serveRead(String address, PoolHandler handler) {
    consumers.add(Bus.serve(vertx, address, req -> {
      req.caller().requireRole(Role.VIEWER);
      return pool(req).compose(pool -> handler.apply(req, pool));
    }));
  }

  /** An admin change on a dynamic pool, audited. */
  private void serveWrite(String address, String action, PoolHandler handler) {
    consumers.add(Bus.serve(vertx, address, req -> {
      req.caller().requireAdmin();
      return pool(req).compose(pool -> {
        if (!"dynamic".equals(pool.getString("kind"))) {
          throw DomainException.conflict("pool '" + pool.getString("id") + "' is static; only dynamic pools "
              + "autoscale (make it dynamic with PUT /api/v1/pools/{id}/dynamic... or create a dynamic pool)");
        }
        return handler.apply(req, pool);
      }).onSuccess(after -> Audit.record(req, action, "pool/" + req.param("id") + "/scaling", null, after));
    }));
  }

  private Future<JsonObject> pool(BusRequest req) {
    JsonObject envelope = BusRequest.envelope(new JsonObject().put("id", req.param("id")), new JsonObject(),
        new JsonObject(), null);
    return Bus.request(vertx, PoolAddresses.GET, envelope, req.caller(), req.traceId());
  }

  private Future<JsonObject> history(BusRequest req, JsonObject pool) {
    Paging paging = Paging.from(req);
    Long before = null;
    if (paging.cursor() != null) {
      if (!paging.cursor().matches("\\d{1,18}")) throw DomainException.badRequest("cursor is not one this server issued");
      before = Long.parseLong(paging.cursor());
    }
    Instant from = instant(req, "from", Instant.EPOCH);
    Instant to = instant(req, "to", FAR_FUTURE);
    if (!from.isBefore(to)) throw DomainException.unprocessable("from must be before to");
    return store.history(pool.getString("id"), from, to, before, paging.limit() + 1)
        .map(items -> paging.page(items, "id").put("pool_id", pool.getString("id")));
  }

  private static Instant instant(BusRequest req, String name, Instant fallback) {
    String value = req.query(name);
    if (value == null) return fallback;
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw DomainException.badRequest(name + " must be an ISO-8601 instant such as 2026-01-01T00:00:00Z");
    }
  }

  // ---------------------------------------------------------------- evaluation

  private void evaluateAll() {
    if (evaluating || stopped) return;
    evaluating = true;
    Caller system = Caller.system();
    JsonObject snapshotRequest = BusRequest.envelope(new JsonObject(), new JsonObject().put("detail", "false"),
        new JsonObject(), null);
    Future<JsonObject> snapshot = Bus.request(vertx, PoolAddresses.SNAPSHOT, snapshotRequest, system, null);
    Future<JsonObject> queues = Bus.request(vertx, SchedulerAddresses.QUEUE_STATUS, new JsonObject(), system, null);
    Future.all(snapshot, queues)
        .compose(v -> evaluate(snapshot.result().getJsonArray("pools", new JsonArray()),
            queues.result().getJsonArray("pools", new JsonArray())))
        .onFailure(err -> LOG.warn("autoscaler evaluation failed", kv("reason", err.getMessage())))
        .onComplete(ar -> evaluating = false);
  }

  private Future<Void> evaluate(JsonArray pools, JsonArray queueRows) {
    Instant now = Instant.now();
    Map<String, Long> queued = new HashMap<>();
    for (int i = 0; i < queueRows.size(); i++) {
      JsonObject row = queueRows.getJsonObject(i);
      // jobs held back by their tenant's quota or a retry backoff are no demand for more workers
      queued.put(row.getString("pool_id"), row.getLong("queued_for_capacity", row.getLong("queued", 0L)));
    }
    Set<String> dynamic = new HashSet<>();
    List<Future<Void>> changes = new ArrayList<>();
    for (int i = 0; i < pools.size(); i++) {
      JsonObject pool = pools.getJsonObject(i);
      if (!"dynamic".equals(pool.getString("kind"))) continue;
      String id = pool.getString("id");
      dynamic.add(id);
      Inputs in = inputs(pool, queued.getOrDefault(id, 0L), now);
      account(id, pool, in, now);
      if (!settings.enabled() || !pool.getBoolean("auto_scaling_enabled", false)
          || !"active".equals(pool.getString("state"))) {
        continue;
      }
      Autoscaler scaler = scaler(id);
      List<Trigger> poolTriggers = triggers.of(id);
      scaler.retain(poolTriggers.stream().map(Trigger::id).toList());
      Decision decision = scaler.evaluate(in, policies.of(id), poolTriggers, cooldown(id), now);
      if (decision != null) changes.add(apply(id, decision, now));
    }
    forgetGone(dynamic);
    return Future.join(changes).mapEmpty();
  }

  private Inputs inputs(JsonObject pool, long queued, Instant now) {
    String id = pool.getString("id");
    JsonObject workers = pool.getJsonObject("workers", new JsonObject());
    if (queued > 0) blockedSince.putIfAbsent(id, now);
    else blockedSince.remove(id);
    Instant blocked = blockedSince.get(id);
    double blockedSeconds = blocked == null ? 0 : Duration.between(blocked, now).toMillis() / 1000.0;
    Long started = startedWaitMs.remove(id);
    double wait = Math.max(blockedSeconds, started == null ? 0 : started / 1000.0);
    return new Inputs(pool.getInteger("target_size"), pool.getInteger("min_size"), pool.getInteger("max_size"),
        workers.getLong("provisioning", 0L), workers.getLong("idle", 0L), workers.getLong("busy", 0L),
        workers.getLong("unhealthy", 0L), workers.getLong("terminating", 0L), queued, wait);
  }

  /** Worker-seconds since the pool was last seen: efficiency, idle wastage and the open decision's outcome. */
  private void account(String id, JsonObject pool, Inputs in, Instant now) {
    Instant previous = lastSeen.put(id, now);
    double seconds = previous == null ? 0 : Duration.between(previous, now).toMillis() / 1000.0;
    ScalingMeters.Usage usage = meters.usage(id);
    usage.busySeconds += in.busy() * seconds;
    usage.provisionedSeconds += pool.getJsonObject("workers", new JsonObject()).getLong("total", 0L) * seconds;
    ledger.observe(id, in, seconds, now);
  }

  private Future<Void> apply(String poolId, Decision decision, Instant now) {
    JsonObject body = new JsonObject().put("pool_id", poolId).put("target_size", decision.after())
        .put("reason", decision.reasonCode());
    return Bus.request(vertx, PoolAddresses.SCALE, BusRequest.envelope(new JsonObject(), new JsonObject(), body, null),
            Caller.system(), null)
        .compose(pool -> {
          scaler(poolId).applied(decision, now);
          return ledger.record(poolId, now, decision);
        })
        .onFailure(err -> LOG.warn("scaling decision not applied", kv("pool", poolId),
            kv("direction", decision.direction()), kv("reason", err.getMessage())))
        .mapEmpty();
  }

  private void forgetGone(Set<String> dynamic) {
    scalers.keySet().retainAll(dynamic);
    lastSeen.keySet().retainAll(dynamic);
    startedWaitMs.keySet().retainAll(dynamic);
    blockedSince.keySet().retainAll(dynamic);
    meters.retain(dynamic);
    ledger.retain(dynamic);
    policies.retain(dynamic);
    triggers.retain(dynamic);
    cooldowns.keySet().retainAll(dynamic);
  }
}
