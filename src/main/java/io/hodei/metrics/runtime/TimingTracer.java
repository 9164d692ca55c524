package io.hodei.metrics.runtime;

import io.vertx.core.Context;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.spi.tracing.SpanKind;
import io.vertx.core.spi.tracing.TagExtractor;
import io.vertx.core.spi.tracing.VertxTracer;
import io.vertx.core.tracing.TracingPolicy;
import java.util.function.BiConsumer;

/**
 * Times what Vert.x reports to its tracer SPI without touching the domains: event-bus request/reply round trips to
 * {@code hodei.*} addresses ({@code service=eventbus}) and PostgreSQL statements by kind. It propagates nothing and
 * ignores the tracing policy (it measures, it does not trace; spans are {@link io.hodei.tracing.Tracing}'s).
 */
public final class TimingTracer implements VertxTracer<Void, TimingTracer.Timing> {
  /** The SQL text tag (Vert.x 5 follows the current semantic conventions; older versions said db.statement). */
  static final String DB_QUERY_TEXT = "db.query.text";
  static final String DB_STATEMENT = "db.statement";
  private static final String DOMAIN_PREFIX = "hodei.";
  private static final String EVENTS_PREFIX = "hodei.events.";

  private final ServiceMeters meters;

  /** What a request carries until its response. */
  record Timing(String endpoint, String statement, long startNanos) {}

  public TimingTracer(ServiceMeters meters) { this.meters = meters; }

  @Override
  public <R> Timing sendRequest(Context context, SpanKind kind, TracingPolicy policy, R request, String operation,
                                BiConsumer<String, String> headers, TagExtractor<R> tags) {
    if (request instanceof Message<?> message) {
      String address = message.address();
      if (!message.isSend() || message.replyAddress() == null || address == null
          || !address.startsWith(DOMAIN_PREFIX) || address.startsWith(EVENTS_PREFIX)) {
        return null;
      }
      return new Timing(address, null, System.nanoTime());
    }
    String statement = statement(request, tags);
    return statement == null ? null : new Timing(null, statement, System.nanoTime());
  }

  @Override
  public <R> void receiveResponse(Context context, R response, Timing timing, Throwable failure,
                                  TagExtractor<R> tags) {
    if (timing == null) return;
    long nanos = System.nanoTime() - timing.startNanos();
    if (timing.statement() != null) meters.statement(timing.statement(), nanos);
    else meters.record(ServiceMeters.EVENTBUS, timing.endpoint(), outcome(failure), nanos);
  }

  /** The SQL text among the request's tags, read in place (every statement passes here: no map of all tags). */
  private static <R> String statement(R request, TagExtractor<R> tags) {
    String older = null;
    for (int i = 0, n = tags.len(request); i < n; i++) {
      String name = tags.name(request, i);
      if (DB_QUERY_TEXT.equals(name)) return tags.value(request, i);
      if (DB_STATEMENT.equals(name)) older = tags.value(request, i);
    }
    return older;
  }

  static String outcome(Throwable failure) {
    if (failure == null) return ServiceMeters.OK;
    if (failure instanceof ReplyException e && e.failureType() == ReplyFailure.RECIPIENT_FAILURE
        && e.failureCode() >= 400 && e.failureCode() < 500) {
      return ServiceMeters.CLIENT_ERROR;
    }
    return ServiceMeters.SERVER_ERROR;
  }
}
