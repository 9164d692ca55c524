package io.hodei.http.grpc;

import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.Events;
import io.hodei.grpc.v1.JobLog;
import io.hodei.grpc.v1.StreamJobLogsRequest;
import io.hodei.scheduler.SchedulerAddresses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code JobService/StreamJobLogs}: a job's output, one message per attempt, as each attempt's output is stored
 * (the scheduler stores it with the attempt's end, in the same transaction). Without {@code follow} the stream
 * sends what is stored and ends; with it, it reads again every {@value #POLL_MS} ms, or at once when the job
 * finishes or is retried, and ends OK once the job is final and its last output sent. The job's state is read
 * before its output, so the output of a final job's last attempt is always in the read that sees it final.
 */
final class JobLogStream {
  static final long POLL_MS = 500;
  private static final List<String> WAKE_UPS = List.of(Events.JOB_FINISHED, Events.JOB_RETRY);

  private final GrpcTranslator grpc;

  JobLogStream(GrpcTranslator grpc) { this.grpc = grpc; }

  Handler<GrpcServerRequest<StreamJobLogsRequest, JobLog>> handler() {
    return call -> {
      Stream stream = new Stream(grpc.vertx(), call);
      call.exceptionHandler(error -> stream.close(GrpcStatus.CANCELLED));
      call.response().exceptionHandler(error -> stream.close(GrpcStatus.CANCELLED));
      if (call.deadline() != null) call.deadline().onSuccess(v -> stream.close(GrpcStatus.DEADLINE_EXCEEDED));
      call.last()
          .compose(request -> GrpcTranslator.refuseNul(request)
              .compose(v -> grpc.authenticate(call, stream.traceId))
              .map(caller -> {
                stream.start(request, caller);
                return null;
              }))
          .onFailure(stream::fail);
    };
  }

  private static final class Stream {
    private final Vertx vertx;
    private final GrpcServerRequest<StreamJobLogsRequest, JobLog> call;
    private final String traceId;
    private final long startNanos = System.nanoTime();
    private final Set<Integer> sent = new HashSet<>();
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    private GrpcTranslator.Call bus;
    private String id;
    private boolean follow;
    private boolean closed;
    private boolean reading;
    private boolean wakeUp;
    private long timer = -1;

    Stream(Vertx vertx, GrpcServerRequest<StreamJobLogsRequest, JobLog> call) {
      this.vertx = vertx;
      this.call = call;
      this.traceId = GrpcTranslator.traceId(call);
    }

    void start(StreamJobLogsRequest request, Caller caller) {
      if (closed) return;
      bus = new GrpcTranslator.Call(vertx, caller, traceId);
      id = request.getId();
      follow = request.getFollow();
      call.response().trailers().set(GrpcTranslator.TRACE_ID_TRAILER, traceId);
      if (follow) {
        for (String type : WAKE_UPS) {
          consumers.add(vertx.eventBus().<JsonObject>consumer(Events.address(type), message -> {
            if (id.equals(message.body().getString("job_id"))) wake();
          }));
        }
      }
      read();
    }

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
      JsonObject byId = BusRequest.envelope(new JsonObject().put("id", id), new JsonObject(), new JsonObject(), null);
      Future<JsonObject> job = bus.request(SchedulerAddresses.GET, byId);
      job.compose(j -> bus.request(SchedulerAddresses.LOGS, byId)).onComplete(ar -> {
        reading = false;
        if (closed) return;
        if (ar.failed()) {
          fail(ar.cause());
          return;
        }
        try {
          for (Object item : ar.result().getJsonArray("attempts", new JsonArray())) {
            JsonObject attempt = (JsonObject) item;
            int number = attempt.getInteger("attempt", 0);
            if (!sent.add(number)) continue;
            call.response().write(JobLog.newBuilder().setJobId(id).setAttempt(number)
                .setLog(TypedEvents.text(attempt, "log")).setAt(TypedEvents.text(attempt, "at")).build())
                .onFailure(err -> close(GrpcStatus.CANCELLED));
          }
        } catch (IllegalStateException gone) {
          close(GrpcStatus.CANCELLED);
          return;
        }
        if (!follow || TypedEvents.FINAL.contains(job.result().getString("state"))) {
          end();
        } else if (wakeUp) {
          vertx.runOnContext(v -> read());
        } else {
          timer = vertx.setTimer(POLL_MS, t -> read());
        }
      });
    }

    private void end() {
      try {
        call.response().end();
      } catch (IllegalStateException gone) {
        close(GrpcStatus.CANCELLED);
        return;
      }
      close(GrpcStatus.OK);
    }

    void fail(Throwable cause) {
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

    void close(GrpcStatus status) {
      if (closed) return;
      closed = true;
      if (timer >= 0) vertx.cancelTimer(timer);
      timer = -1;
      consumers.forEach(MessageConsumer::unregister);
      consumers.clear();
      GrpcTranslator.access(call, status, traceId, startNanos, bus == null ? null : bus.caller());
    }
  }
}
