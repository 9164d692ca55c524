package io.hodei.scheduler;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/** An open job (queued, admitted or running) as the scheduler holds it; confined to the scheduler's event loop. */
final class Job {
  String id;
  String tenantId;
  String name;
  JobState state;
  int priority;
  long cpuM;
  long memoryMb;
  String poolId;
  JsonObject poolLabels;
  JsonArray command;
  JsonObject env;
  JsonObject payload;
  /** The payload as submitted, encoded once (its size is checked on it); null when empty or not known. */
  String payloadText;
  JsonObject labels;
  int timeoutSeconds;
  int maxAttempts;
  int attempts;
  int maxQueueSeconds;
  Instant slaDeadline;
  String idempotencyKey;
  /** With an idempotency key: SHA-256 of the canonical submission, to tell a retry from a reuse of the key. */
  String idempotencyFingerprint;
  Instant submittedAt;
  /** When the job last entered the queue (submit or retry): queue wait is measured from here. */
  Instant queuedAt;
  Instant admittedAt;
  Instant startedAt;
  Instant nextAttemptAt;
  String placedPoolId;
  String workerId;
  long pid = -1;
  Instant processStartedAt;
  boolean cancelRequested;
  /** The trace_id of the submit request; job lifecycle events carry it so spans and logs link up. */
  String traceId;
  /** The burst grant this job was admitted on (it ran above the base quota), or null. */
  String burstGrantId;
  /**
   * This attempt's part of its tenant's usage above base quota, as seconds of its whole reservation ({@link
   * BurstMeter}): its burst usage is cpu_m x burstSeconds and memory_mb x burstSeconds.
   */
  double burstSeconds;
  /** Set when the job ends (kept in memory until the final write lands). */
  Integer exitCode;
  String errorType;
  Long runMs;
  Instant finishedAt;
  /** Order of arrival, to keep FIFO among equal priorities. */
  long sequence;
  /** This job's last write: completes when it committed (or the database refused it). */
  Future<Void> lastWrite = Future.succeededFuture();
  /** The row's version as of this job's last write queued (the row starts at 1; each write adds 1). */
  long version = 1;
  /**
   * The fields of this job's last committed write, with the row {@code version} it produced; null until the first
   * write after submission commits. Reads show these, never what is not committed yet.
   */
  JsonObject committed;
  /** The SLA status last published, so each transition is published once. */
  String slaStatus;

  /** The selector key: jobs with the same key compete for the same pools. */
  private String selectorKey;
  /** {@link PoolView#accepting} as of the view's generation {@link #acceptingGeneration} (0: not computed). */
  List<String> accepting;
  long acceptingGeneration;

  /** {@link #submittedAt} as ISO-8601 text, made once (the submission's event and its reply both carry it). */
  String submittedAtText() {
    if (submittedAtText == null) submittedAtText = io.hodei.common.Instants.format(submittedAt);
    return submittedAtText;
  }

  private String submittedAtText;

  /** The pool selector as a key (set once: pool_id and pool_labels do not change after submission). */
  String selectorKey() {
    if (selectorKey == null) {
      selectorKey = poolId != null ? "id:" + poolId : "labels:" + (poolLabels == null ? "{}" : poolLabels.encode());
    }
    return selectorKey;
  }

  boolean waiting() { return state == JobState.QUEUED; }

  /** The job as an API response, from memory (open jobs only). */
  JsonObject view() {
    return new JsonObject().put("id", id).put("tenant_id", tenantId).put("name", name)
        .put("state", state.wire()).put("priority", priority).put("cpu_m", cpuM).put("memory_mb", memoryMb)
        .put("pool_id", poolId).put("pool_labels", poolLabels).put("command", command)
        .put("labels", labels).put("timeout_s", timeoutSeconds).put("max_attempts", maxAttempts)
        .put("attempts", attempts).put("max_queue_seconds", maxQueueSeconds)
        .put("sla_deadline", text(slaDeadline))
        .put("idempotency_key", idempotencyKey).put("submitted_at", submittedAtText())
        .put("started_at", text(startedAt))
        .put("placed_pool_id", placedPoolId).put("worker_id", workerId)
        .put("cancel_requested", cancelRequested).put("burst", burstGrantId != null);
  }

  /** The fields a write changes, as a read shows them once it committed. */
  JsonObject committedFields() {
    return new JsonObject().put("state", state.wire()).put("attempts", attempts).put("worker_id", workerId)
        .put("placed_pool_id", placedPoolId).put("cancel_requested", cancelRequested)
        .put("burst", burstGrantId != null)
        .put("pid", pid > 0 ? pid : null)
        .put("process_started_at", text(processStartedAt))
        .put("admitted_at", text(admittedAt))
        .put("started_at", text(startedAt))
        .put("next_attempt_at", text(nextAttemptAt))
        .put("error_type", errorType)
        .put("exit_code", exitCode).put("run_ms", runMs)
        .put("finished_at", text(finishedAt));
  }

  private static String text(Instant at) { return io.hodei.common.Instants.format(at); }
}
