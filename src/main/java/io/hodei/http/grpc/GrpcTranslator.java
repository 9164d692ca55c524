package io.hodei.http.grpc;

import com.google.protobuf.Message;
import io.hodei.common.Bus;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.http.TokenAuthenticator;
import io.hodei.http.TraceContext;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Turns a unary gRPC call into the event-bus request REST sends for the same operation, and the reply (or problem)
 * back into a gRPC message (or status). It authenticates the {@code authorization} metadata like REST, takes the
 * trace id from {@code traceparent} metadata, and always answers with a {@value #TRACE_ID_TRAILER} trailer. The
 * domain decides everything else.
 */
final class GrpcTranslator {
  static final String AUTHORIZATION = "authorization";
  static final String TRACE_ID_TRAILER = "trace-id";
  private static final Logger ACCESS = LoggerFactory.getLogger("hodei.http");
  private static final Logger ERRORS = LoggerFactory.getLogger(GrpcTranslator.class);

  private final Vertx vertx;
  private final TokenAuthenticator authenticator;

  GrpcTranslator(Vertx vertx, TokenAuthenticator authenticator) {
    this.vertx = vertx;
    this.authenticator = authenticator;
  }

  /**
   * A call handler forwarding to {@code address}: {@code envelope} builds the request envelope from the message (see
   * {@link Envelope}), {@code reply} the response message from the domain's JSON reply (see {@link ProtoJson}).
   */
  <Req extends Message, Resp extends Message> Handler<GrpcServerRequest<Req, Resp>> unary(
      String address, Function<Req, JsonObject> envelope, Function<JsonObject, Resp> reply) {
    return call -> {
      long start = System.nanoTime();
      String traceId = TraceContext.traceId(call.headers().get(TraceContext.TRACEPARENT));
      AtomicReference<Caller> caller = new AtomicReference<>();
      call.last()
          .compose(request -> authenticator.authenticate(call.headers().get(AUTHORIZATION), traceId)
              .compose(authenticated -> {
                caller.set(authenticated);
                return Bus.request(vertx, address, envelope.apply(request), authenticated, traceId);
              }))
          .map(reply)
          .onComplete(ar -> {
            GrpcServerResponse<Req, Resp> response = call.response();
            response.trailers().set(TRACE_ID_TRAILER, traceId);
            GrpcStatus status;
            if (ar.succeeded()) {
              status = GrpcStatus.OK;
              response.send(ar.result());
            } else {
              GrpcErrors.Failure failure = GrpcErrors.of(ar.cause());
              status = failure.status();
              // Domain problems were decided (or logged) by the domain; anything else failed here, unexpectedly.
              if (!(ar.cause() instanceof DomainException) && !(ar.cause() instanceof ReplyException)) {
                ERRORS.error("unhandled gRPC failure", kv("trace_id", traceId), kv("method", call.fullMethodName()),
                    ar.cause());
              }
              response.status(status).statusMessage(failure.message()).end();
            }
            Caller who = caller.get();
            ACCESS.info("gRPC {} {}", call.fullMethodName(), status,
                kv("trace_id", traceId), kv("protocol", "grpc"), kv("method", call.fullMethodName()),
                kv("status", status.name()), kv("duration_ms", (System.nanoTime() - start) / 1_000_000.0),
                kv("token_id", who == null ? null : who.tokenId()),
                kv("tenant_id", who == null ? null : who.tenantId()));
          });
    };
  }

  /** The reply mapper of a page: the domain's {@code next_cursor} becomes {@code next_page_token}. */
  static <Resp extends Message> Function<JsonObject, Resp> page(Supplier<Message.Builder> builder) {
    return json -> {
      JsonObject renamed = json.copy();
      Object next = renamed.remove("next_cursor");
      if (next != null) renamed.put("next_page_token", next);
      return ProtoJson.fromJson(renamed, builder.get());
    };
  }

  /** The reply mapper building {@code builder}'s message from the domain's JSON. */
  static <Resp extends Message> Function<JsonObject, Resp> into(Supplier<Message.Builder> builder) {
    return json -> ProtoJson.fromJson(json, builder.get());
  }
}
