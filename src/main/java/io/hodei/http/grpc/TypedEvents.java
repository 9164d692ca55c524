package io.hodei.http.grpc;

import io.hodei.grpc.v1.JobAbandoned;
import io.hodei.grpc.v1.JobAdmitted;
import io.hodei.grpc.v1.JobCancelled;
import io.hodei.grpc.v1.JobEvent;
import io.hodei.grpc.v1.JobFailed;
import io.hodei.grpc.v1.JobRetried;
import io.hodei.grpc.v1.JobRunning;
import io.hodei.grpc.v1.JobState;
import io.hodei.grpc.v1.JobSubmitted;
import io.hodei.grpc.v1.JobSucceeded;
import io.hodei.grpc.v1.JobTimedOut;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Set;

/**
 * The job event log's rows ({@code state} + {@code detail} JSON, as the scheduler writes them) as typed
 * {@link JobEvent}s: the {@code job_state} enum and one member of the {@code event} oneof. A queued event is a
 * submission unless its detail's reason is {@code retry} (an attempt failed and the job waits for the next one).
 */
final class TypedEvents {
  static final Set<String> FINAL = Set.of("succeeded", "failed", "cancelled", "timed_out", "abandoned");

  private TypedEvents() {}

  /** A string member, "" when absent or null (proto strings cannot be null). */
  static String text(JsonObject json, String key) {
    Object value = json.getValue(key);
    return value == null ? "" : value.toString();
  }

  /** The enum of a wire state name ({@code timed_out} -> JOB_STATE_TIMED_OUT); UNSPECIFIED for an unknown one. */
  static JobState state(String state) {
    if (state == null) return JobState.JOB_STATE_UNSPECIFIED;
    try {
      return JobState.valueOf("JOB_STATE_" + state.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return JobState.JOB_STATE_UNSPECIFIED;
    }
  }

  /** A row of the event log: {sequence, job_id, tenant_id, state, detail, at}. */
  static JobEvent of(JsonObject row) {
    String state = row.getString("state");
    Object detailValue = row.getValue("detail");
    JsonObject detail = detailValue instanceof JsonObject d ? d
        : detailValue instanceof String text && text.startsWith("{") ? new JsonObject(text) : new JsonObject();
    JobEvent.Builder event = JobEvent.newBuilder().setSequence(row.getLong("sequence", 0L))
        .setJobId(text(row, "job_id")).setTenantId(text(row, "tenant_id"))
        .setState(state == null ? "" : state).setAt(text(row, "at")).setDetail(detail.encode())
        .setJobState(state(state));
    String reason = text(detail, "reason");
    int attempt = detail.getInteger("attempt", 0);
    String pool = text(detail, "pool_id");
    String worker = text(detail, "worker_id");
    Integer exit = detail.getInteger("exit_code");
    String errorType = text(detail, "error_type");
    switch (state == null ? "" : state) {
      case "queued" -> {
        if ("retry".equals(reason)) {
          event.setRetried(JobRetried.newBuilder().setAttempt(attempt).setErrorType(errorType)
              .setRetryAt(text(detail, "retry_at")));
        } else {
          event.setSubmitted(JobSubmitted.getDefaultInstance());
        }
      }
      case "admitted" -> event.setAdmitted(JobAdmitted.newBuilder().setAttempt(attempt));
      case "running" -> event.setRunning(JobRunning.newBuilder().setAttempt(attempt).setPoolId(pool)
          .setWorkerId(worker));
      case "succeeded" -> {
        JobSucceeded.Builder succeeded = JobSucceeded.newBuilder().setPoolId(pool).setWorkerId(worker);
        if (exit != null) succeeded.setExitCode(exit);
        event.setSucceeded(succeeded);
      }
      case "failed" -> {
        JobFailed.Builder failed = JobFailed.newBuilder().setReason(errorType.isEmpty() ? reason : errorType)
            .setErrorType(errorType).setPoolId(pool).setWorkerId(worker);
        if (exit != null) failed.setExitCode(exit);
        event.setFailed(failed);
      }
      case "cancelled" -> event.setCancelled(JobCancelled.newBuilder().setReason(reason)
          .setBy(text(detail, "by")));
      case "timed_out" -> {
        JobTimedOut.Builder timedOut = JobTimedOut.newBuilder().setPoolId(pool).setWorkerId(worker);
        if (exit != null) timedOut.setExitCode(exit);
        event.setTimedOut(timedOut);
      }
      case "abandoned" -> event.setAbandoned(JobAbandoned.newBuilder().setReason(reason));
      default -> { }
    }
    return event.build();
  }
}
