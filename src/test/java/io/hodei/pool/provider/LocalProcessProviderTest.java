package io.hodei.pool.provider;

import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.hodei.pool.provider.WorkerProvider.WorkerSpec;
import io.hodei.pool.provider.WorkerProvider.WorkerUsage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalProcessProviderTest {
  private static final AtomicInteger IDS = new AtomicInteger();
  @TempDir static Path workDir;
  private static Vertx vertx;
  private static LocalProcessProvider provider;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    provider = new LocalProcessProvider(vertx, LocalProviderSettings.defaults().withWorkDir(workDir)
        .withKillGraceSeconds(2));
  }

  @AfterAll
  static void stop() {
    provider.close().await();
    vertx.close().await();
  }

  @Test
  void echoSucceedsWithItsOutput() {
    JobResult result = finish(provider.run(worker(), job(List.of("echo", "hello"))));

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.exitCode()).isZero();
    assertThat(result.errorType()).isNull();
    assertThat(result.log()).contains("hello");
  }

  @Test
  void nonZeroExitFailsWithItsCode() {
    JobResult result = finish(provider.run(worker(), job(List.of("sh", "-c", "echo oops >&2; exit 3"))));

    assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.errorType()).isEqualTo("exit_code");
    assertThat(result.log()).as("stderr is captured too").contains("oops");
  }

  @Test
  void timeoutKillsTheWholeProcessTree() {
    JobSpec job = new JobSpec(jobId(), List.of("sh", "-c", "sleep 30 & echo $!; sleep 30"), new JsonObject(),
        new JsonObject(), 1, 100, 64);
    JobExecution execution = provider.run(worker(), job);
    long shellPid = execution.pid();

    JobResult result = finish(execution);

    assertThat(result.outcome()).isEqualTo(Outcome.TIMED_OUT);
    assertThat(result.errorType()).isEqualTo("timeout");
    long backgroundPid = Long.parseLong(result.log().lines().findFirst().orElseThrow().trim());
    Eventually.until(vertx, "the shell is gone", () -> !running(shellPid));
    Eventually.until(vertx, "its background child is gone", () -> !running(backgroundPid));
  }

  @Test
  void killEndsTheJobAsKilled() {
    JobExecution execution = provider.run(worker(), job(List.of("sleep", "30")));
    assertThat(execution.pid()).isPositive();
    assertThat(execution.processStartedAt()).isNotNull();

    Eventually.await(execution.kill("operator asked"));
    JobResult result = finish(execution);

    assertThat(result.outcome()).isEqualTo(Outcome.KILLED);
    assertThat(result.errorType()).isEqualTo("killed");
    assertThat(result.log()).contains("operator asked");
    Eventually.until(vertx, "the process is gone", () -> !running(execution.pid()));
  }

  @Test
  void theFirstEndingWinsAndTheResultCompletesOnce() {
    JobExecution execution = provider.run(worker(),
        new JobSpec(jobId(), List.of("sleep", "30"), new JsonObject(), new JsonObject(), 1, 100, 64));
    AtomicInteger completions = new AtomicInteger();
    execution.result().onComplete(ar -> completions.incrementAndGet());

    execution.kill("first");
    execution.kill("second");
    JobResult result = finish(execution);

    assertThat(result.outcome()).isEqualTo(Outcome.KILLED);
    assertThat(result.log()).contains("first").doesNotContain("second");
    assertThat(completions).hasValue(1);
  }

  @Test
  void missingExecutableIsAnInvalidCommand() {
    String worker = worker();
    for (String missing : List.of("/nonexistent/hodei-no-such-binary", "hodei-no-such-binary")) {
      JobExecution execution = provider.run(worker, job(List.of(missing, "arg")));
      JobResult result = finish(execution);

      assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
      assertThat(result.errorType()).isEqualTo("invalid_command");
      assertThat(result.log()).contains("hodei-no-such-binary");
      assertThat(execution.pid()).isEqualTo(-1);
    }
    assertThat(provider.probe(worker).await()).as("the worker is still usable").isTrue();
  }

  @Test
  void invalidArgumentsAndEnvironmentAreInvalidCommands() {
    List<String> tooMany = new ArrayList<>(Collections.nCopies(257, "x"));
    tooMany.set(0, "echo");
    List<List<String>> commands = new ArrayList<>(List.of(List.of(), List.of(" "), List.of("echo", ""),
        List.of("echo", "a\0b"), tooMany, List.of("echo", "x".repeat(70_000))));
    commands.add(Collections.singletonList(null));
    String worker = worker();
    for (List<String> command : commands) {
      JobResult result = finish(provider.run(worker, job(command)));
      assertThat(result.errorType()).as("command %s", command.size() > 3 ? "of " + command.size() : command)
          .isEqualTo("invalid_command");
      assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    }
    for (JsonObject env : List.of(new JsonObject().put("1BAD", "x"), new JsonObject().put("A-B", "x"),
        new JsonObject().put("GOOD", "a\0b"), new JsonObject().put("GOOD", new JsonObject()))) {
      JobSpec job = new JobSpec(jobId(), List.of("echo"), env, new JsonObject(), 0, 100, 64);
      assertThat(finish(provider.run(worker, job)).errorType()).as("env %s", env).isEqualTo("invalid_command");
    }
  }

  @Test
  void largeOutputKeepsTheNewestTailWithAMarker() {
    JobResult result = finish(provider.run(worker(),
        job(List.of("sh", "-c", "echo first-line; head -c 200000 /dev/zero | tr '\\0' x; echo; echo last-line"))));

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.log().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(JobResult.MAX_LOG_BYTES);
    assertThat(result.log()).contains("bytes dropped").contains("last-line").doesNotContain("first-line");
    assertThat(result.log()).startsWith("[... ");
  }

  @Test
  void jobGetsItsEnvironmentAndOwnWorkingDirectory() {
    JobSpec job = new JobSpec("env-job", List.of("sh", "-c", "echo \"$FOO|$HODEI_JOB_ID|$COUNT\"; pwd"),
        new JsonObject().put("FOO", "bar baz").put("COUNT", 3), new JsonObject(), 0, 100, 64);

    JobResult result = finish(provider.run(worker(), job));

    assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.log()).contains("bar baz|env-job|3");
    assertThat(result.log()).contains(workDir.toString());
  }

  @Test
  void usageOfABusyJobReportsCpuAndMemory() {
    String worker = worker();
    assertThat(provider.usage(worker).await()).isEqualTo(new WorkerUsage(0, 0));
    JobExecution execution = provider.run(worker, job(List.of("sh", "-c", "while :; do :; done")));
    AtomicReference<WorkerUsage> usage = new AtomicReference<>();

    Eventually.until(vertx, "the busy job uses CPU", () -> {
      usage.set(provider.usage(worker).await());
      return usage.get().cpuPercent() > 0;
    });

    assertThat(usage.get().memoryMb()).isPositive();
    execution.kill("done measuring");
    assertThat(finish(execution).outcome()).isEqualTo(Outcome.KILLED);
    assertThat(provider.usage(worker).await()).isEqualTo(new WorkerUsage(0, 0));
  }

  @Test
  void terminatingAWorkerLosesItsRunningJob() {
    String worker = worker();
    JobExecution execution = provider.run(worker, job(List.of("sleep", "30")));

    Eventually.await(provider.terminate(worker));
    JobResult result = finish(execution);

    assertThat(result.outcome()).isEqualTo(Outcome.LOST);
    assertThat(result.errorType()).isEqualTo("worker_lost");
    assertThat(provider.probe(worker).await()).isFalse();
    assertThat(finish(provider.run(worker, job(List.of("echo")))).errorType()).isEqualTo("worker_lost");
    Eventually.until(vertx, "the process is gone", () -> !running(execution.pid()));
  }

  @Test
  void unknownWorkersAreLostAndTerminateIsIdempotent() {
    JobResult result = finish(provider.run("no-such-worker", job(List.of("echo"))));

    assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.errorType()).isEqualTo("worker_lost");
    assertThat(provider.probe("no-such-worker").await()).isFalse();
    assertThat(provider.usage("no-such-worker").await()).isEqualTo(new WorkerUsage(0, 0));
    provider.terminate("no-such-worker").await();
    String worker = worker();
    provider.terminate(worker).await();
    provider.terminate(worker).await();
  }

  @Test
  void aBusyWorkerRefusesASecondJob() {
    String worker = worker();
    JobExecution first = provider.run(worker, job(List.of("sleep", "30")));

    assertThatThrownBy(() -> provider.run(worker, job(List.of("echo")))).isInstanceOf(IllegalStateException.class);

    first.kill("test over");
    finish(first);
    assertThat(finish(provider.run(worker, job(List.of("echo", "again")))).outcome()).isEqualTo(Outcome.SUCCEEDED);
  }

  @Test
  void reapOrphanKillsOnlyTheProcessThatStartedAtThatInstant() throws Exception {
    Process orphan = new ProcessBuilder("sleep", "60").start();
    try {
      Instant startedAt = orphan.info().startInstant().orElseThrow();

      assertThat(provider.reapOrphan(orphan.pid(), startedAt.plusSeconds(1)).await()).isFalse();
      assertThat(orphan.isAlive()).isTrue();

      assertThat(Eventually.await(provider.reapOrphan(orphan.pid(), startedAt))).isTrue();
      Eventually.until(vertx, "the orphan is gone", () -> !orphan.isAlive());
      assertThat(provider.reapOrphan(orphan.pid(), startedAt).await()).isFalse();
    } finally {
      orphan.destroyForcibly();
    }
  }

  @Test
  void validateConfigAcceptsNothingButAnEmptyConfig() {
    assertThat(provider.validateConfig(new JsonObject())).isEmpty();
    assertThat(provider.validateConfig(null)).isEmpty();
    assertThat(provider.validateConfig(new JsonObject().put("image", "x"))).singleElement().asString()
        .startsWith("image: ");
  }

  @Test
  void closeKillsRunningJobs() throws Exception {
    Vertx own = Vertx.vertx();
    try {
      LocalProcessProvider closing = new LocalProcessProvider(own, LocalProviderSettings.defaults()
          .withWorkDir(Files.createDirectories(workDir.resolve("closing"))));
      closing.provision(new WorkerSpec("w", "pool", 1000, 128, new JsonObject())).await();
      JobExecution execution = closing.run("w", job(List.of("sleep", "30")));

      Eventually.await(closing.close());

      assertThat(execution.result().isComplete()).isTrue();
      assertThat(execution.result().result().outcome()).isEqualTo(Outcome.KILLED);
      assertThat(closing.probe("w").await()).isFalse();
      assertThat(closing.provision(new WorkerSpec("w2", "pool", 1000, 128, null)).failed()).isTrue();
    } finally {
      own.close().await();
    }
  }

  private static String worker() {
    String id = "local-" + IDS.incrementAndGet();
    assertThat(provider.provision(new WorkerSpec(id, "pool", 1000, 128, new JsonObject())).await().workerId())
        .isEqualTo(id);
    return id;
  }

  private static String jobId() { return "job-" + IDS.incrementAndGet(); }

  private static JobSpec job(List<String> command) {
    return new JobSpec(jobId(), command, new JsonObject(), new JsonObject(), 0, 100, 64);
  }

  private static JobResult finish(JobExecution execution) {
    return Eventually.await(execution.result());
  }

  /** Alive and not a zombie: a killed grandchild may wait for a reaper that never comes in a container. */
  private static boolean running(long pid) {
    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
      } catch (Exception e) {
        return false;
      }
    }
    return false;
  }
}
