package io.hodei.metrics.history;

import io.hodei.metrics.MetricsAddresses;
import io.hodei.metrics.SelfCost;
import io.hodei.common.MetricCatalog;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.DomainException;
import io.hodei.common.Role;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/** Samples metrics into PostgreSQL, rolls them up, enforces retention, and answers historical queries. */
public final class MetricsHistoryVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsHistoryVerticle.class);
  private static final long RETENTION_INTERVAL_MS = 10 * 60_000;

  private final Pool sql;
  private final MeterRegistry registry;
  private final HistorySettings settings;
  private final SelfCost cost;
  private final List<Long> timers = new ArrayList<>();
  private MessageConsumer<JsonObject> consumer;
  private MetricsHistory history;
  private boolean sampling;

  public MetricsHistoryVerticle(Pool sql, MeterRegistry registry, HistorySettings settings, SelfCost cost) {
    this.sql = sql;
    this.cost = cost;
    this.registry = registry;
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    history = new MetricsHistory(sql, registry, settings);
    consumer = Bus.serve(vertx, MetricsAddresses.HISTORICAL, this::query);
    if (settings.enabled()) {
      timers.add(vertx.setPeriodic(settings.sampleIntervalSeconds() * 1000L, id -> sample()));
      timers.add(vertx.setPeriodic(settings.rollupIntervalSeconds() * 1000L,
          id -> cost.timed(SelfCost.Part.HISTORY, history::rollup)
              .onFailure(err -> LOG.warn("metric rollup failed", kv("reason", err.getMessage())))));
      timers.add(vertx.setPeriodic(RETENTION_INTERVAL_MS, id -> cost.timed(SelfCost.Part.HISTORY,
              history::enforceRetention)
          .onFailure(err -> LOG.warn("metric retention failed", kv("reason", err.getMessage())))));
    }
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    return consumer.unregister();
  }

  private void sample() {
    if (sampling) return;
    sampling = true;
    cost.timed(SelfCost.Part.HISTORY, history::sample).onComplete(ar -> {
      sampling = false;
      if (ar.failed()) LOG.warn("metric sampling failed", kv("reason", ar.cause().getMessage()));
    });
  }

  /**
   * {@code metric} (a catalog gauge or counter), optional {@code pool} / {@code tenant}, {@code from} / {@code to}
   * (ISO instants; default the last hour) and {@code step} (raw, 1m, 5m, 1h; default: the finest that fits).
   */
  private Future<JsonObject> query(BusRequest req) {
    req.caller().requireRole(Role.VIEWER);
    if (!settings.enabled()) throw DomainException.unavailable("metric history is disabled (metrics.history_enabled)");
    String metric = req.query("metric");
    if (metric == null) throw DomainException.unprocessable("metric is required, e.g. metric=hodei_pool_workers");
    if (!MetricsHistory.queryable(metric)) {
      throw DomainException.unprocessable("metric '" + metric + "' has no history; see the catalog in docs/metrics.md "
          + "(gauges and counters without worker or endpoint labels)");
    }
    String tenant = req.query("tenant");
    if (!req.caller().isAdmin()) {
      if (tenant != null && !tenant.equals(req.caller().tenantId())) throw DomainException.notFound("tenant", tenant);
      if (tenant == null && MetricCatalog.ALL.stream().anyMatch(d -> d.name().equals(metric)
          && d.labels().contains(MetricCatalog.TENANT_ID))) {
        tenant = req.caller().tenantId();
      }
    }
    Instant to = instant(req.query("to"), Instant.now(), "to");
    Instant from = instant(req.query("from"), to.minus(Duration.ofHours(1)), "from");
    if (!from.isBefore(to)) throw DomainException.unprocessable("from must be before to");
    if (Duration.between(from, to).toDays() > 3660) throw DomainException.unprocessable("the range is too long");
    String step = req.query("step");
    MetricsHistory.Resolution resolution = step == null ? history.pick(from, to) : MetricsHistory.Resolution.parse(step);
    return history.query(metric, req.query("pool"), tenant, from, to, resolution);
  }

  private static Instant instant(String value, Instant fallback, String name) {
    if (value == null) return fallback;
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw DomainException.badRequest(name + " must be an ISO-8601 instant such as 2030-01-01T00:00:00Z");
    }
  }
}
