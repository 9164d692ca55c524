package io.hodei.http.grpc;

import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.Events;
import io.hodei.grpc.v1.JobEvent;
import io.hodei.grpc.v1.WatchJobsRequest;
import io.hodei.scheduler.SchedulerAddresses;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code JobService/WatchJobs}: the job event log (PostgreSQL {@code job_event}, id = sequence) after
 * {@code from_sequence}, then live, as one server stream.
 *
 * <p>Replay and live are the same loop: read the events after the last sequence sent ({@code hodei.job.events_since},
 * pages of {@value #PAGE}); a full page is followed at once by the next, otherwise the next read is in
 * {@value #POLL_MS} ms, or sooner when a {@code hodei.events.job.*} event of the watched tenant/job arrives (a
 * wake-up only: what is sent always comes from the log). The scheduler draws sequences in commit order, so reading
 * {@code id > last} misses nothing and repeats nothing, and the stream is in sequence order. Live latency is at most
 * about {@value #POLL_MS} ms plus a query. The stream ends when the client cancels (timer and consumers released),
 * or with a status when a read fails (the client resumes with {@code from_sequence} = the last sequence it saw).
 */
final class JobWatch {
  static final long POLL_MS = 250;
  static final int PAGE = 500;
  private static final List<String> WAKE_UPS = List.of(Events.JOB_SUBMITTED, Events.JOB_STARTED, Events.JOB_FINISHED,
      Events.JOB_RETRY);
  /** Streams open now, across servers of this JVM (tests check that cancelled streams let go). */
  static final AtomicInteger OPEN = new AtomicInteger();

  private final GrpcTranslator grpc;

  JobWatch(GrpcTranslator grpc) { this.grpc = grpc; }

  Handler<GrpcServerRequest<WatchJobsRequest, JobEvent>> handler() {
    return call -> {
      Stream stream = new Stream(grpc.vertx(), call);
      call.errorHandler(error -> stream.close(GrpcStatus.CANCELLED));
      call.exceptionHandler(error -> stream.close(GrpcStatus.CANCELLED));
      call.response().exceptionHandler(error -> stream.close(GrpcStatus.CANCELLED));
      // at the call's grpc-timeout the server ends it with DEADLINE_EXCEEDED; the stream lets go of its resources
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
    private final GrpcServerRequest<WatchJobsRequest, JobEvent> call;
    private final String traceId;
    private final long startNanos = System.nanoTime();
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    private Caller caller;
    private String jobId;
    private String tenantId;
    private long last;
    private boolean started;
    private boolean closed;
    private boolean reading;
    private boolean wakeUp;
    private long timer = -1;

    Stream(Vertx vertx, GrpcServerRequest<WatchJobsRequest, JobEvent> call) {
      this.vertx = vertx;
      this.call = call;
      this.traceId = GrpcTranslator.traceId(call);
    }

    void start(WatchJobsRequest request, Caller who) {
      if (closed) return;
      caller = who;
      jobId = request.getJobId().isEmpty() ? null : request.getJobId();
      tenantId = request.getTenantId().isEmpty() ? null : request.getTenantId();
      last = Math.max(0, request.getFromSequence());
      started = true;
      OPEN.incrementAndGet();
      call.response().trailers().set(GrpcTranslator.TRACE_ID_TRAILER, traceId);
      for (String type : WAKE_UPS) {
        consumers.add(vertx.eventBus().<JsonObject>consumer(Events.address(type), message -> {
          JsonObject event = message.body();
          if (matches(event.getString("tenant_id"), event.getString("job_id"))) wake();
        }));
      }
      read();
    }

    /** Whether an event may concern this stream (the domain decides what the caller may actually see). */
    private boolean matches(String eventTenant, String eventJob) {
      if (jobId != null && !jobId.equals(eventJob)) return false;
      String tenant = tenantId != null ? tenantId : caller.tenantId();
      return tenant == null || tenant.equals(eventTenant);
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
      JsonObject query = new JsonObject().put("after", Long.toString(last)).put("limit", Integer.toString(PAGE));
      if (jobId != null) query.put("job", jobId);
      if (tenantId != null) query.put("tenant", tenantId);
      GrpcTranslator.Call bus = new GrpcTranslator.Call(vertx, caller, traceId);
      bus.request(SchedulerAddresses.EVENTS_SINCE, BusRequest.envelope(new JsonObject(), query, new JsonObject(),
          null)).onComplete(ar -> {
            reading = false;
            if (closed) return;
            if (ar.failed()) {
              fail(ar.cause());
              return;
            }
            JsonArray items = ar.result().getJsonArray("items", new JsonArray());
            try {
              for (Object item : items) {
                JsonObject e = (JsonObject) item;
                long sequence = e.getLong("sequence");
                if (sequence <= last) continue;
                last = sequence;
                Object detail = e.getValue("detail");
                call.response().write(JobEvent.newBuilder().setSequence(sequence).setJobId(e.getString("job_id"))
                    .setTenantId(e.getString("tenant_id")).setState(e.getString("state"))
                    .setAt(e.getString("at", "")).setDetail(detail == null ? "{}" : detail.toString()).build())
                    .onFailure(err -> close(GrpcStatus.CANCELLED));
              }
            } catch (IllegalStateException gone) {
              close(GrpcStatus.CANCELLED); // the client went away between two events
              return;
            }
            next(items.size() >= PAGE || wakeUp);
          });
    }

    /** Reads again now (more is waiting) or after the poll interval; a slow client is waited for first. */
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
        timer = vertx.setTimer(POLL_MS, id -> read());
      }
    }

    void fail(Throwable cause) {
      if (closed) return;
      call.response().trailers().set(GrpcTranslator.TRACE_ID_TRAILER, traceId);
      GrpcStatus status = GrpcStatus.CANCELLED;
      try {
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
      if (started) OPEN.decrementAndGet();
      GrpcTranslator.access(call, status, traceId, startNanos, caller);
    }
  }
}
