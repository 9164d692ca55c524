package io.hodei.http.grpc;

import io.hodei.common.BusRequest;
import io.hodei.common.Events;
import io.hodei.grpc.v1.JobLog;
import io.hodei.grpc.v1.StreamJobLogsRequest;
import io.hodei.scheduler.SchedulerAddresses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code JobService/StreamJobLogs}: a job's output, one message per attempt, as each attempt's output is stored
 * (the scheduler stores it with the attempt's end, in the same transaction). With {@code follow}, the output so far
 * of the attempt that runs is also sent, again each time it grew, before its stored log. Without {@code follow} the stream
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
      stream.open(grpc, (request, caller) -> {
        stream.start(request);
        return Future.succeededFuture();
      });
    };
  }

  private static final class Stream extends PolledStream<StreamJobLogsRequest, JobLog> {
    private final Set<Integer> sent = new HashSet<>();
    private final java.util.Map<Integer, String> liveSent = new java.util.HashMap<>();
    private String id;
    private boolean follow;

    Stream(Vertx vertx, GrpcServerRequest<StreamJobLogsRequest, JobLog> call) {
      super(vertx, call, POLL_MS);
    }

    void start(StreamJobLogsRequest request) {
      id = request.getId();
      follow = request.getFollow();
      if (follow) {
        for (String type : WAKE_UPS) wakeOn(Events.address(type), event -> id.equals(event.getString("job_id")));
      }
      begin();
    }

    @Override
    protected Future<Next> readOnce() {
      GrpcTranslator.Call bus = new GrpcTranslator.Call(vertx, caller, traceId);
      JsonObject byId = BusRequest.envelope(new JsonObject().put("id", id), new JsonObject(), new JsonObject(), null);
      Future<JsonObject> job = bus.request(SchedulerAddresses.GET, byId);
      return job.compose(j -> bus.request(SchedulerAddresses.LOGS, byId)).map(logs -> {
        for (Object item : logs.getJsonArray("attempts", new JsonArray())) {
          JsonObject attempt = (JsonObject) item;
          int number = attempt.getInteger("attempt", 0);
          if (attempt.getBoolean("live", false)) {
            // output so far of the attempt that runs: sent again each time it grew, until its stored log comes
            String log = TypedEvents.text(attempt, "log");
            if (!follow || sent.contains(number) || log.equals(liveSent.put(number, log))) continue;
          } else if (!sent.add(number)) {
            continue;
          }
          if (!send(JobLog.newBuilder().setJobId(id).setAttempt(number).setLog(TypedEvents.text(attempt, "log"))
              .setAt(TypedEvents.text(attempt, "at")).build())) {
            return Next.END;
          }
        }
        return !follow || TypedEvents.FINAL.contains(job.result().getString("state")) ? Next.END : Next.LATER;
      });
    }
  }
}
