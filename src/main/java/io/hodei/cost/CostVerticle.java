package io.hodei.cost;

import io.hodei.common.Ids;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.common.JsonInput;
import io.hodei.common.Role;
import io.hodei.pool.PoolAddresses;
import io.hodei.tenant.Tokens;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The cost domain: keeps the ledger ({@link CostLedger}) current from job.finished events (debounced) and a periodic
 * catch-up sweep, and answers reports, breakdowns, recommendations and price versions on {@link CostAddresses}.
 */
public final class CostVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(CostVerticle.class);
  /** A burst of job.finished events leads to one sweep this long after the first. */
  static final long EVENT_SWEEP_DELAY_MS = 1000;
  static final Duration DEFAULT_BREAKDOWN_SPAN = Duration.ofDays(1);
  static final int DEFAULT_WINDOW_HOURS = 168;
  private static final BigDecimal MAX_PRICE = new BigDecimal("99999999.999999");

  private final Pool sql;
  private final CostSettings settings;
  private final MeterRegistry registry;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private final List<Long> timers = new ArrayList<>();
  private CostStore store;
  private CostLedger ledger;
  private CostReports reports;
  private CostAdvisor advisor;
  private CostMeters meters;
  private long eventSweepTimer = -1;

  public CostVerticle(Pool sql, CostSettings settings, MeterRegistry registry) {
    this.sql = sql;
    this.settings = settings;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    store = new CostStore(sql);
    ledger = new CostLedger(vertx, store, new PriceBook(), settings);
    reports = new CostReports(store);
    advisor = new CostAdvisor(vertx, store);
    meters = new CostMeters(registry, settings.trackByTenant());
    serve(CostAddresses.REPORT, req -> reports.report(
        CostQuery.read(req.envelope().getJsonObject(BusRequest.QUERY), req.caller(), settings,
            settings.maxReportDays(), true, DEFAULT_BREAKDOWN_SPAN)));
    serve(CostAddresses.REPORT_CREATE, this::createReport);
    serve(CostAddresses.REPORT_GET, this::getReport);
    serve(CostAddresses.BREAKDOWN, req -> advisor.breakdown(
        CostQuery.read(req.envelope().getJsonObject(BusRequest.QUERY), req.caller(), settings,
            settings.maxReportDays(), false, DEFAULT_BREAKDOWN_SPAN)));
    serve(CostAddresses.RECOMMENDATIONS, this::recommendations);
    serve(CostAddresses.PRICE_SET, this::setPrice);
    serve(CostAddresses.PRICE_LIST, this::listPrices);
    serve(CostAddresses.SWEEP, req -> {
      req.caller().requireAdmin();
      Instant started = Instant.now();
      return sweepAndMeter(true).map(v -> new JsonObject().put("swept", true)
          .put("started_at", started.toString()).put("finished_at", Instant.now().toString()));
    });
    if (!settings.enabled()) {
      return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
    }
    consumers.add(vertx.eventBus().consumer(Events.address(Events.JOB_FINISHED), msg -> sweepSoon()));
    return ledger.load()
        .compose(v -> Future.all(consumers.stream().map(MessageConsumer::completion).toList()))
        .onSuccess(v -> {
          periodicSweep();
          timers.add(vertx.setPeriodic(settings.sweepIntervalSeconds() * 1000L, id -> periodicSweep()));
          resumeReports();
        });
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    if (eventSweepTimer >= 0) vertx.cancelTimer(eventSweepTimer);
    if (meters != null) meters.close();
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList());
  }

  private void serve(String address, Function<BusRequest, Future<JsonObject>> handler) {
    consumers.add(Bus.serve(vertx, address, req -> {
      if (!settings.enabled()) {
        throw DomainException.unavailable("cost tracking is disabled (cost_tracking.enabled=false)");
      }
      return handler.apply(req);
    }));
  }

  private void periodicSweep() {
    sweepAndMeter(false).onFailure(err -> LOG.warn("cost meters not refreshed", err));
  }

  private Future<Void> sweepAndMeter(boolean full) {
    return ledger.sweep(full).compose(v -> ledger.meterTotals()).map(totals -> {
      meters.update(totals);
      return null;
    });
  }

  private void sweepSoon() {
    if (eventSweepTimer >= 0) return;
    eventSweepTimer = vertx.setTimer(EVENT_SWEEP_DELAY_MS, id -> {
      eventSweepTimer = -1;
      ledger.sweep(false);
    });
  }

  private Future<JsonObject> createReport(BusRequest req) {
    CostQuery query = CostQuery.read(req.payload(), req.caller(), settings, settings.retentionDays(), true,
        DEFAULT_BREAKDOWN_SPAN);
    String id = Ids.generate("cr-");
    return store.insertReport(id, query.tenantId(), req.caller().tokenId(), query.toJson()).onSuccess(report -> {
      LOG.info("cost report queued", kv("report_id", id), kv("trace_id", req.traceId()));
      vertx.runOnContext(v -> generate(id, query));
    });
  }

  /** Generates a stored report; a failure is stored on the report. */
  private void generate(String id, CostQuery query) {
    reports.report(query)
        .compose(result -> store.finishReport(id, "done", result, null))
        .recover(err -> {
          LOG.warn("cost report failed", kv("report_id", id), err);
          return store.finishReport(id, "failed", null, Bus.toDomain(err).detail());
        })
        .onFailure(err -> LOG.warn("cost report not stored", kv("report_id", id), err));
  }

  /** Reports left pending or running by a previous server process are generated again. */
  private void resumeReports() {
    store.unfinishedReports().onSuccess(pending -> pending.forEach(report -> {
      JsonObject p = report.getJsonObject("params");
      generate(report.getString("id"), new CostQuery(Instant.parse(p.getString(CostQuery.FROM)),
          Instant.parse(p.getString(CostQuery.TO)), p.getString(CostQuery.GROUP_BY),
          p.getString(CostQuery.TENANT_ID), p.getString(CostQuery.POOL_ID)));
    })).onFailure(err -> LOG.warn("unfinished cost reports not resumed", err));
  }

  private Future<JsonObject> getReport(BusRequest req) {
    String id = req.param("id");
    Caller caller = req.caller();
    caller.requireRole(Role.VIEWER);
    return store.report(id).map(report -> {
      if (report == null) throw DomainException.notFound("cost report", id);
      caller.requireOwner("cost report", id, report.getString("tenant_id"), Role.VIEWER);
      return report;
    });
  }

  private Future<JsonObject> recommendations(BusRequest req) {
    req.caller().requireRole(Role.VIEWER);
    JsonObject query = req.envelope().getJsonObject(BusRequest.QUERY, new JsonObject());
    JsonInput in = JsonInput.of(query, "window_hours");
    in.validate();
    int max = settings.retentionDays() * 24;
    int window = DEFAULT_WINDOW_HOURS;
    String raw = query.getString("window_hours");
    if (raw != null) {
      if (!raw.matches("\\d{1,6}")) throw DomainException.badRequest("window_hours must be a whole number of hours");
      window = Integer.parseInt(raw);
      if (window < 1 || window > max) throw DomainException.unprocessable("window_hours must be between 1 and " + max);
    }
    return advisor.recommendations(req.caller(), Math.min(window, max));
  }

  private Future<JsonObject> setPrice(BusRequest req) {
    req.caller().requireAdmin();
    JsonObject body = req.payload();
    JsonInput in = JsonInput.of(body, "pool_id", "price_per_worker_hour", "effective_from");
    String poolId = in.string("pool_id", true, 63);
    BigDecimal price = in.decimal("price_per_worker_hour", true, BigDecimal.ZERO, MAX_PRICE, 6);
    String rawEffective = in.string("effective_from", false, 64);
    in.validate();
    Instant effective;
    try {
      effective = rawEffective == null ? Instant.now() : Instant.parse(rawEffective);
    } catch (java.time.format.DateTimeParseException e) {
      throw DomainException.badRequest("effective_from must be an RFC 3339 time such as 2026-01-31T00:00:00Z");
    }
    if (effective.isBefore(ledger.retentionCutoff())) {
      throw DomainException.unprocessable("effective_from is older than the cost retention ("
          + settings.retentionDays() + " days)");
    }
    if (effective.isAfter(Instant.now().plus(Duration.ofDays(366)))) {
      throw DomainException.unprocessable("effective_from may be at most 366 days ahead");
    }
    JsonObject get = BusRequest.envelope(new JsonObject().put("id", poolId), new JsonObject(), new JsonObject(), null);
    return Bus.request(vertx, PoolAddresses.GET, get, Caller.system(), req.traceId())
        .compose(pool -> ledger.setPrice(poolId, effective, price, "api", req.caller().tokenId()))
        .map(v -> new JsonObject().put("pool_id", poolId).put("effective_from", effective.toString())
            .put("price_per_worker_hour", price.toPlainString()).put("source", "api"));
  }

  private Future<JsonObject> listPrices(BusRequest req) {
    req.caller().requireRole(Role.VIEWER);
    JsonObject query = req.envelope().getJsonObject(BusRequest.QUERY, new JsonObject());
    JsonInput in = JsonInput.of(query, "pool_id");
    String poolId = in.string("pool_id", true, 63);
    in.validate();
    return store.prices(poolId).map(rows -> {
      JsonArray items = new JsonArray();
      for (Row r : rows) {
        items.add(new JsonObject().put("pool_id", r.getString("pool_id"))
            .put("effective_from", CostStore.instant(r, "effective_from").toString())
            .put("price_per_worker_hour", r.getBigDecimal("price_per_worker_hour").toPlainString())
            .put("source", r.getString("source")).put("created_by", r.getString("created_by")));
      }
      return new JsonObject().put("pool_id", poolId).put("items", items);
    });
  }
}
