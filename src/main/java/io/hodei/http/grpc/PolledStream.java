package io.hodei.http.grpc;

import com.google.protobuf.Message;
import io.hodei.common.Caller;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * A server stream that reads the database in a loop (WatchJobs, StreamJobLogs): one read at a time; the next at once
 * when more is waiting, else after the poll interval or sooner when a domain event that concerns the stream arrives
 * (a wake-up only: what is sent always comes from the read). A slow client is waited for before the next read.
 *
 * <p>The stream ends when its read says so (OK), when the client cancels or goes away (CANCELLED), at the call's
 * deadline (DEADLINE_EXCEEDED, sent by the server) or with the status of a failed read. Its timer and event
 * consumers are released however it ends, and one access log line is written.
 */
abstract class PolledStream<Req extends Message, Resp extends Message> {
  /** What a read asks for next. */
  enum Next { NOW, LATER, END }

  protected final Vertx vertx;
  protected final GrpcServerRequest<Req, Resp> call;
  protected final String traceId;
  private final long pollMillis;
  private final long startNanos = System.nanoTime();
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  protected Caller caller;
  private boolean closed;
  private boolean reading;
  private boolean wakeUp;
  private long timer = -1;

  PolledStream(Vertx vertx, GrpcServerRequest<Req, Resp> call, long pollMillis) {
    this.vertx = vertx;
    this.call = call;
    this.pollMillis = pollMillis;
    this.traceId = GrpcTranslator.traceId(call);
  }

  /**
   * Reads the request, authenticates its caller, then hands over to {@code start} (which validates the request and
   * begins reading); a failure of any step ends the call with its status.
   */
  final void open(GrpcTranslator grpc, BiFunction<Req, Caller, Future<Void>> start) {
    call.errorHandler(error -> close(GrpcStatus.CANCELLED));
    call.exceptionHandler(error -> close(GrpcStatus.CANCELLED));
    call.response().exceptionHandler(error -> close(GrpcStatus.CANCELLED));
    // at the call's grpc-timeout the server ends it with DEADLINE_EXCEEDED; the stream lets go of its resources
    if (call.deadline() != null) call.deadline().onSuccess(v -> close(GrpcStatus.DEADLINE_EXCEEDED));
    call.last()
        .compose(request -> GrpcTranslator.refuseNul(request)
            .compose(v -> grpc.authenticate(call, traceId))
            .compose(who -> {
              caller = who;
              return start.apply(request, who);
            }))
        .onFailure(this::fail);
  }

  /** Starts the read loop (the trace id trailer is set now, so every ending carries it). */
  protected final void begin() {
    if (closed) return;
    call.response().trailers().set(GrpcTranslator.TRACE_ID_TRAILER, traceId);
    read();
  }

  /** Wakes the loop when an event published at {@code address} and accepted by {@code concerns} arrives. */
  protected final void wakeOn(String address, Predicate<JsonObject> concerns) {
    consumers.add(vertx.eventBus().<JsonObject>consumer(address, message -> {
      if (concerns.test(message.body())) wake();
    }));
  }

  protected final boolean closed() { return closed; }

  /**
   * One read: writes what it found (with {@link #send}) and says what next. Called on the stream's context, never
   * while another read runs.
   */
  protected abstract Future<Next> readOnce();

  /** Sends one message; false when the client is gone (the stream is then closed as CANCELLED). */
  protected final boolean send(Resp message) {
    try {
      call.response().write(message).onFailure(err -> close(GrpcStatus.CANCELLED));
      return true;
    } catch (IllegalStateException gone) {
      close(GrpcStatus.CANCELLED); // the client went away between two messages
      return false;
    }
  }

  /** Called once when the stream ends, however it ends. */
  protected void released() {}

  private void wake() {
    if (closed) return;
    if (reading) {
      wakeUp = true;
    } else if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
      read();
    }
  }

  private void read() {
    if (closed) return;
    timer = -1;
    reading = true;
    wakeUp = false;
    readOnce().onComplete(ar -> {
      reading = false;
      if (closed) return;
      if (ar.failed()) {
        fail(ar.cause());
      } else if (ar.result() == Next.END) {
        end();
      } else {
        next(ar.result() == Next.NOW || wakeUp);
      }
    });
  }

  /** Reads again now or after the poll interval; a slow client is waited for first. */
  private void next(boolean now) {
    if (closed) return;
    if (call.response().writeQueueFull()) {
      call.response().drainHandler(v -> {
        call.response().drainHandler(null);
        next(now);
      });
      return;
    }
    if (now) {
      vertx.runOnContext(v -> read());
    } else {
      timer = vertx.setTimer(pollMillis, id -> read());
    }
  }

  /** Ends the stream by itself, with OK. */
  private void end() {
    try {
      call.response().end();
    } catch (IllegalStateException gone) {
      close(GrpcStatus.CANCELLED);
      return;
    }
    close(GrpcStatus.OK);
  }

  final void fail(Throwable cause) {
    if (closed) return;
    GrpcStatus status = GrpcStatus.CANCELLED;
    try {
      call.response().trailers().set(GrpcTranslator.TRACE_ID_TRAILER, traceId);
      status = GrpcTranslator.fail(call, traceId, cause);
    } catch (IllegalStateException e) {
      // the stream is already gone
    }
    close(status);
  }

  final void close(GrpcStatus status) {
    if (closed) return;
    closed = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
    consumers.forEach(MessageConsumer::unregister);
    consumers.clear();
    released();
    GrpcTranslator.access(call, status, traceId, startNanos, caller);
  }
}
