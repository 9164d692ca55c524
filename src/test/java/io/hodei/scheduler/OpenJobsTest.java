package io.hodei.scheduler;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The running counts the queue status answers from: every open job is either counted as running or gone through. */
class OpenJobsTest {
  private final OpenJobs jobs = new OpenJobs();

  @Test
  void aJobIsCountedWhileItRunsAndGoneThroughOtherwise() {
    Job a = job("a", "t1", null);
    Job b = job("b", "t1", Instant.now().plusSeconds(60));
    Job c = job("c", "t2", null);
    assertThat(jobs.uncounted()).containsExactlyInAnyOrder(a, b, c);
    assertThat(jobs.withSla()).containsExactly(b);

    start(a, "p1");
    start(b, "p1");
    start(c, "p2");
    assertThat(jobs.uncounted()).isEmpty();
    assertThat(jobs.runningByTenant()).isEqualTo(Map.of("t1", 2, "t2", 1));
    assertThat(jobs.runningByPool()).isEqualTo(Map.of("p1", 2, "p2", 1));

    // a retry waits: gone through again, no longer counted
    b.state = JobState.QUEUED;
    jobs.notRunning(b);
    assertThat(jobs.uncounted()).containsExactly(b);
    assertThat(jobs.runningByTenant()).isEqualTo(Map.of("t1", 1, "t2", 1));

    // ended: neither counted nor held
    jobs.ending(a);
    jobs.ending(b);
    assertThat(jobs.uncounted()).isEmpty();
    assertThat(jobs.withSla()).isEmpty();
    assertThat(jobs.runningByTenant()).isEqualTo(Map.of("t2", 1));
    assertThat(jobs.runningByPool()).isEqualTo(Map.of("p2", 1));
  }

  @Test
  void aStartReportedForAJobNoLongerHeldCountsNothing() {
    Job a = job("a", "t1", null);
    jobs.ending(a);
    start(a, "p1");
    assertThat(jobs.runningByTenant()).isEmpty();
    assertThat(jobs.uncounted()).isEmpty();
  }

  private void start(Job job, String pool) {
    job.state = JobState.RUNNING;
    job.placedPoolId = pool;
    jobs.running(job);
  }

  private Job job(String id, String tenant, Instant slaDeadline) {
    Job job = new Job();
    job.id = id;
    job.tenantId = tenant;
    job.state = JobState.QUEUED;
    job.submittedAt = Instant.now();
    job.slaDeadline = slaDeadline;
    jobs.add(job);
    return job;
  }
}
