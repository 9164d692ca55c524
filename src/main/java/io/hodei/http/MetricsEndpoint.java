package io.hodei.http;

import io.hodei.metrics.MetricCatalog;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Serves the registry: Prometheus text by default, OpenMetrics when {@code Accept} asks for it, a JSON snapshot for
 * {@code Accept: application/json}. Scraping is CPU work, so it runs off the event loop.
 */
final class MetricsEndpoint implements Handler<RoutingContext> {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;

  MetricsEndpoint(Vertx vertx, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String accept = ctx.request().getHeader("Accept");
    String format = negotiate(accept);
    vertx.executeBlocking(() -> switch (format) {
      case "json" -> snapshot().encode();
      case "openmetrics" -> registry.scrape(OPENMETRICS);
      default -> registry.scrape(PROMETHEUS_TEXT) + reservedSuffixGauges();
    }, false).onSuccess(body -> ctx.response()
        .putHeader("Content-Type", switch (format) {
          case "json" -> "application/json";
          case "openmetrics" -> OPENMETRICS;
          default -> PROMETHEUS_TEXT;
        })
        .end(body)).onFailure(ctx::fail);
  }

  /**
   * The seed names some gauges {@code *_total} (hodei_workers_total). The Prometheus client reserves that suffix
   * for counters and exports such a gauge without it, so the text format also gets the gauge under its contract
   * name (legal in text 0.0.4; OpenMetrics forbids it, so there only the suffix-less name exists).
   */
  private String reservedSuffixGauges() {
    StringBuilder out = new StringBuilder();
    for (MetricCatalog.Def def : MetricCatalog.ALL) {
      if (def.type() != MetricCatalog.Type.GAUGE || !def.name().endsWith("_total")) continue;
      java.util.Collection<io.micrometer.core.instrument.Gauge> gauges = registry.find(def.meterName()).gauges();
      if (gauges.isEmpty()) continue;
      out.append("# HELP ").append(def.name()).append(' ').append(def.help()).append('\n');
      out.append("# TYPE ").append(def.name()).append(" gauge\n");
      for (io.micrometer.core.instrument.Gauge gauge : gauges) {
        StringBuilder labels = new StringBuilder();
        gauge.getId().getTags().forEach(t -> labels.append(labels.length() == 0 ? "{" : ",").append(t.getKey())
            .append("=\"").append(t.getValue().replace("\\", "\\\\").replace("\"", "\\\"")).append('"'));
        if (labels.length() > 0) labels.append('}');
        out.append(def.name()).append(labels).append(' ').append(gauge.value()).append('\n');
      }
    }
    return out.toString();
  }

  static String negotiate(String accept) {
    if (accept == null) return "text";
    String a = accept.toLowerCase();
    if (a.contains("application/openmetrics-text")) return "openmetrics";
    if (a.contains("application/json") && !a.contains("text/plain")) return "json";
    return "text";
  }

  private JsonObject snapshot() {
    JsonArray meters = new JsonArray();
    for (Meter meter : registry.getMeters()) {
      JsonObject tags = new JsonObject();
      meter.getId().getTags().forEach(t -> tags.put(t.getKey(), t.getValue()));
      JsonObject values = new JsonObject();
      for (Measurement m : meter.measure()) {
        double v = m.getValue();
        values.put(m.getStatistic().getTagValueRepresentation(), Double.isFinite(v) ? v : null);
      }
      meters.add(new JsonObject().put("name", meter.getId().getName())
          .put("type", meter.getId().getType().name().toLowerCase())
          .put("tags", tags).put("values", values));
    }
    return new JsonObject().put("meters", meters);
  }
}
