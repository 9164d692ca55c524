package io.hodei.scheduler;

/** Event-bus addresses of the scheduler (part of the event-bus contract; see README). */
public final class SchedulerAddresses {
  public static final String SUBMIT = "hodei.job.submit";
  public static final String SUBMIT_BATCH = "hodei.job.submit_batch";
  public static final String GET = "hodei.job.get";
  public static final String LIST = "hodei.job.list";
  public static final String CANCEL = "hodei.job.cancel";
  public static final String EVENTS = "hodei.job.events";
  public static final String LOGS = "hodei.job.logs";
  public static final String SLA = "hodei.job.sla";
  public static final String QUEUE_STATUS = "hodei.job.queues";
  public static final String QUOTA_ENFORCE = "hodei.job.quota_enforce";

  private SchedulerAddresses() {}
}
