package io.hodei.http.grpc;

import io.hodei.grpc.v1.GetJobRequest;
import io.hodei.grpc.v1.Job;
import io.hodei.grpc.v1.JobEventList;
import io.hodei.grpc.v1.JobRun;
import io.hodei.grpc.v1.JobRunList;
import io.hodei.grpc.v1.JobServiceGrpcService;
import io.hodei.grpc.v1.JobSla;
import io.hodei.grpc.v1.ListJobsResponse;
import io.hodei.grpc.v1.QueueStatus;
import io.hodei.grpc.v1.QuotaCheck;
import io.hodei.grpc.v1.SubmitJobRequest;
import io.hodei.grpc.v1.SubmitJobsRequest;
import io.hodei.grpc.v1.SubmitJobsResponse;
import io.hodei.scheduler.SchedulerAddresses;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.Service;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import static io.hodei.http.grpc.GrpcTranslator.into;

/**
 * gRPC surface of the scheduler ({@code hodei.v1.JobService}); the REST twin is JobRoutes. {@code payload} travels
 * as JSON object text; SubmitJob's {@code idempotency_key} is sent as the request's key (REST's Idempotency-Key).
 * Every Job and JobEvent also carries its state as the {@code JobState} enum.
 */
final class JobGrpc {
  private static final String ID = "id";
  private static final String PAYLOAD = "payload";

  private JobGrpc() {}

