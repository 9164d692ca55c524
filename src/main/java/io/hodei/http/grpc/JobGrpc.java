package io.hodei.http.grpc;

import io.hodei.grpc.v1.Job;
import io.hodei.grpc.v1.JobServiceGrpcService;
import io.hodei.grpc.v1.ListJobsResponse;
import io.hodei.grpc.v1.SubmitJobsRequest;
import io.hodei.grpc.v1.SubmitJobsResponse;
import io.hodei.scheduler.SchedulerAddresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.Service;

import static io.hodei.http.grpc.GrpcTranslator.into;
import static io.hodei.http.grpc.GrpcTranslator.page;

/**
 * gRPC surface of the scheduler ({@code hodei.v1.JobService}); the REST twin is JobRoutes. {@code payload} travels
 * as JSON object text; SubmitJob's {@code idempotency_key} is sent as the request's key (REST's Idempotency-Key).
 */
final class JobGrpc {
  private static final String ID = "id";
  private static final String PAYLOAD = "payload";

  private JobGrpc() {}

  static Service service(GrpcTranslator grpc) {
    return Service.service(JobServiceGrpcService.SERVICE_NAME, JobServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(JobServiceGrpcService.SubmitJob, grpc.unary(SchedulerAddresses.SUBMIT,
            r -> Envelope.of(r).jsonObject(PAYLOAD).idempotencyKey("idempotency_key").build(), into(Job::newBuilder)))
        .bind(JobServiceGrpcService.SubmitJobs, grpc.unary(SchedulerAddresses.SUBMIT_BATCH, JobGrpc::batch,
            into(SubmitJobsResponse::newBuilder)))
        .bind(JobServiceGrpcService.GetJob, grpc.unary(SchedulerAddresses.GET,
            r -> Envelope.of(r).param("id", ID).build(), into(Job::newBuilder)))
        .bind(JobServiceGrpcService.CancelJob, grpc.unary(SchedulerAddresses.CANCEL,
            r -> Envelope.of(r).param("id", ID).build(), into(Job::newBuilder)))
        .bind(JobServiceGrpcService.ListJobs, grpc.unary(SchedulerAddresses.LIST,
            r -> Envelope.of(r).query("state", "state").query("tenant_id", "tenant").query("pool_id", "pool")
                .query("page_size", "limit").query("page_token", "cursor").build(),
            page(ListJobsResponse::newBuilder)))
        .bind(JobServiceGrpcService.WatchJobs, new JobWatch(grpc).handler())
        .build();
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
}
