package io.hodei.scheduler;

/** Event-bus addresses of the scheduler (part of the event-bus contract; see docs/architecture.md). */
public final class SchedulerAddresses {
  public static final String SUBMIT = "hodei.job.submit";
  public static final String SUBMIT_BATCH = "hodei.job.submit_batch";
  public static final String GET = "hodei.job.get";
  public static final String LIST = "hodei.job.list";
  public static final String CANCEL = "hodei.job.cancel";
  public static final String EVENTS = "hodei.job.events";
  /**
   * The job event log after a sequence, for watchers: query {@code after} (sequence, default 0), {@code tenant},
   * {@code job}, {@code limit} (1..1000, default 500); replies {@code {items: [{sequence, job_id, tenant_id, state,
   * detail, at}], last_sequence}} in sequence order. A sequence becomes visible only after every smaller one has
   * committed (or rolled back), so a reader that resumes after its last sequence misses nothing.
   */
  public static final String EVENTS_SINCE = "hodei.job.events_since";
  public static final String LOGS = "hodei.job.logs";
  public static final String SLA = "hodei.job.sla";
  public static final String QUEUE_STATUS = "hodei.job.queues";
  public static final String QUOTA_ENFORCE = "hodei.job.quota_enforce";
  /**
   * A queued job's new priority: param {@code id}, body {@code {priority}} (0..100); replies the job. A job no longer
   * queued is a 409 with {@code allowed_actions}.
   */
  public static final String REPRIORITIZE = "hodei.job.reprioritize";

  private SchedulerAddresses() {}
}
