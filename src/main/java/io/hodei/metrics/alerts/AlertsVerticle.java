package io.hodei.metrics.alerts;

import io.hodei.metrics.MetricsAddresses;
import io.hodei.common.Bus;
import io.hodei.common.DomainException;
import io.hodei.common.Role;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Serves {@link MetricsAddresses#ALERTS}: the alerts firing now, read from Alertmanager's {@code /api/v2/alerts}
 * (active, not silenced, not inhibited) when {@code observability.alerting.alertmanager_url} is set. Unset: an
 * empty answer with {@code configured: false}; unreachable or a bad answer: 503.
 */
public final class AlertsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(AlertsVerticle.class);
  static final long TIMEOUT_MS = 5_000;
  private static final String PATH = "/api/v2/alerts?active=true&silenced=false&inhibited=false";

  private final String alertmanagerUrl;
  private WebClient client;
  private MessageConsumer<JsonObject> consumer;

  /** {@code alertmanagerUrl} is null when no Alertmanager is configured. */
  public AlertsVerticle(String alertmanagerUrl) {
    this.alertmanagerUrl = alertmanagerUrl == null || alertmanagerUrl.isBlank() ? null
        : alertmanagerUrl.replaceAll("/+$", "");
  }

  @Override
  public Future<?> start() {
    if (alertmanagerUrl != null) {
      URI uri;
      try {
        uri = URI.create(alertmanagerUrl);
      } catch (IllegalArgumentException e) {
        uri = null;
      }
      if (uri == null || uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
        return Future.failedFuture(new IllegalStateException(
            "observability.alerting.alertmanager_url: not an http(s) URL: " + alertmanagerUrl));
      }
      client = WebClient.create(vertx);
    }
    consumer = Bus.serve(vertx, MetricsAddresses.ALERTS, req -> {
      req.caller().requireRole(Role.VIEWER);
      return alerts();
    });
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    if (client != null) client.close();
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  private Future<JsonObject> alerts() {
    if (client == null) {
      return Future.succeededFuture(new JsonObject().put("configured", false).put("alerts", new JsonArray()));
    }
    return client.getAbs(alertmanagerUrl + PATH).timeout(TIMEOUT_MS).send()
        .recover(err -> Future.failedFuture(unreachable(err.getMessage())))
        .map(this::toAnswer);
  }

  private JsonObject toAnswer(HttpResponse<Buffer> response) {
    if (response.statusCode() != 200) throw unreachable("HTTP " + response.statusCode());
    Object body;
    try {
      body = response.bodyAsBuffer() == null ? null : response.bodyAsBuffer().toJsonValue();
    } catch (RuntimeException e) {
      body = null;
    }
    if (!(body instanceof JsonArray raw)) throw unreachable("the answer is not a JSON array");
    JsonArray alerts = new JsonArray();
    for (Object o : raw) {
      if (!(o instanceof JsonObject a)) continue;
      JsonObject labels = a.getJsonObject("labels", new JsonObject());
      alerts.add(new JsonObject()
          .put("name", labels.getString("alertname"))
          .put("severity", labels.getString("severity"))
          .put("state", a.getJsonObject("status", new JsonObject()).getString("state"))
          .put("starts_at", a.getString("startsAt"))
          .put("labels", labels)
          .put("annotations", a.getJsonObject("annotations", new JsonObject())));
    }
    return new JsonObject().put("configured", true).put("source", alertmanagerUrl).put("alerts", alerts);
  }

  private DomainException unreachable(String reason) {
    LOG.warn("alertmanager unreachable", kv("url", alertmanagerUrl), kv("reason", reason));
    // The reason stays in the log: the client learns only that Alertmanager did not answer.
    return DomainException.unavailable("Alertmanager at " + alertmanagerUrl + " did not answer");
  }
}
