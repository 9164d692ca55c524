package io.hodei.common;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/** Request/reply over the event bus with the project's conventions: caller + trace headers, problem replies. */
public final class Bus {
  private static final Logger LOG = LoggerFactory.getLogger(Bus.class);
  public static final long DEFAULT_TIMEOUT_MS = 10_000;

  private Bus() {}

  /**
   * Sends a request and maps a failed reply back to a {@link DomainException}. The body is handed over, not copied
   * ({@link EventCodec}): once sent it belongs to the receiver, which only reads it, and the sender must not change
   * it (or anything it holds) afterwards.
   */
  public static Future<JsonObject> request(Vertx vertx, String address, JsonObject body, Caller caller, String traceId) {
    EventCodec.ensureRegistered(vertx);
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(DEFAULT_TIMEOUT_MS).setCodecName(EventCodec.NAME)
        .addHeader(BusHeaders.CALLER, CallerHeaders.encode(caller))
        .addHeader(BusHeaders.TRACE_ID, traceId == null ? "" : traceId);
    return vertx.eventBus().<JsonObject>request(address, body, options)
        .map(Message::body)
        .recover(err -> Future.failedFuture(toDomain(err)));
  }

  /** Registers a request handler; the handler's failures become problem replies. Replies are copied. */
  public static MessageConsumer<JsonObject> serve(Vertx vertx, String address,
                                                  Function<BusRequest, Future<JsonObject>> handler) {
    return serve(vertx, address, handler, false);
  }

  /**
   * Like {@link #serve(Vertx, String, Function)}, but replies are handed over without a copy: for handlers whose
   * replies are built for the request and not changed by anyone afterwards (nothing in them is state the handler's
   * domain changes later). Large replies, such as a batch submission's jobs, are then not copied field by field.
   */
  public static MessageConsumer<JsonObject> serveHandingOver(Vertx vertx, String address,
                                                             Function<BusRequest, Future<JsonObject>> handler) {
    EventCodec.ensureRegistered(vertx);
    return serve(vertx, address, handler, true);
  }

  private static MessageConsumer<JsonObject> serve(Vertx vertx, String address,
                                                   Function<BusRequest, Future<JsonObject>> handler, boolean handOver) {
    return vertx.eventBus().consumer(address, (Message<JsonObject> msg) -> {
      BusRequest request;
      try {
        String callerHeader = msg.headers().get(BusHeaders.CALLER);
        Caller caller = callerHeader == null ? null : CallerHeaders.decode(callerHeader);
        if (caller == null) throw DomainException.unauthorized("no caller on request");
        request = new BusRequest(msg.body() == null ? new JsonObject() : msg.body(), caller,
            msg.headers().get(BusHeaders.TRACE_ID));
      } catch (RuntimeException e) {
        reply(msg, address, Future.failedFuture(e), false);
        return;
      }
      Future<JsonObject> result;
      try {
        result = handler.apply(request);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      reply(msg, address, result, handOver);
    });
  }

  private static void reply(Message<JsonObject> msg, String address, Future<JsonObject> result, boolean handOver) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        if (handOver) msg.reply(ar.result(), EventCodec.DELIVERY);
        else msg.reply(ar.result());
        return;
      }
      DomainException problem = toDomain(ar.cause());
      // a 503 because the database is away is reported once by its writers and by readiness, not per request
      if (problem.status() >= 500 && !(ar.cause() instanceof DomainException) && !PgErrors.isTransient(ar.cause())) {
        LOG.error("request failed", kv("address", address), kv("trace_id", msg.headers().get(BusHeaders.TRACE_ID)),
            ar.cause());
      }
      msg.fail(problem.status(), problem.toJson().encode());
    });
  }

  /** Maps any failure to a domain exception; unexpected ones become a 500 without internals. */
  public static DomainException toDomain(Throwable err) {
    if (err instanceof DomainException d) return d;
    if (err instanceof PgException pg) return PgErrors.map(pg);
    if (err instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.TIMEOUT) return DomainException.unavailable("the request timed out");
      if (re.failureType() == ReplyFailure.NO_HANDLERS) return DomainException.unavailable("the service is not available");
      String message = re.getMessage();
      if (message != null && message.startsWith("{")) {
        try {
          return DomainException.fromJson(new JsonObject(message));
        } catch (RuntimeException ignored) {
          // fall through to a generic error
        }
      }
      return new DomainException(re.failureCode() > 0 ? re.failureCode() : 500, "Error", "request failed");
    }
    if (err instanceof io.vertx.core.impl.NoStackTraceTimeoutException || err instanceof java.util.concurrent.TimeoutException) {
      return DomainException.unavailable("the request timed out");
    }
    // connect refused, a reset or closed connection: the database is away, not the request wrong
    if (PgErrors.isTransient(err)) return DomainException.unavailable("the database is not available");
    return new DomainException(500, "Internal Server Error", "an unexpected error occurred; see the server log");
  }
}
