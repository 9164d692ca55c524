package io.hodei.metrics.runtime;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** JSON views of the registry: request performance by service and endpoint, catalog snapshots, one tenant's jobs. */
final class RuntimeReports {
  private RuntimeReports() {}

  // ---------------------------------------------------------------- performance

  /** Per-endpoint totals of one service, keyed by endpoint. */
  private static final class Endpoint {
    final List<Timer> timers = new ArrayList<>();
    long ok;
    long clientErrors;
    long serverErrors;

    long requests() { return ok + clientErrors + serverErrors; }
  }

  /** Request counts of every (service, endpoint): what rates are computed from between two samples. */
  static Map<String, Long> requestCounts(MeterRegistry registry) {
    Map<String, Long> counts = new TreeMap<>();
    for (Meter m : registry.find(MetricCatalog.SERVICE_REQUESTS.meterName()).meters()) {
      if (!(m instanceof Counter c)) continue;
      counts.merge(m.getId().getTag(MetricCatalog.SERVICE) + ' ' + m.getId().getTag(MetricCatalog.ENDPOINT),
          (long) c.count(), Long::sum);
    }
    return counts;
  }

  /**
   * {@code {service: {requests, client_errors, server_errors, error_ratio, rate_per_second, latency,
   * endpoints: [...]}}} for each of {@code services}; rates are over the last sampling interval ({@code rates}).
   */
  static JsonObject performance(MeterRegistry registry, List<String> services, Map<String, Double> rates) {
    JsonObject out = new JsonObject();
    for (String service : services) {
      Map<String, Endpoint> endpoints = new TreeMap<>();
      for (Meter m : registry.find(MetricCatalog.SERVICE_DURATION.meterName())
          .tag(MetricCatalog.SERVICE, service).meters()) {
        if (m instanceof Timer t) endpoints.computeIfAbsent(m.getId().getTag(MetricCatalog.ENDPOINT),
            e -> new Endpoint()).timers.add(t);
      }
      for (Meter m : registry.find(MetricCatalog.SERVICE_REQUESTS.meterName())
          .tag(MetricCatalog.SERVICE, service).meters()) {
        if (!(m instanceof Counter c)) continue;
        Endpoint e = endpoints.computeIfAbsent(m.getId().getTag(MetricCatalog.ENDPOINT), k -> new Endpoint());
        long n = (long) c.count();
        switch (String.valueOf(m.getId().getTag(MetricCatalog.OUTCOME))) {
          case ServiceMeters.CLIENT_ERROR -> e.clientErrors += n;
          case ServiceMeters.SERVER_ERROR -> e.serverErrors += n;
          default -> e.ok += n;
        }
      }
      JsonArray rows = new JsonArray();
      List<Timer> all = new ArrayList<>();
      long ok = 0;
      long client = 0;
      long server = 0;
      double rate = 0;
      for (Map.Entry<String, Endpoint> entry : endpoints.entrySet()) {
        Endpoint e = entry.getValue();
        double endpointRate = rates.getOrDefault(service + ' ' + entry.getKey(), 0.0);
        rows.add(counts(new JsonObject().put("endpoint", entry.getKey()), e.requests(), e.clientErrors,
            e.serverErrors, endpointRate).put("latency", HistogramQuantiles.of(e.timers).toJson()));
        all.addAll(e.timers);
        ok += e.ok;
        client += e.clientErrors;
        server += e.serverErrors;
        rate += endpointRate;
      }
      out.put(service, counts(new JsonObject(), ok + client + server, client, server, rate)
          .put("latency", HistogramQuantiles.of(all).toJson()).put("endpoints", rows));
    }
    return out;
  }

  private static JsonObject counts(JsonObject into, long requests, long client, long server, double rate) {
    return into.put("requests", requests).put("client_errors", client).put("server_errors", server)
        .put("error_ratio", requests == 0 ? 0.0 : (double) (client + server) / requests)
        .put("rate_per_second", rate);
  }

