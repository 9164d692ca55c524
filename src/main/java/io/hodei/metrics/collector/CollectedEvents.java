package io.hodei.metrics.collector;

import io.hodei.common.Events;
import io.hodei.metrics.MetricsAddresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The domain events the collector counts, and what it keeps of each: read on the publisher's thread by its
 * {@link EventTap} ({@link #keep}), queued, and applied on the collector's loop
 * ({@link MetricsCollectorVerticle}'s event handlers).
 */
final class CollectedEvents {
  /** Logged under the collector's name: an event it could not read is the collector's concern. */
  private static final Logger LOG = LoggerFactory.getLogger(MetricsCollectorVerticle.class);
  static final String WORKER_STATE_EVENT = Events.address(Events.WORKER_STATE);
  /** The addresses the collector taps. */
  static final Set<String> ADDRESSES = Set.of(WORKER_STATE_EVENT, MetricsAddresses.JOB_STARTED_EVENT,
      MetricsAddresses.JOB_FINISHED_EVENT);

  private CollectedEvents() {}

  /** What the collector keeps of a tapped event until its batch is applied: the fields it counts, nothing else. */
  sealed interface Kept permits WorkerMoved, JobStarted, JobEnded {}

  record WorkerMoved(String pool, String worker, String reason, Long durationMs) implements Kept {}

  record JobStarted(String job, String pool, String tenant, Long queueWaitMs) implements Kept {}

  record JobEnded(String state, String job, String pool, String tenant, Long durationMs, List<String> waitedFor)
      implements Kept {}

  /**
   * On the publisher's thread: what to keep of an event (null, and a log line, when it cannot be read). A worker
   * taking or giving back a job (reason {@code job ...}, two events per job) changes no collected meter, so it is not
   * kept: the pool gauges come from the snapshot.
   */
  static Kept keep(String address, JsonObject event) {
    try {
      if (address.equals(WORKER_STATE_EVENT)) {
        String reason = event.getString("reason");
        if (reason != null && reason.startsWith(Events.WORKER_ASSIGNMENT_REASON)) return null;
        return new WorkerMoved(event.getString("pool_id"), event.getString("worker_id"), reason,
            event.getLong("duration_ms"));
      }
      if (address.equals(MetricsAddresses.JOB_STARTED_EVENT)) {
        return new JobStarted(event.getString("job_id"), event.getString("pool_id"), event.getString("tenant_id"),
            event.getLong("queue_wait_ms"));
      }
      JsonArray waited = event.getJsonArray("waited_for_pools");
      List<String> waitedFor = waited == null ? List.of()
          : waited.stream().filter(String.class::isInstance).map(String.class::cast).toList();
      return new JobEnded(event.getString("state"), event.getString("job_id"), event.getString("pool_id"),
          event.getString("tenant_id"), event.getLong("duration_ms"), waitedFor);
    } catch (RuntimeException e) {
      LOG.warn("event not counted", kv("address", address), kv("reason", String.valueOf(e.getMessage())));
      return null;
    }
  }
}
