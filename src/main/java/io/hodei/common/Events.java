package io.hodei.common;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Publishes domain events on {@code hodei.events.<type>} (what bridge consumers subscribe to) and counts them in
 * {@code hodei_events_published_total{event_type}}. Every event carries {@code type}, {@code at} and, when it
 * belongs to one, {@code tenant_id} (the bridge filters on it).
 */
public final class Events {
  public static final String PREFIX = "hodei.events.";

  public static final String WORKER_STATE = "worker.state";
  /**
   * How a {@link #WORKER_STATE} event's {@code reason} begins when the worker took a job ({@code job <job id>}) or
   * gave it back ({@code job <job id> <outcome>}); other reasons are lifecycle steps ({@code provision}, {@code ready},
   * {@code terminated}, ...).
   */
  public static final String WORKER_ASSIGNMENT_REASON = "job ";
  public static final String POOL_STATE = "pool.state";
  public static final String POOL_RESIZED = "pool.resized";
  public static final String TENANT_CHANGED = "tenant.changed";
  public static final String JOB_SUBMITTED = "job.submitted";
  public static final String JOB_STARTED = "job.started";
  /**
   * The scheduler's announcement that a job reached a final state (succeeded, failed, cancelled, timed_out,
   * abandoned), published once its write committed. Not the end of one run on a worker: that is the pool domain's
   * report {@code io.hodei.pool.PoolAddresses#RUN_ENDED}, after which the job may be retried.
   */
  public static final String JOB_FINISHED = "job.finished";
  public static final String JOB_RETRY = "job.retry";
  /**
   * Output of a running job as it comes ({@code job_id}, {@code tenant_id}, {@code attempt}, {@code data}: the new
   * text), batched and bounded per run like a stored log. Not stored: the attempt's log is stored at its end.
   */
  public static final String JOB_OUTPUT = "job.output";
  public static final String QUOTA_EXCEEDED = "quota.exceeded";
  public static final String SLA_AT_RISK = "sla.at_risk";
  public static final String SLA_BREACHED = "sla.breached";
  public static final String POOL_SCALED = "pool.scaled";

  /** Every event type of the contract (published now or by the domains still to come); bounds metric labels. */
  public static final java.util.Set<String> KNOWN_TYPES = java.util.Set.of(WORKER_STATE, POOL_STATE, POOL_RESIZED,
      TENANT_CHANGED, JOB_SUBMITTED, JOB_STARTED, JOB_FINISHED, JOB_RETRY, JOB_OUTPUT, POOL_SCALED, QUOTA_EXCEEDED, SLA_AT_RISK,
      SLA_BREACHED);

  private final Vertx vertx;
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final EventObservers observers;

  public Events(Vertx vertx, MeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
    this.observers = EventObservers.of(vertx);
    EventCodec.register(vertx);
  }

  /** Addresses by type, made once: a publish then hands on a string whose hash is already computed. */
  private static final ConcurrentHashMap<String, String> ADDRESSES = new ConcurrentHashMap<>();

  public static String address(String type) {
    String address = ADDRESSES.get(type);
    if (address != null) return address;
    // types are a small fixed set (KNOWN_TYPES and tests' own); a cap keeps a stray caller from growing the map
    return ADDRESSES.size() < 256 ? ADDRESSES.computeIfAbsent(type, t -> PREFIX + t) : PREFIX + type;
  }

  /**
   * Publishes the event; from then on it belongs to its consumers, who share it ({@link EventCodec}): the caller
   * must not change it (or anything it holds) afterwards. In-process {@link EventObservers} see it next, on this
   * thread.
   */
  public void publish(String type, JsonObject event) {
    event.put("type", type).put("at", Instants.format(Instant.now()));
    String address = address(type);
    vertx.eventBus().publish(address, event, EventCodec.DELIVERY);
    observers.published(address, event);
    counters.computeIfAbsent(type, t -> MetricCatalog.EVENTS_PUBLISHED.counter()
        .tag(MetricCatalog.EVENT_TYPE, t)
        .register(registry)).increment();
  }
}