  static Service service(GrpcTranslator grpc) {
    return Service.service(JobServiceGrpcService.SERVICE_NAME, JobServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(JobServiceGrpcService.SubmitJob, grpc.unary(SchedulerAddresses.SUBMIT, JobGrpc::submission,
            JobGrpc::job))
        .bind(JobServiceGrpcService.SubmitJobs, grpc.unary(true, (call, request) -> request.getEach()
            ? JobBulk.submitEach(call, request)
            : call.request(SchedulerAddresses.SUBMIT_BATCH, batch(request)).map(jobs(SubmitJobsResponse::newBuilder))))
        .bind(JobServiceGrpcService.GetJob, grpc.unary(SchedulerAddresses.GET, JobGrpc::byId, JobGrpc::job))
        .bind(JobServiceGrpcService.CancelJob, grpc.unary(SchedulerAddresses.CANCEL, JobGrpc::byId, JobGrpc::job))
        .bind(JobServiceGrpcService.ListJobs, grpc.unary(SchedulerAddresses.LIST,
            r -> Envelope.of(r).query("state", "state").query("tenant_id", "tenant").query("pool_id", "pool")
                .query("page_size", "limit").query("page_token", "cursor").build(),
            json -> GrpcTranslator.<ListJobsResponse>page(ListJobsResponse::newBuilder).apply(withJobStates(json))))
        .bind(JobServiceGrpcService.WatchJobs, new JobWatch(grpc).handler())
        .bind(JobServiceGrpcService.CancelJobs, grpc.unary(true, JobBulk::cancel))
        .bind(JobServiceGrpcService.ReprioritizeJobs, grpc.unary(true, JobBulk::reprioritize))
        .bind(JobServiceGrpcService.GetJobEvents, grpc.unary(SchedulerAddresses.EVENTS, JobGrpc::byId,
            JobGrpc::events))
        .bind(JobServiceGrpcService.GetJobRuns, grpc.unary(true, JobGrpc::runs))
        .bind(JobServiceGrpcService.StreamJobLogs, new JobLogStream(grpc).handler())
        .bind(JobServiceGrpcService.GetJobSla, grpc.unary(SchedulerAddresses.SLA, JobGrpc::byId,
            into(JobSla::newBuilder)))
        .bind(JobServiceGrpcService.GetQueueStatus, grpc.unary(SchedulerAddresses.QUEUE_STATUS,
            r -> Envelope.of(r).build(), into(QueueStatus::newBuilder)))
        .bind(JobServiceGrpcService.CheckQuota, grpc.unary(SchedulerAddresses.QUOTA_ENFORCE,
            r -> Envelope.of(r).build(), into(QuotaCheck::newBuilder)))
        .build();
  }

  private static JsonObject byId(com.google.protobuf.Message request) {
    return Envelope.of(request).param("id", ID).build();
  }

  /** The SubmitJob envelope of one submission (SubmitJob itself, or one of SubmitJobs with each). */
  static JsonObject submission(SubmitJobRequest request) {
    return Envelope.of(request).jsonObject(PAYLOAD).idempotencyKey("idempotency_key").build();
  }

  /** A job of the domain's JSON, with its state as the enum too. */
  static Job job(JsonObject json) {
    return ProtoJson.fromJson(withJobState(json.copy()), Job.newBuilder());
  }

  private static JsonObject withJobState(JsonObject job) {
    return job.put("job_state", TypedEvents.state(job.getString("state")).name());
  }

  /** A reply whose {@code items} are jobs, each with its state as the enum too. */
  private static JsonObject withJobStates(JsonObject reply) {
    JsonObject copy = reply.copy();
    for (Object item : copy.getJsonArray("items", new JsonArray())) {
      if (item instanceof JsonObject job) withJobState(job);
    }
    return copy;
  }

  private static <T extends com.google.protobuf.Message> Function<JsonObject, T> jobs(
      java.util.function.Supplier<com.google.protobuf.Message.Builder> builder) {
    return json -> ProtoJson.fromJson(withJobStates(json), builder.get());
  }

  /** {@code {"jobs": [...]}} with each submission's payload text turned into the object the domain expects. */
  private static JsonObject batch(SubmitJobsRequest request) {
    Envelope envelope = Envelope.of(request);
    JsonArray jobs = envelope.body().getJsonArray("jobs");
    if (jobs != null) {
      for (Object job : jobs) {
        if (job instanceof JsonObject submission) Envelope.jsonObject(submission, PAYLOAD);
      }
    }
    return envelope.build();
  }

  /** REST's {@code {job_id, items: [{seq, state, detail, at}]}} as typed events. */
  private static JobEventList events(JsonObject reply) {
    String jobId = TypedEvents.text(reply, "job_id");
    JobEventList.Builder list = JobEventList.newBuilder().setJobId(jobId);
    for (Object item : reply.getJsonArray("items", new JsonArray())) {
      JsonObject e = (JsonObject) item;
      list.addItems(TypedEvents.of(e.copy().put("sequence", e.getLong("seq", 0L)).put("job_id", jobId)));
    }
    return list.build();
  }

  /**
   * One run per attempt, from the job's events (admitted and running open an attempt, a retry or a final state
   * ends it) and its stored output.
   */
  private static Future<JobRunList> runs(GrpcTranslator.Call call, GetJobRequest request) {
    JsonObject envelope = byId(request);
    Future<JsonObject> events = call.request(SchedulerAddresses.EVENTS, envelope);
    return events.compose(e -> call.request(SchedulerAddresses.LOGS, envelope)).map(logs -> {
      Map<Integer, JobRun.Builder> runs = new TreeMap<>();
      JobRun.Builder current = null;
      for (Object item : events.result().getJsonArray("items", new JsonArray())) {
        JsonObject e = (JsonObject) item;
        String state = e.getString("state");
        Object detailValue = e.getValue("detail");
        JsonObject detail = detailValue instanceof JsonObject d ? d : new JsonObject();
        String at = TypedEvents.text(e, "at");
        switch (state) {
          case "admitted" -> {
            int attempt = detail.getInteger("attempt", runs.size() + 1);
            current = runs.computeIfAbsent(attempt, n -> JobRun.newBuilder().setAttempt(n)).setAdmittedAt(at)
                .setJobState(TypedEvents.state(state));
          }
          case "running" -> {
            if (current != null) {
              current.setStartedAt(at).setJobState(TypedEvents.state(state))
                  .setPoolId(TypedEvents.text(detail, "pool_id")).setWorkerId(TypedEvents.text(detail, "worker_id"));
            }
          }
          default -> {
            boolean retried = "queued".equals(state) && "retry".equals(detail.getString("reason"));
            if (current != null && (retried || TypedEvents.FINAL.contains(state))) {
              current.setEndedAt(at).setJobState(TypedEvents.state(state))
                  .setErrorType(TypedEvents.text(detail, "error_type"));
              if (detail.getInteger("exit_code") != null) current.setExitCode(detail.getInteger("exit_code"));
              current = null;
            }
          }
        }
      }
      for (Object item : logs.getJsonArray("attempts", new JsonArray())) {
        JsonObject log = (JsonObject) item;
        runs.computeIfAbsent(log.getInteger("attempt", 0), n -> JobRun.newBuilder().setAttempt(n))
            .setLog(TypedEvents.text(log, "log"));
      }
      JobRunList.Builder list = JobRunList.newBuilder().setJobId(request.getId());
      runs.values().forEach(run -> list.addItems(run.build()));
      return list.build();
    });
  }
}
