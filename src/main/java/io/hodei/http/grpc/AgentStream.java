package io.hodei.http.grpc;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.grpc.v1.AgentMessage;
import io.hodei.grpc.v1.AgentServiceGrpcService;
import io.hodei.grpc.v1.Registered;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.http.AuthFailureLimiter;
import io.hodei.pool.provider.agent.AgentAddresses;
import io.hodei.tenant.TenantAddresses;
import io.hodei.tenant.Tokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;
import java.util.Base64;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * {@code hodei.v1.AgentService/Connect}: holds an agent's stream and relays it to the agent provider over the
 * event bus ({@link AgentAddresses}); the provider decides everything. The {@code authorization} metadata must carry
 * an agent token (API tokens are refused); the first message must be {@code Register}, for the token's pool.
 *
 * <p>Flow control: at most {@value #MAX_IN_FLIGHT} agent messages wait for the provider; beyond that the stream is
 * paused, so HTTP/2 flow control pushes back on the agent instead of this server buffering without bound. What the
 * server sends (assignments, kills, acks) is bounded by the agent's slots.
 */
final class AgentStream {
  private static final Logger LOG = LoggerFactory.getLogger(AgentStream.class);
  static final int MAX_IN_FLIGHT = 64;
  private static final int RESUME_AT = 16;

  private AgentStream() {}

  /** {@code limiter}: failed agent tokens count per remote address like failed API tokens. */
  static Service service(Vertx vertx, AuthFailureLimiter limiter) {
    return Service.service(AgentServiceGrpcService.SERVICE_NAME, AgentServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(AgentServiceGrpcService.Connect, call -> new Session(vertx, limiter, call).start())
        .build();
  }

  private static final class Session {
    private final Vertx vertx;
    private final AuthFailureLimiter limiter;
    private final GrpcServerRequest<AgentMessage, ServerMessage> call;
    private final String id = UUID.randomUUID().toString();
    private final String traceId;
    private String poolId;
    private boolean registered;
    private boolean registering;
    private boolean ended;
    private int inFlight;
    private boolean paused;
    private MessageConsumer<Buffer> outbound;
    /** On a cluster: the new leader's call to end this stream (see {@link AgentAddresses#RESET}). */
    private MessageConsumer<JsonObject> reset;

    Session(Vertx vertx, AuthFailureLimiter limiter, GrpcServerRequest<AgentMessage, ServerMessage> call) {
      this.vertx = vertx;
      this.limiter = limiter;
      this.call = call;
      this.traceId = GrpcTranslator.traceId(call);
    }

    void start() {
      call.pause();
      call.handler(this::onMessage);
      call.endHandler(v -> finish(GrpcStatus.OK, null));
      call.exceptionHandler(err -> finish(null, null));
      call.errorHandler(err -> finish(null, null));
      call.response().exceptionHandler(err -> finish(null, null));
      // a stream never ends by itself: on shutdown end it, so the agent reconnects (to this server once it is back)
      if (call.connection() != null) {
        call.connection().shutdownHandler(v -> finish(GrpcStatus.UNAVAILABLE, "the server is shutting down"));
      }
      String header = call.headers().get(GrpcTranslator.AUTHORIZATION);
      if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)
          || header.length() > 600) {
        fail(DomainException.unauthorized("send the agent token as 'authorization: Bearer <token>' metadata"));
        return;
      }
      String address = remoteHost();
      DomainException limited = limiter.refuseEarly(address);
      if (limited != null) {
        // an address that guessed too often is refused without looking its token up
        fail(limited);
        return;
      }
      JsonObject envelope = BusRequest.envelope(new JsonObject(), new JsonObject(),
          new JsonObject().put("token_hash", Tokens.hash(header.substring(7).trim())), null);
      Bus.request(vertx, TenantAddresses.AUTHENTICATE_AGENT, envelope, Caller.system(), traceId).onComplete(ar -> {
        if (ended) return;
        if (ar.failed()) {
          LOG.warn("agent stream refused: bad token", kv("trace_id", traceId), kv("remote", remote()));
          fail(ar.cause() instanceof DomainException d && d.status() == 401 ? limiter.failed(address, d)
              : ar.cause());
          return;
        }
        poolId = ar.result().getString("pool_id");
        call.fetch(1);
      });
    }

    private void onMessage(AgentMessage message) {
      if (ended) return;
      if (!registered) {
        if (registering) return;
        if (message.getKindCase() != AgentMessage.KindCase.REGISTER) {
          fail(DomainException.badRequest("the first message on the stream must be Register"));
          return;
        }
        register(message);
        return;
      }
      inFlight++;
      if (inFlight >= MAX_IN_FLIGHT && !paused) {
        paused = true;
        call.pause();
      }
      vertx.eventBus().request(AgentAddresses.INBOUND, Buffer.buffer(message.toByteArray()),
          new DeliveryOptions().addHeader(AgentAddresses.SESSION, id)).onComplete(ar -> {
            inFlight--;
            if (ar.failed() && vertx.isClustered() && ar.cause() instanceof ReplyException re
                && re.failureType() == ReplyFailure.NO_HANDLERS) {
              // the leader that served this stream is gone: the agent registers again (with the next leader)
              finish(GrpcStatus.UNAVAILABLE, "the cluster's leader changed; connect again");
              return;
            }
            if (paused && inFlight <= RESUME_AT && !ended) {
              paused = false;
              call.resume();
            }
          });
    }

    private void register(AgentMessage message) {
      registering = true;
      // cluster-wide: on a cluster the agent provider talks to this stream from the leader
      outbound = vertx.eventBus().consumer(AgentAddresses.session(id), this::toAgent);
      if (vertx.isClustered()) {
        reset = vertx.eventBus().consumer(AgentAddresses.RESET,
            m -> finish(GrpcStatus.UNAVAILABLE, "the cluster's leader changed; connect again"));
      }
      JsonObject body = new JsonObject().put("session", id).put("token_pool_id", poolId)
          .put("register", Base64.getEncoder().encodeToString(message.getRegister().toByteArray()));
      outbound.completion().compose(v -> vertx.eventBus().<JsonObject>request(AgentAddresses.REGISTER, body))
          .onComplete(ar -> {
            registering = false;
            if (ended) {
              if (ar.succeeded()) disconnected();
              return;
            }
            if (ar.failed()) {
              fail(ar.cause());
              return;
            }
            registered = true;
            try {
              Registered registeredMessage = Registered.parseFrom(Base64.getDecoder()
                  .decode(ar.result().body().getString("registered")));
              call.response().write(ServerMessage.newBuilder().setRegistered(registeredMessage).build());
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
              fail(e);
              return;
            }
            call.resume();
          });
    }

    private void toAgent(Message<Buffer> message) {
      if (ended) return;
      String close = message.headers().get(AgentAddresses.CLOSE);
      if (close != null) {
        finish(GrpcStatus.UNAVAILABLE, close);
        return;
      }
      try {
        call.response().write(ServerMessage.parseFrom(message.body().getBytes()));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        LOG.error("unreadable message for an agent dropped", kv("trace_id", traceId));
      }
    }

    private void fail(Throwable cause) {
      if (ended) return;
      ended = true;
      release();
      call.response().trailers().set(GrpcTranslator.TRACE_ID_TRAILER, traceId);
      GrpcTranslator.fail(call, traceId, cause);
    }

    /** Ends the session; with a status the call is ended too (null: the connection is already gone). */
    private void finish(GrpcStatus status, String message) {
      if (ended) return;
      ended = true;
      release();
      if (registered) disconnected();
      if (status != null) {
        try {
          if (message != null) call.response().statusMessage(message);
          call.response().status(status).end();
        } catch (IllegalStateException alreadyEnded) {
          // the call ended under us
        }
      }
    }

    private void disconnected() {
      vertx.eventBus().send(AgentAddresses.DISCONNECTED, new JsonObject().put("session", id));
    }

    private void release() {
      if (outbound != null) outbound.unregister();
      if (reset != null) reset.unregister();
    }

    private String remoteHost() {
      return call.connection() == null || call.connection().remoteAddress() == null ? null
          : call.connection().remoteAddress().hostAddress();
    }

    private String remote() {
      return call.connection() == null || call.connection().remoteAddress() == null ? null
          : call.connection().remoteAddress().toString();
    }
  }
}
