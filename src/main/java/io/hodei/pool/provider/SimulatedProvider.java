package io.hodei.pool.provider;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Workers and jobs that exist only in memory, for load tests and demos: thousands of workers and tens of thousands
 * of jobs cost a map entry and a Vert.x timer each, no threads. Delays, durations and failures follow the pool's
 * {@code provider_config}; a job's payload can override its duration ({@code duration_ms}), force a failure
 * ({@code fail: true}) or choose its exit code ({@code exit_code}).
 *
 * <p>Random draws come from a seeded generator, one stream each for provisioning, jobs and probes, so the same
 * seed and the same sequence of calls give the same outcomes however probes interleave. Every provision and every
 * run takes the same number of draws whether or not a payload overrides them.
 */
public final class SimulatedProvider implements WorkerProvider {
  public static final String NAME = "simulated";
  public static final String PROVISION_DELAY_MS = "provision_delay_ms";
  public static final String PROVISION_JITTER_MS = "provision_jitter_ms";
  public static final String PROVISION_FAILURE_RATE = "provision_failure_rate";
  public static final String JOB_DURATION_MS = "job_duration_ms";
  public static final String JOB_DURATION_JITTER_MS = "job_duration_jitter_ms";
  public static final String JOB_FAILURE_RATE = "job_failure_rate";
  public static final String WORKER_CRASH_RATE = "worker_crash_rate";
  public static final String CPU_USAGE_PERCENT = "cpu_usage_percent";
  public static final String MEMORY_USAGE_MB = "memory_usage_mb";
  private static final long MAX_DELAY_MS = 600_000;
  private static final long MAX_JOB_DURATION_MS = TimeUnit.DAYS.toMillis(1);
  private static final Logger LOG = LoggerFactory.getLogger(SimulatedProvider.class);
  /** Longest output a job's payload may ask for ({@code output}). */
  static final int MAX_OUTPUT_CHARS = 65_536;

  private final Vertx vertx;
  private final SplittableRandom provisionRandom;
  private final SplittableRandom jobRandom;
  private final SplittableRandom probeRandom;
  private final Map<String, SimWorker> workers = new ConcurrentHashMap<>();
  private volatile boolean closed;

