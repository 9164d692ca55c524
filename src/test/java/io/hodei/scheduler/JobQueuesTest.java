package io.hodei.scheduler;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JobQueuesTest {
  private final OpenJobs jobs = new OpenJobs();
  private final JobQueues queues = new JobQueues();
  private final TenantUsage usage = new TenantUsage();
  /** Only the timers are used here: no write happens for a job that goes back to its queue. */
  private final JobLifecycle lifecycle = new JobLifecycle(null, jobs, queues, usage, new RunTimes(), null, null,
      new SchedulerMetrics(new SimpleMeterRegistry()), null, 60, () -> { }, () -> { });

  @Test
  void aJobInItsRetryBackoffWaitsOutsideTheQueueUntilTheTickAfterTheBackoff() {
    Job job = job(Instant.now().plusSeconds(30));
    queues.enqueue(job);
    assertThat(queues.of("a")).isNull();
    lifecycle.expire(Instant.now());
    assertThat(queues.of("a")).isNull();
    lifecycle.expire(Instant.now().plusSeconds(31));
    assertThat(queues.of("a").size()).isEqualTo(1);
    assertThat(job.nextAttemptAt).isNull();
  }

  @Test
  void aJobTakenUpFromTheDatabaseAfterItsBackoffEndedIsQueuedOnceNotAgainByTheTick() {
    // as adopted on a restart: a retry whose backoff ended while the server was down
    Job job = job(Instant.now().minusSeconds(5));
    queues.enqueue(job);
    lifecycle.expire(Instant.now());
    assertThat(queues.of("a").size()).isEqualTo(1);
    assertThat(queues.of("a").selectors().iterator().next()).containsExactly(job);
  }

  private Job job(Instant nextAttemptAt) {
    Job job = new Job();
    job.id = "j-1";
    job.tenantId = "a";
    job.submittedAt = Instant.now();
    job.queuedAt = nextAttemptAt;
    job.nextAttemptAt = nextAttemptAt;
    job.maxQueueSeconds = 3600;
    jobs.add(job);
    return job;
  }
}
