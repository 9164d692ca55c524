package io.hodei.scaling;

import io.hodei.common.Events;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The decision ledger: a {@code scaling_event} row and a {@code hodei.events.pool.scaled} event per applied decision,
 * then, while the decision is the pool's latest, its outcome: the time until the pool's ready workers reached the
 * new size (scale-out) or its surplus workers were gone (scale-in), and the idle worker-seconds accrued under it.
 */
final class ScalingLedger {
  private static final Logger LOG = LoggerFactory.getLogger(ScalingLedger.class);
  /** Idle worker-seconds are written at most this often per row (and always when the next decision closes it). */
  private static final long FLUSH_INTERVAL_MS = 10_000;

  private static final class Open {
    long id;
    Instant at;
    String direction;
    int after;
    boolean settled;
    double idleSeconds;
    double flushedIdleSeconds;
    Instant flushedAt;
  }

  private final ScalingStore store;
  private final Events events;
  private final ScalingMeters meters;
  private final Map<String, Open> latest = new HashMap<>();

  ScalingLedger(ScalingStore store, Events events, ScalingMeters meters) {
    this.store = store;
    this.events = events;
    this.meters = meters;
  }

  /** Records an applied decision; the previous one of the pool is closed with its final idle worker-seconds. */
  Future<Long> record(String poolId, Instant at, Decision d) {
    Open previous = latest.remove(poolId);
    if (previous != null) flush(previous, true);
    meters.decision(poolId, d.direction(), d.reasonCode());
    return store.insertEvent(poolId, at, d).onSuccess(id -> {
      Open open = new Open();
      open.id = id;
      open.at = at;
      open.direction = d.direction();
      open.after = d.after();
      open.flushedAt = at;
      latest.put(poolId, open);
      events.publish(Events.POOL_SCALED, new JsonObject().put("pool_id", poolId).put("event_id", String.valueOf(id))
          .put("direction", d.direction()).put("size_before", d.before()).put("size_after", d.after())
          .put("source", d.source()).put("source_id", d.sourceId()).put("reason_code", d.reasonCode())
          .put("reason", d.reason()).put("inputs", d.inputs().toJson()).put("cooldown", d.cooldown().copy()));
      LOG.info("pool scaled", kv("pool", poolId), kv("direction", d.direction()), kv("size_before", d.before()),
          kv("size_after", d.after()), kv("reason", d.reason()));
    });
  }

  /** Accounts {@code seconds} of the pool as {@code in} shows it to the pool's latest decision. */
  void observe(String poolId, Inputs in, double seconds, Instant now) {
    double idle = in.idle() * seconds;
    meters.idleWorkerSeconds(poolId, idle);
    Open open = latest.get(poolId);
    if (open == null) return;
    open.idleSeconds += idle;
    if (!open.settled) {
      boolean reached = Trigger.SCALE_OUT.equals(open.direction) ? in.idle() + in.busy() >= open.after
          : in.capacity() + in.unhealthy() + in.terminating() <= open.after;
      if (reached) {
        open.settled = true;
        long ms = Duration.between(open.at, now).toMillis();
        if (Trigger.SCALE_OUT.equals(open.direction)) meters.capacityReady(poolId, ms);
        store.capacityReady(open.id, ms, now).onFailure(err -> writeFailed(open, err));
      }
    }
    if (Duration.between(open.flushedAt, now).toMillis() >= FLUSH_INTERVAL_MS) {
      open.flushedAt = now;
      flush(open, false);
    }
  }

  /** Forgets pools that are gone. */
  void retain(java.util.Set<String> live) { latest.keySet().retainAll(live); }

  private void flush(Open open, boolean last) {
    if (open.idleSeconds == open.flushedIdleSeconds && !last) return;
    open.flushedIdleSeconds = open.idleSeconds;
    store.idleWorkerSeconds(open.id, Inputs.round(open.idleSeconds)).onFailure(err -> writeFailed(open, err));
  }

  private static void writeFailed(Open open, Throwable err) {
    LOG.warn("scaling outcome could not be written", kv("scaling_event_id", open.id), kv("reason", err.getMessage()));
  }
}