  public SimulatedProvider(Vertx vertx, long seed) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    SplittableRandom root = new SplittableRandom(seed);
    this.provisionRandom = root.split();
    this.jobRandom = root.split();
    this.probeRandom = root.split();
  }

  /** A pool's simulation parameters, defaults filled in. */
  public record SimulationConfig(long provisionDelayMs, long provisionJitterMs, double provisionFailureRate,
                                 long jobDurationMs, long jobDurationJitterMs, double jobFailureRate,
                                 double workerCrashRate, double cpuUsagePercent, double memoryUsageMb) {

    static SimulationConfig read(ConfigReader in) {
      return new SimulationConfig(
          in.integer(PROVISION_DELAY_MS, 50, 0, MAX_DELAY_MS),
          in.integer(PROVISION_JITTER_MS, 0, 0, MAX_DELAY_MS),
          in.decimal(PROVISION_FAILURE_RATE, 0, 0, 1),
          in.integer(JOB_DURATION_MS, 100, 0, MAX_JOB_DURATION_MS),
          in.integer(JOB_DURATION_JITTER_MS, 0, 0, MAX_JOB_DURATION_MS),
          in.decimal(JOB_FAILURE_RATE, 0, 0, 1),
          in.decimal(WORKER_CRASH_RATE, 0, 0, 1),
          in.decimal(CPU_USAGE_PERCENT, 50, 0, 100_000),
          in.decimal(MEMORY_USAGE_MB, 256, 0, 16L * 1024 * 1024));
    }
  }

  private static ConfigReader reader(JsonObject providerConfig) {
    return ConfigReader.of(providerConfig, PROVISION_DELAY_MS, PROVISION_JITTER_MS, PROVISION_FAILURE_RATE,
        JOB_DURATION_MS, JOB_DURATION_JITTER_MS, JOB_FAILURE_RATE, WORKER_CRASH_RATE, CPU_USAGE_PERCENT,
        MEMORY_USAGE_MB);
  }

  @Override
  public String name() { return NAME; }

  @Override
  public List<String> validateConfig(JsonObject providerConfig) {
    ConfigReader in = reader(providerConfig);
    SimulationConfig.read(in);
    return in.errors();
  }

  @Override
  public Future<ProvisionedWorker> provision(WorkerSpec spec) {
    long startNanos = System.nanoTime();
    if (closed) return Future.failedFuture(new IllegalStateException("the simulated provider is closed"));
    ConfigReader in = reader(spec.providerConfig());
    SimulationConfig config = SimulationConfig.read(in);
    if (!in.errors().isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException(
          "invalid provider_config: " + String.join("; ", in.errors())));
    }
    double jitterDraw;
    double failureDraw;
    synchronized (provisionRandom) {
      jitterDraw = provisionRandom.nextDouble();
      failureDraw = provisionRandom.nextDouble();
    }
    SimWorker worker = new SimWorker(spec.workerId(), config);
    if (workers.putIfAbsent(spec.workerId(), worker) != null) {
      return Future.failedFuture(new IllegalStateException("worker " + spec.workerId() + " already exists"));
    }
    boolean fails = failureDraw < config.provisionFailureRate();
    long delayMs = config.provisionDelayMs() + Math.round(jitterDraw * config.provisionJitterMs());
    worker.provisionTimer = schedule(delayMs, () -> worker.provisioned(fails, startNanos));
    return worker.provisioning.future();
  }

  @Override
  public Future<Void> terminate(String workerId) {
    SimWorker worker = workers.remove(workerId);
    if (worker != null) worker.die(Outcome.LOST, JobResults.WORKER_LOST, "worker " + workerId + " was terminated");
    return Future.succeededFuture();
  }

  /**
   * Marks a worker dead, as if its machine vanished: probes find it dead from now on and its running job, if any,
   * ends {@link Outcome#LOST}. The worker stays known until terminated, like a real dead machine.
   *
   * @return false when no such worker exists
   */
  public boolean crash(String workerId) {
    SimWorker worker = workers.get(workerId);
    if (worker == null) return false;
    LOG.info("simulated worker crashed", kv("worker_id", workerId));
    worker.die(Outcome.LOST, JobResults.WORKER_LOST, "worker " + workerId + " crashed");
    return true;
  }

  /**
   * Starts a simulated job.
   *
   * @throws IllegalStateException when the worker already runs a job (the pool domain only sends work to idle ones)
   */
  @Override
  public JobExecution run(String workerId, JobSpec job) {
    SimWorker worker = workers.get(workerId);
    if (worker == null) return JobResults.finished(job.jobId(), JobResults.workerLost(workerId));
    String problem = CommandValidator.problem(job);
    if (problem == null) problem = payloadProblem(job.payload());
    if (problem != null) return JobResults.finished(job.jobId(), JobResults.invalidCommand(problem));
    double failureDraw;
    double jitterDraw;
    synchronized (jobRandom) {
      failureDraw = jobRandom.nextDouble();
      jitterDraw = jobRandom.nextDouble();
    }
    SimulationConfig config = worker.config;
    JsonObject payload = job.payload() == null ? new JsonObject() : job.payload();
    long durationMs = payload.getValue("duration_ms") instanceof Number n ? n.longValue()
        : Math.max(0, config.jobDurationMs() + Math.round((2 * jitterDraw - 1) * config.jobDurationJitterMs()));
    String log = payload.getValue("output") instanceof String output ? output
        : "simulated job " + job.jobId() + " ran " + durationMs + " ms\n";
    JobResult ending;
    if (Boolean.TRUE.equals(payload.getValue("fail")) || failureDraw < config.jobFailureRate()) {
      ending = new JobResult(Outcome.FAILED, 1, durationMs, JobResults.SIMULATED_FAILURE, log);
    } else if (payload.getValue("exit_code") instanceof Number code) {
      ending = JobResults.exited(code.intValue(), durationMs, log);
    } else {
      ending = JobResults.exited(0, durationMs, log);
    }
    long timeoutMs = TimeUnit.SECONDS.toMillis(job.timeoutSeconds());
    if (job.timeoutSeconds() > 0 && durationMs > timeoutMs) {
      ending = new JobResult(Outcome.TIMED_OUT, null, timeoutMs, JobResults.TIMEOUT,
          "simulated job " + job.jobId() + " timed out after " + timeoutMs + " ms\n");
      durationMs = timeoutMs;
    }
    SimJob started = new SimJob(job.jobId(), worker);
    if (!worker.assign(started)) return JobResults.finished(job.jobId(), JobResults.workerLost(workerId));
    JobResult result = ending;
    started.timer = schedule(durationMs, () -> started.complete(result));
    return started;
  }

  /** Payload keys this provider reads must have the right type; other keys are the job's business. */
  private static String payloadProblem(JsonObject payload) {
    if (payload == null) return null;
    Object output = payload.getValue("output");
    if (output != null && (!(output instanceof String text) || text.length() > MAX_OUTPUT_CHARS)) {
      return "payload.output must be a string of at most " + MAX_OUTPUT_CHARS + " characters";
    }
    Object duration = payload.getValue("duration_ms");
    if (duration != null && (!(duration instanceof Number n) || n.doubleValue() < 0
        || n.doubleValue() > MAX_JOB_DURATION_MS)) {
      return "payload.duration_ms must be a number between 0 and " + MAX_JOB_DURATION_MS;
    }
    Object fail = payload.getValue("fail");
    if (fail != null && !(fail instanceof Boolean)) return "payload.fail must be true or false";
    Object exitCode = payload.getValue("exit_code");
    if (exitCode != null && (!(exitCode instanceof Integer || exitCode instanceof Long || exitCode instanceof Short)
        || ((Number) exitCode).longValue() != ((Number) exitCode).intValue())) {
      return "payload.exit_code must be a whole number";
    }
    return null;
  }

  @Override
  public Future<Boolean> probe(String workerId) {
    SimWorker worker = workers.get(workerId);
    if (worker == null || !worker.ready()) return Future.succeededFuture(false);
    if (worker.config.workerCrashRate() > 0) {
      double draw;
      synchronized (probeRandom) {
        draw = probeRandom.nextDouble();
      }
      if (draw < worker.config.workerCrashRate()) {
        crash(workerId);
        return Future.succeededFuture(false);
      }
    }
    return Future.succeededFuture(true);
  }

  @Override
  public Future<WorkerUsage> usage(String workerId) {
    SimWorker worker = workers.get(workerId);
    boolean busy = worker != null && worker.busy();
    return Future.succeededFuture(busy
        ? new WorkerUsage(worker.config.cpuUsagePercent(), worker.config.memoryUsageMb())
        : new WorkerUsage(0, 0));
  }

  @Override
  public Future<Void> close() {
    closed = true;
    for (String workerId : List.copyOf(workers.keySet())) {
      SimWorker worker = workers.remove(workerId);
      if (worker != null) worker.die(Outcome.KILLED, JobResults.KILLED, "the provider is closing");
    }
    return Future.succeededFuture();
  }

  /** A timer, or for no delay the next turn of the context: results never complete inside the call. */
  private long schedule(long delayMs, Runnable action) {
    if (delayMs < 1) {
      Context context = vertx.getOrCreateContext();
      context.runOnContext(v -> action.run());
      return -1;
    }
    return vertx.setTimer(delayMs, id -> action.run());
  }

  private void cancel(long timer) {
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  private enum State { PROVISIONING, READY, DEAD }

  /** One simulated machine; its state and job change under its lock, promises complete outside it. */
  private final class SimWorker {
    final String id;
    final SimulationConfig config;
    final Promise<ProvisionedWorker> provisioning = Promise.promise();
    volatile long provisionTimer = -1;
    private State state = State.PROVISIONING;
    private SimJob job;

    SimWorker(String id, SimulationConfig config) {
      this.id = id;
      this.config = config;
    }

    synchronized boolean ready() { return state == State.READY; }

    synchronized boolean busy() { return state == State.READY && job != null; }

    void provisioned(boolean fails, long startNanos) {
      synchronized (this) {
        if (state != State.PROVISIONING) return;
        state = fails ? State.DEAD : State.READY;
      }
      if (fails) {
        workers.remove(id, this);
        provisioning.tryFail(new IllegalStateException("simulated provisioning failure of worker " + id
            + " (" + PROVISION_FAILURE_RATE + " " + config.provisionFailureRate() + ")"));
      } else {
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        provisioning.tryComplete(new ProvisionedWorker(id, elapsedMs));
      }
    }

    synchronized boolean assign(SimJob started) {
      if (state != State.READY) return false;
      if (job != null) throw new IllegalStateException("worker " + id + " is busy with job " + job.jobId());
      job = started;
      return true;
    }

    synchronized void release(SimJob finished) {
      if (job == finished) job = null;
    }

    /** The worker is gone: a pending provisioning fails and a running job ends with the given outcome. */
    void die(Outcome jobOutcome, String errorType, String reason) {
      SimJob running;
      boolean wasProvisioning;
      synchronized (this) {
        wasProvisioning = state == State.PROVISIONING;
        state = State.DEAD;
        running = job;
      }
      if (wasProvisioning) {
        cancel(provisionTimer);
        provisioning.tryFail(new IllegalStateException("worker " + id + " was lost while provisioning: " + reason));
      }
      if (running != null) running.end(jobOutcome, errorType, reason);
    }
  }

  private final class SimJob implements JobExecution {
    private final String jobId;
    private final SimWorker worker;
    private final long startNanos = System.nanoTime();
    /** When the simulated run began: with its duration, the span it held its worker (no pid: nothing to reap). */
    private final Instant startedAt = Instant.now();
    private final Promise<JobResult> result = Promise.promise();
    private final AtomicBoolean done = new AtomicBoolean();
    volatile long timer = -1;

    SimJob(String jobId, SimWorker worker) {
      this.jobId = jobId;
      this.worker = worker;
    }

    /** The first ending wins; later ones (a kill racing the timer, a crash after the end) change nothing. */
    void complete(JobResult ending) {
      if (!done.compareAndSet(false, true)) return;
      cancel(timer);
      worker.release(this);
      result.complete(ending);
    }

    void end(Outcome outcome, String errorType, String reason) {
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      complete(new JobResult(outcome, null, elapsedMs, errorType,
          "simulated job " + jobId + " " + outcome.name().toLowerCase() + " after " + elapsedMs + " ms: " + reason
              + "\n"));
    }

    @Override public String jobId() { return jobId; }
    @Override public long pid() { return -1; }
    @Override public Instant processStartedAt() { return startedAt; }
    @Override public Future<JobResult> result() { return result.future(); }

    @Override
    public Future<Void> kill(String reason) {
      end(Outcome.KILLED, JobResults.KILLED, reason == null || reason.isBlank() ? "killed" : reason);
      return Future.succeededFuture();
    }
  }
}
