package io.hodei.pool.provider;

import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.hodei.pool.provider.WorkerProvider.ProvisionedWorker;
import io.hodei.pool.provider.WorkerProvider.WorkerSpec;
import io.hodei.pool.provider.WorkerProvider.WorkerUsage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SimulatedProviderTest {
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final JsonObject FAST = new JsonObject()
      .put("provision_delay_ms", 1).put("provision_jitter_ms", 4)
      .put("job_duration_ms", 3).put("job_duration_jitter_ms", 2);
  private static Vertx vertx;
  private static SimulatedProvider provider;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    provider = new SimulatedProvider(vertx, 7);
  }

  @AfterAll
  static void stop() {
    provider.close().await();
    vertx.close().await();
  }

  @Test
  void thousandsOfWorkersRunTensOfThousandsOfJobs() {
    List<Future<ProvisionedWorker>> provisions = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) provisions.add(provider.provision(spec(FAST)));
    Eventually.await(Future.join(provisions));
    assertThat(provisions).allMatch(Future::succeeded);

    List<Future<List<Outcome>>> perWorker = new ArrayList<>();
    for (Future<ProvisionedWorker> provisioned : provisions) {
      perWorker.add(runInSequence(provisioned.result().workerId(), 10, new ArrayList<>()));
    }
    Eventually.await(Future.join(perWorker));

    Map<Outcome, Long> outcomes = perWorker.stream().flatMap(f -> f.result().stream())
        .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    assertThat(outcomes).containsExactly(Map.entry(Outcome.SUCCEEDED, 10_000L));
  }

  /** Runs {@code count} jobs one after the other on the worker, each started from the previous one's completion. */
  private static Future<List<Outcome>> runInSequence(String workerId, int count, List<Outcome> outcomes) {
    if (count == 0) return Future.succeededFuture(outcomes);
    return provider.run(workerId, job(new JsonObject())).result().compose(result -> {
      outcomes.add(result.outcome());
      return runInSequence(workerId, count - 1, outcomes);
    });
  }

  @Test
  void provisioningFailsAtFailureRateOne() {
    JsonObject failing = FAST.copy().put("provision_failure_rate", 1.0);
    List<WorkerSpec> specs = new ArrayList<>();
    for (int i = 0; i < 50; i++) specs.add(spec(failing));
    List<Future<ProvisionedWorker>> provisions = specs.stream().map(provider::provision).toList();
    Eventually.await(Future.join(provisions).otherwiseEmpty());

    assertThat(provisions).allMatch(Future::failed);
    assertThat(provisions.get(0).cause()).hasMessageContaining("simulated provisioning failure");
    for (WorkerSpec spec : specs) assertThat(provider.probe(spec.workerId()).await()).isFalse();
  }

  @Test
  void provisioningWithoutDelayStillCompletesLater() {
    WorkerSpec spec = spec(new JsonObject().put("provision_delay_ms", 0));
    Promise<Boolean> completedInsideTheCall = Promise.promise();
    Promise<ProvisionedWorker> provisioned = Promise.promise();
    vertx.runOnContext(v -> {
      Future<ProvisionedWorker> future = provider.provision(spec);
      completedInsideTheCall.complete(future.isComplete());
      future.onComplete(provisioned);
    });

    assertThat(Eventually.await(completedInsideTheCall.future())).isFalse();
    assertThat(Eventually.await(provisioned.future()).workerId()).isEqualTo(spec.workerId());
    assertThat(provider.probe(spec.workerId()).await()).isTrue();
  }

  @Test
  void payloadDecidesFailureExitCodeAndDuration() {
    String worker = worker(FAST);

    JobResult failed = finish(provider.run(worker, job(new JsonObject().put("fail", true))));
    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(failed.errorType()).isEqualTo("simulated_failure");
    assertThat(failed.exitCode()).isEqualTo(1);

    JobResult exited = finish(provider.run(worker, job(new JsonObject().put("exit_code", 3))));
    assertThat(exited.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(exited.errorType()).isEqualTo("exit_code");
    assertThat(exited.exitCode()).isEqualTo(3);

    JobResult succeeded = finish(provider.run(worker, job(new JsonObject().put("exit_code", 0).put("duration_ms", 7))));
    assertThat(succeeded.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(succeeded.exitCode()).isZero();
    assertThat(succeeded.durationMs()).isEqualTo(7);
    assertThat(succeeded.log()).contains("ran 7 ms");

    JobResult invalid = finish(provider.run(worker, job(new JsonObject().put("duration_ms", "long"))));
    assertThat(invalid.errorType()).isEqualTo("invalid_command");
  }

  @Test
  void timeoutAndKillEndTheJob() {
    String worker = worker(FAST);
    JobSpec slow = new JobSpec(jobId(), List.of("work"), new JsonObject(),
        new JsonObject().put("duration_ms", 600_000), 1, 100, 64);
    assertThat(finish(provider.run(worker, slow)).outcome()).isEqualTo(Outcome.TIMED_OUT);

    JobExecution killed = provider.run(worker, job(new JsonObject().put("duration_ms", 600_000)));
    killed.kill("enough").await();
    JobResult result = finish(killed);
    assertThat(result.outcome()).isEqualTo(Outcome.KILLED);
    assertThat(result.errorType()).isEqualTo("killed");
  }

  @Test
  void crashLosesTheRunningJobAndFailsProbes() {
    String worker = worker(FAST.copy().put("cpu_usage_percent", 75).put("memory_usage_mb", 512));
    assertThat(provider.usage(worker).await()).isEqualTo(new WorkerUsage(0, 0));
    JobExecution running = provider.run(worker, job(new JsonObject().put("duration_ms", 600_000)));
    assertThat(provider.usage(worker).await()).isEqualTo(new WorkerUsage(75, 512));
    assertThat(provider.probe(worker).await()).isTrue();

    assertThat(provider.crash(worker)).isTrue();

    JobResult result = finish(running);
    assertThat(result.outcome()).isEqualTo(Outcome.LOST);
    assertThat(result.errorType()).isEqualTo("worker_lost");
    assertThat(provider.probe(worker).await()).isFalse();
    assertThat(provider.usage(worker).await()).isEqualTo(new WorkerUsage(0, 0));
    assertThat(finish(provider.run(worker, job(new JsonObject()))).errorType()).isEqualTo("worker_lost");
    provider.terminate(worker).await();
    assertThat(provider.crash(worker)).isFalse();
  }

  @Test
  void crashRateOneKillsTheWorkerAtTheFirstProbe() {
    String worker = worker(FAST.copy().put("worker_crash_rate", 1.0));

    assertThat(provider.probe(worker).await()).isFalse();
    assertThat(provider.probe(worker).await()).isFalse();
  }

  @Test
  void terminateLosesTheRunningJobAndUnknownWorkersAreLost() {
    String worker = worker(FAST);
    JobExecution running = provider.run(worker, job(new JsonObject().put("duration_ms", 600_000)));

    provider.terminate(worker).await();
    provider.terminate(worker).await();

    assertThat(finish(running).outcome()).isEqualTo(Outcome.LOST);
    JobResult unknown = finish(provider.run("no-such-worker", job(new JsonObject())));
    assertThat(unknown.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(unknown.errorType()).isEqualTo("worker_lost");
    assertThat(provider.probe("no-such-worker").await()).isFalse();
    assertThat(provider.usage("no-such-worker").await()).isEqualTo(new WorkerUsage(0, 0));
    assertThat(provider.reapOrphan(1, null).await()).isFalse();
  }

  @Test
  void validateConfigReportsEveryProblem() {
    assertThat(provider.validateConfig(FAST)).isEmpty();
    assertThat(provider.validateConfig(null)).isEmpty();

    List<String> problems = provider.validateConfig(new JsonObject()
        .put("provison_delay_ms", 10)
        .put("job_failure_rate", 1.5)
        .put("job_duration_ms", "fast")
        .put("provision_delay_ms", 600_001)
        .put("memory_usage_mb", 1.5));

    assertThat(problems).hasSize(4);
    assertThat(problems).anyMatch(p -> p.startsWith("provison_delay_ms: unknown key"));
    assertThat(problems).anyMatch(p -> p.startsWith("job_failure_rate: must be between"));
    assertThat(problems).anyMatch(p -> p.startsWith("job_duration_ms: must be a whole number"));
    assertThat(problems).anyMatch(p -> p.startsWith("provision_delay_ms: must be between 0 and 600000"));
    assertThat(provider.provision(spec(new JsonObject().put("job_failure_rate", 1.5))).failed()).isTrue();
  }

  @Test
  void sameSeedSameOutcomes() {
    JsonObject coinFlip = FAST.copy().put("job_failure_rate", 0.5);
    List<Outcome> first = outcomesOf(new SimulatedProvider(vertx, 42), coinFlip, 60);
    List<Outcome> second = outcomesOf(new SimulatedProvider(vertx, 42), coinFlip, 60);

    assertThat(first).isEqualTo(second);
    assertThat(first).contains(Outcome.SUCCEEDED, Outcome.FAILED);
  }

  private static List<Outcome> outcomesOf(SimulatedProvider simulated, JsonObject config, int jobs) {
    WorkerSpec spec = spec(config);
    Eventually.await(simulated.provision(spec));
    List<Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < jobs; i++) outcomes.add(finish(simulated.run(spec.workerId(), job(new JsonObject()))).outcome());
    simulated.close().await();
    return outcomes;
  }

  @Test
  void closeKillsRunningJobs() {
    SimulatedProvider closing = new SimulatedProvider(vertx, 1);
    WorkerSpec spec = spec(FAST);
    Eventually.await(closing.provision(spec));
    JobExecution running = closing.run(spec.workerId(), job(new JsonObject().put("duration_ms", 600_000)));

    closing.close().await();

    assertThat(finish(running).outcome()).isEqualTo(Outcome.KILLED);
    assertThat(closing.probe(spec.workerId()).await()).isFalse();
  }

  private static WorkerSpec spec(JsonObject config) {
    return new WorkerSpec("sim-" + IDS.incrementAndGet(), "pool", 1000, 256, config);
  }

  private static String worker(JsonObject config) {
    return Eventually.await(provider.provision(spec(config))).workerId();
  }

  private static String jobId() { return "job-" + IDS.incrementAndGet(); }

  private static JobSpec job(JsonObject payload) {
    return new JobSpec(jobId(), List.of("work"), new JsonObject(), payload, 0, 100, 64);
  }

  private static JobResult finish(JobExecution execution) {
    return Eventually.await(execution.result());
  }
}
