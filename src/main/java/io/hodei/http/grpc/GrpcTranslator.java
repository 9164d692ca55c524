package io.hodei.http.grpc;

import com.google.protobuf.Message;
import io.hodei.common.Bus;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Role;
import io.hodei.http.TokenAuthenticator;
import io.hodei.http.TraceContext;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
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
  static final String GRPC_MESSAGE = "grpc-message";
  /** A google.rpc.Status with a google.rpc.BadRequest detail when the domain named invalid fields. */
  static final String STATUS_DETAILS = "grpc-status-details-bin";
  private static final Logger ACCESS = LoggerFactory.getLogger("hodei.http");
  private static final Logger ERRORS = LoggerFactory.getLogger(GrpcTranslator.class);
  /** The caller of calls that need no token (as REST's public routes). */
  static final Caller ANONYMOUS = new Caller("anonymous", Role.VIEWER, null);

  private final Vertx vertx;
  private final TokenAuthenticator authenticator;

  GrpcTranslator(Vertx vertx, TokenAuthenticator authenticator) {
    this.vertx = vertx;
    this.authenticator = authenticator;
  }

  /** What a call's handler works with: who calls, the trace id, and event-bus requests on the caller's behalf. */
  record Call(Vertx vertx, Caller caller, String traceId) {
    Future<JsonObject> request(String address, JsonObject envelope) {
      return Bus.request(vertx, address, envelope, caller, traceId);
    }
  }

  /**
   * A call handler forwarding to {@code address}: {@code envelope} builds the request envelope from the message (see
   * {@link Envelope}), {@code reply} the response message from the domain's JSON reply (see {@link ProtoJson}).
   */
  <Req extends Message, Resp extends Message> Handler<GrpcServerRequest<Req, Resp>> unary(
      String address, Function<Req, JsonObject> envelope, Function<JsonObject, Resp> reply) {
    return unary(true, (call, request) -> call.request(address, envelope.apply(request)).map(reply));
  }

  /**
   * A unary call handler doing {@code handler}'s work (for calls that are more than one forward). With
   * {@code authenticated} false no token is needed and the caller is anonymous (a viewer of nothing in particular),
   * like the public REST routes.
   */
  <Req extends Message, Resp extends Message> Handler<GrpcServerRequest<Req, Resp>> unary(
      boolean authenticated, BiFunction<Call, Req, Future<Resp>> handler) {
    return call -> {
      long start = System.nanoTime();
      String traceId = traceId(call);
      AtomicReference<Caller> caller = new AtomicReference<>();
      call.last()
          .compose(request -> refuseNul(request)
              .compose(v -> authenticated ? authenticate(call, traceId) : Future.succeededFuture(ANONYMOUS))
              .compose(who -> {
                caller.set(who);
                return handler.apply(new Call(vertx, who, traceId), request);
              }))
          .onComplete(ar -> {
            GrpcServerResponse<Req, Resp> response = call.response();
            response.trailers().set(TRACE_ID_TRAILER, traceId);
            GrpcStatus status;
            if (pastDeadline(call)) {
              status = GrpcStatus.DEADLINE_EXCEEDED; // already answered by the server at the deadline
            } else if (ar.succeeded()) {
              status = GrpcStatus.OK;
              response.send(ar.result());
            } else {
              status = fail(call, traceId, ar.cause());
            }
            access(call, status, traceId, start, caller.get());
          });
    };
  }

  Vertx vertx() { return vertx; }

  /** Whether the call's grpc-timeout has passed (the server then ended it with DEADLINE_EXCEEDED). */
  static boolean pastDeadline(GrpcServerRequest<?, ?> call) {
    return call.deadline() != null && call.deadline().isComplete();
  }

  /**
   * Fails with a 400 (INVALID_ARGUMENT) when a string anywhere in {@code message} (map keys and nested messages
   * included) holds a NUL, which PostgreSQL text cannot store; REST refuses the same at its edge (HostileInput).
   */
  static Future<Void> refuseNul(Message message) {
    return hasNul(message)
        ? Future.failedFuture(DomainException.badRequest("a string field contains a NUL character"))
        : Future.succeededFuture();
  }

  private static boolean hasNul(Object value) {
    if (value instanceof String s) return s.indexOf('\0') >= 0;
    if (value instanceof java.util.List<?> list) return list.stream().anyMatch(GrpcTranslator::hasNul);
    if (value instanceof Message message) {
      return message.getAllFields().values().stream().anyMatch(GrpcTranslator::hasNul);
    }
    return false;
  }

  /**
   * The trace id of a call: its server span's (see {@link GrpcGateway#DISPATCHING_TRACE_ID}), else continued from a
   * valid {@code traceparent} metadata entry, else new.
   */
  static String traceId(GrpcServerRequest<?, ?> call) {
    String dispatching = GrpcGateway.DISPATCHING_TRACE_ID.get();
    if (dispatching != null) return dispatching;
    return TraceContext.traceId(call.headers().get(TraceContext.TRACEPARENT));
  }

  /** The caller of the {@code authorization} metadata, resolved like REST (fails UNAUTHENTICATED otherwise). */
  Future<Caller> authenticate(GrpcServerRequest<?, ?> call, String traceId) {
    io.vertx.core.net.SocketAddress remote = call.connection() == null ? null : call.connection().remoteAddress();
    return authenticator.authenticate(call.headers().get(AUTHORIZATION), traceId,
        remote == null ? null : remote.hostAddress());
  }

  /**
   * Ends the call with the gRPC status of {@code cause} (and its message), logging failures that were not the
   * domain's decision. The trace id trailer must already be set.
   */
  static GrpcStatus fail(GrpcServerRequest<?, ?> call, String traceId, Throwable cause) {
    GrpcErrors.Failure failure = GrpcErrors.of(cause);
    // Domain problems were decided (or logged) by the domain; anything else failed here, unexpectedly.
    if (!(cause instanceof DomainException) && !(cause instanceof ReplyException)) {
      ERRORS.error("unhandled gRPC failure", kv("trace_id", traceId), kv("method", call.fullMethodName()), cause);
    }
    // Sent as a trailer of ours, encoded as the spec says (printable ASCII as is); the server library's status
    // message would percent-encode every character but letters and digits.
    call.response().trailers().set(GRPC_MESSAGE, GrpcErrors.percentEncode(failure.message()));
    String details = failure.details();
    if (details != null) call.response().trailers().set(STATUS_DETAILS, details);
    call.response().status(failure.status()).end();
    return failure.status();
  }

  /** The access log line of a finished call (one per call, like REST requests). */
  static void access(GrpcServerRequest<?, ?> call, GrpcStatus status, String traceId, long startNanos, Caller who) {
    ACCESS.info("gRPC {} {}", call.fullMethodName(), status,
        kv("trace_id", traceId), kv("protocol", "grpc"), kv("method", call.fullMethodName()),
        kv("status", status.name()), kv("duration_ms", (System.nanoTime() - startNanos) / 1_000_000.0),
        kv("token_id", who == null ? null : who.tokenId()),
        kv("tenant_id", who == null ? null : who.tenantId()));
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
