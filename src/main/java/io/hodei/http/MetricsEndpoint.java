package io.hodei.http;

import io.hodei.metrics.MetricCatalog;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Tag;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Serves the registry: Prometheus text by default, OpenMetrics when {@code Accept} asks for it, a JSON snapshot for
 * {@code Accept: application/json}. Scraping is CPU work, so it runs off the event loop.
 */
final class MetricsEndpoint implements Handler<RoutingContext> {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private static final List<MetricCatalog.Def> RESERVED_SUFFIX_GAUGES = MetricCatalog.ALL.stream()
      .filter(def -> def.type() == MetricCatalog.Type.GAUGE && def.name().endsWith("_total")).toList();

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private volatile int lastSize = 64 * 1024;

  MetricsEndpoint(Vertx vertx, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String accept = ctx.request().getHeader("Accept");
    String format = negotiate(accept);
    vertx.executeBlocking(() -> render(format), false).onSuccess(body -> ctx.response()
        .putHeader("Content-Type", switch (format) {
          case "json" -> "application/json";
          case "openmetrics" -> OPENMETRICS;
          default -> PROMETHEUS_TEXT;
        })
        .end(body)).onFailure(ctx::fail);
  }

  /**
   * Renders straight into the response buffer: no intermediate String of the whole exposition and no second UTF-8
   * encoding of it (10,000 series are about 700 KB). The buffer starts at the last scrape's size.
   */
  private Buffer render(String format) throws IOException {
    if (format.equals("json")) return snapshot().toBuffer();
    BufferOutput out = new BufferOutput(lastSize);
    if (format.equals("openmetrics")) {
      registry.scrape(out, OPENMETRICS);
    } else {
      registry.scrape(out, PROMETHEUS_TEXT);
      reservedSuffixGauges(out);
    }
    lastSize = out.buffer.length();
    return out.buffer;
  }

  /**
   * The seed names some gauges {@code *_total} (hodei_workers_total). The Prometheus client reserves that suffix
   * for counters and exports such a gauge without it, so the text format also gets the gauge under its contract
   * name (legal in text 0.0.4; OpenMetrics forbids it, so there only the suffix-less name exists). One pass over the
   * registry's meters for all of them (a {@code registry.find} per name would walk every meter once per name).
   */
  private void reservedSuffixGauges(BufferOutput out) {
    Map<String, List<Gauge>> byName = new HashMap<>();
    for (MetricCatalog.Def def : RESERVED_SUFFIX_GAUGES) byName.put(def.meterName(), new ArrayList<>());
    for (Meter meter : registry.getMeters()) {
      if (!(meter instanceof Gauge gauge)) continue;
      List<Gauge> list = byName.get(meter.getId().getName());
      if (list != null) list.add(gauge);
    }
    StringBuilder text = new StringBuilder();
    for (MetricCatalog.Def def : RESERVED_SUFFIX_GAUGES) {
      List<Gauge> gauges = byName.get(def.meterName());
      if (gauges.isEmpty()) continue;
      text.append("# HELP ").append(def.name()).append(' ').append(def.help()).append('\n');
      text.append("# TYPE ").append(def.name()).append(" gauge\n");
      for (Gauge gauge : gauges) {
        text.append(def.name());
        List<Tag> tags = gauge.getId().getTags();
        for (int i = 0; i < tags.size(); i++) {
          text.append(i == 0 ? "{" : ",").append(tags.get(i).getKey()).append("=\"")
              .append(tags.get(i).getValue().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        if (!tags.isEmpty()) text.append('}');
        text.append(' ').append(gauge.value()).append('\n');
      }
    }
    out.buffer.appendString(text.toString());
  }

  /** An OutputStream over a Vert.x Buffer (the response body). */
  private static final class BufferOutput extends OutputStream {
    final Buffer buffer;

    BufferOutput(int capacity) { buffer = Buffer.buffer(capacity); }

    @Override
    public void write(int b) { buffer.appendByte((byte) b); }

    @Override
    public void write(byte[] b, int off, int len) { buffer.appendBytes(b, off, len); }
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