  // ---------------------------------------------------------------- catalog snapshots

  /** Every series of {@code defs} that {@code visible} lets through: {name, type, unit, help, series}. */
  static JsonArray snapshot(MeterRegistry registry, List<MetricCatalog.Def> defs, Predicate<Meter> visible) {
    JsonArray metrics = new JsonArray();
    for (MetricCatalog.Def def : defs) {
      JsonArray series = new JsonArray();
      for (Meter m : registry.find(def.meterName()).meters()) {
        if (!visible.test(m)) continue;
        JsonObject labels = new JsonObject();
        m.getId().getTags().forEach(t -> labels.put(t.getKey(), t.getValue()));
        JsonObject s = new JsonObject().put("labels", labels);
        if (m instanceof Timer t) s.mergeIn(HistogramQuantiles.of(List.of(t)).toJson());
        else s.put("value", value(m));
        series.add(s);
      }
      metrics.add(new JsonObject().put("name", def.name()).put("type", def.type().name().toLowerCase())
          .put("unit", def.unit()).put("help", def.help()).put("series", series));
    }
    return metrics;
  }

  /** A gauge's or counter's current value (null when not a number). */
  static Double value(Meter m) {
    if (m instanceof Counter c) return c.count();
    if (m instanceof FunctionCounter c) return c.count();
    var it = m.measure().iterator();
    if (!it.hasNext()) return null;
    double v = it.next().getValue();
    return Double.isFinite(v) ? v : null;
  }

  /** The sum of the series of {@code def} with {@code tenant_id=tenant} (and {@code tag=value} when given). */
  static double sum(MeterRegistry registry, MetricCatalog.Def def, String tenant, String tag, String value) {
    double total = 0;
    var search = registry.find(def.meterName()).tag(MetricCatalog.TENANT_ID, tenant);
    if (tag != null) search = search.tag(tag, value);
    for (Meter m : search.meters()) {
      Double v = value(m);
      if (v != null) total += v;
    }
    return total;
  }

  /** Per-value sums of {@code def}'s series for a tenant, by the label {@code tag}. */
  static JsonObject byLabel(MeterRegistry registry, MetricCatalog.Def def, String tenant, String tag) {
    Map<String, Long> sums = new TreeMap<>();
    for (Meter m : registry.find(def.meterName()).tag(MetricCatalog.TENANT_ID, tenant).meters()) {
      Double v = value(m);
      String key = m.getId().getTag(tag);
      if (v != null && key != null) sums.merge(key, v.longValue(), Long::sum);
    }
    JsonObject out = new JsonObject();
    sums.forEach(out::put);
    return out;
  }

  /** One tenant's job counters, running jobs and burst use (the shape of gRPC TenantMetrics). */
  static JsonObject tenant(MeterRegistry registry, String tenant) {
    return new JsonObject().put("tenant_id", tenant)
        .put("jobs_scheduled", (long) sum(registry, MetricCatalog.JOBS_SCHEDULED, tenant, null, null))
        .put("jobs_completed", (long) sum(registry, MetricCatalog.JOBS_COMPLETED, tenant, null, null))
        .put("jobs_failed", (long) sum(registry, MetricCatalog.JOBS_FAILED, tenant, null, null))
        .put("jobs_cancelled", (long) sum(registry, MetricCatalog.JOBS_CANCELLED, tenant, null, null))
        .put("jobs_running", (long) sum(registry, MetricCatalog.TENANT_JOBS_RUNNING, tenant, null, null))
        .put("jobs_by_state", byLabel(registry, MetricCatalog.TENANT_JOBS, tenant, MetricCatalog.STATE))
        .put("jobs_failed_by_error_type", byLabel(registry, MetricCatalog.JOBS_FAILED, tenant,
            MetricCatalog.ERROR_TYPE))
        .put("burst_cpu_m_seconds", sum(registry, MetricCatalog.BURST_CPU, tenant, null, null));
  }
}
