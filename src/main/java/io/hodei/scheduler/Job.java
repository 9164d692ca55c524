package io.hodei.scheduler;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/** An open job (queued, admitted or running) as the scheduler holds it; confined to the scheduler's event loop. */
final class Job {
  String id;
  String tenantId;
  String name;
  String state;
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
  io.vertx.core.Future<Void> lastWrite = io.vertx.core.Future.succeededFuture();
  /** The row's version as of this job's last write queued (the row starts at 1; each write adds 1). */
  long version = 1;
  /**
   * The fields of this job's last committed write, with the row {@code version} it produced; null until the first
   * write after submission commits. Reads show these, never what is not committed yet.
   */
  io.vertx.core.json.JsonObject committed;
  /** The SLA status last published, so each transition is published once. */
  String slaStatus;

  /** The selector key: jobs with the same key compete for the same pools. */
  private String selectorKey;
  /** {@link PoolView#accepting} as of the view's generation {@link #acceptingGeneration} (0: not computed). */
  List<String> accepting;
  long acceptingGeneration;

  /** {@link #submittedAt} as ISO-8601 text, made once (the submission's event and its reply both carry it). */
  String submittedAtText() {
    if (submittedAtText == null) submittedAtText = submittedAt.toString();
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

  boolean waiting() { return JobStates.QUEUED.equals(state); }
}
