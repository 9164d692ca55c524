package io.hodei.http;

import io.hodei.metrics.exposition.PrometheusText;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Serves the registry: Prometheus text by default, OpenMetrics when {@code Accept} asks for it, a JSON snapshot for
 * {@code Accept: application/json}. Scraping is CPU work, so it runs off the event loop.
 */
final class MetricsEndpoint implements Handler<RoutingContext> {
  static final String PROMETHEUS_TEXT = PrometheusText.CONTENT_TYPE;
  static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final PrometheusText text;
  private volatile int lastOpenMetricsSize = 64 * 1024;

  MetricsEndpoint(Vertx vertx, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
    this.text = PrometheusText.forCatalog(registry);
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
   * Text: our own writer ({@link PrometheusText}: the registry's exposition, each series' name and labels rendered
   * once, not on every scrape), the seed-named {@code *_total} gauges included. OpenMetrics: the registry's writer,
   * into the response buffer, sized from the last scrape.
   */
  private Buffer render(String format) throws IOException {
    return switch (format) {
      case "json" -> snapshot().toBuffer();
      case "openmetrics" -> {
        BufferOutput out = new BufferOutput(lastOpenMetricsSize);
        registry.scrape(out, OPENMETRICS);
        lastOpenMetricsSize = out.buffer.length();
        yield out.buffer;
      }
      default -> text.render();
    };
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
