package io.hodei.pool.provider;

import io.hodei.runner.LogTail;
import io.hodei.runner.ProcessTrees;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Runs jobs as OS processes on this host. A worker is a slot that runs one job at a time; provisioning only records
 * it. A job is started from its argv (never through a shell) in its own working directory with a minimal
 * environment; its merged stdout/stderr is drained by a dedicated thread into a bounded tail; its end is observed
 * through {@link Process#onExit()} and reported on the Vert.x context that started it.
 *
 * <p>Starting a process (fork/exec and creating its working directory) happens on the caller's thread: it takes
 * about a millisecond and lets {@link JobExecution#pid()} be known when {@link #run} returns, which the pool domain
 * persists for orphan reaping. Everything else that blocks (pipes, /proc, signalling trees) runs on other threads.
 */
public final class LocalProcessProvider implements WorkerProvider {
  public static final String NAME = "local";
  private static final Logger LOG = LoggerFactory.getLogger(LocalProcessProvider.class);
  /** The server's variables a job inherits; everything else it gets from its own {@code env}. */
  private static final List<String> INHERITED_ENV = List.of("PATH", "HOME", "LANG");
  static final String JOB_ID_ENV = "HODEI_JOB_ID";
  /** How long output may still drain after the process exited (a background child can hold the pipe open). */
  static final long LOG_DRAIN_MS = 2000;
  /** errno values from a failed exec that mean the command itself is wrong (ENOENT, E2BIG, ENOEXEC, ...). */
  private static final Set<Integer> COMMAND_ERRNOS = Set.of(2, 7, 8, 13, 20, 36, 40);
  private static final Pattern ERRNO = Pattern.compile("error=(\\d+)");

  private final Vertx vertx;
  private final LocalProviderSettings settings;
  private final Map<String, LocalWorker> workers = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private volatile OutputListener outputListener;

  /** Receives a job's output as it is read, on the job's output thread: it must not block. */
  @FunctionalInterface
  public interface OutputListener {
    void output(String jobId, byte[] bytes);
  }

  /** Also hands every job's output to {@code listener} as it comes (the agent streams it to the server). */
  public LocalProcessProvider onOutput(OutputListener listener) {
    this.outputListener = listener;
    return this;
  }

  public LocalProcessProvider(Vertx vertx, LocalProviderSettings settings) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.settings = settings == null ? LocalProviderSettings.defaults() : settings;
  }

  @Override
  public String name() { return NAME; }

  /** The local provider takes no configuration: any key is a mistake worth reporting. */
  @Override
  public List<String> validateConfig(JsonObject providerConfig) {
    return ConfigReader.of(providerConfig).errors();
  }

  @Override
  public Future<ProvisionedWorker> provision(WorkerSpec spec) {
    long startNanos = System.nanoTime();
    if (closed) return Future.failedFuture(new IllegalStateException("the local provider is closed"));
    List<String> problems = validateConfig(spec.providerConfig());
    if (!problems.isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException("invalid provider_config: " + String.join("; ", problems)));
    }
    if (workers.putIfAbsent(spec.workerId(), new LocalWorker(spec.workerId())) != null) {
      return Future.failedFuture(new IllegalStateException("worker " + spec.workerId() + " already exists"));
    }
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    LOG.debug("local worker provisioned", kv("worker_id", spec.workerId()), kv("pool", spec.poolId()));
    return Future.succeededFuture(new ProvisionedWorker(spec.workerId(), elapsedMs));
  }

  @Override
  public Future<Void> terminate(String workerId) {
    LocalWorker worker = workers.remove(workerId);
    if (worker == null) return Future.succeededFuture();
    LocalJob job = worker.terminate();
    LOG.debug("local worker terminated", kv("worker_id", workerId));
    return job == null ? Future.succeededFuture()
        : job.end(new Ending(Outcome.LOST, JobResults.WORKER_LOST, "worker " + workerId + " was terminated"));
  }

  /**
   * Starts the job on the worker.
   *
   * @throws IllegalStateException when the worker already runs a job (the pool domain only sends work to idle ones)
   */
  @Override
  public JobExecution run(String workerId, JobSpec job) {
    LocalWorker worker = workers.get(workerId);
    if (worker == null) return JobResults.finished(job.jobId(), JobResults.workerLost(workerId));
    String problem = CommandValidator.problem(job);
    if (problem != null) return JobResults.finished(job.jobId(), JobResults.invalidCommand(problem));
    synchronized (worker) {
      if (worker.terminated) return JobResults.finished(job.jobId(), JobResults.workerLost(workerId));
      if (worker.job != null) {
        throw new IllegalStateException("worker " + workerId + " is busy with job " + worker.job.jobId());
      }
      return start(worker, job);
    }
  }

  private JobExecution start(LocalWorker worker, JobSpec job) {
    Path dir;
    try {
      Files.createDirectories(settings.workDir());
      dir = Files.createTempDirectory(settings.workDir(), safeName(job.jobId()) + "-");
    } catch (IOException e) {
      LOG.warn("cannot create a working directory", kv("job_id", job.jobId()), kv("error", e.toString()));
      return JobResults.finished(job.jobId(), new JobResult(Outcome.FAILED, null, 0, JobResults.WORKER_LOST,
          "cannot create a working directory under " + settings.workDir() + ": " + e.getMessage() + "\n"));
    }
    ProcessBuilder builder = new ProcessBuilder(job.command())
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Map<String, String> env = builder.environment();
    env.clear();
    for (String name : INHERITED_ENV) {
      String value = System.getenv(name);
      if (value != null) env.put(name, value);
    }
    env.putAll(CommandValidator.envStrings(job.env()));
    env.put(JOB_ID_ENV, job.jobId());
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      deleteTree(dir);
      return JobResults.finished(job.jobId(), startFailure(job, e));
    }
    LocalJob running = new LocalJob(worker, job, process, dir);
    worker.job = running;
    running.begin();
    return running;
  }

  /** A failed exec: a command the OS cannot run is the job's fault; anything else (no memory, no pids) is ours. */
  private static JobResult startFailure(JobSpec job, IOException e) {
    Matcher errno = ERRNO.matcher(String.valueOf(e.getMessage()));
    String reason = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
    if (errno.find() && COMMAND_ERRNOS.contains(Integer.parseInt(errno.group(1)))) {
      return JobResults.invalidCommand("cannot run '" + job.command().get(0) + "': " + reason);
    }
    LOG.warn("cannot start a job process", kv("job_id", job.jobId()), kv("error", e.toString()));
    return new JobResult(Outcome.FAILED, null, 0, JobResults.WORKER_LOST,
        "cannot start '" + job.command().get(0) + "' on this host: " + reason + "\n");
  }

  @Override
  public Future<Boolean> probe(String workerId) {
    LocalWorker worker = workers.get(workerId);
    return Future.succeededFuture(worker != null && worker.alive());
  }

  @Override
  public Future<WorkerUsage> usage(String workerId) {
    LocalWorker worker = workers.get(workerId);
    LocalJob job = worker == null ? null : worker.currentJob();
    if (job == null) return Future.succeededFuture(new WorkerUsage(0, 0));
    return vertx.executeBlocking(job::usage, false);
  }

  @Override
  public Future<Boolean> reapOrphan(long pid, Instant processStartedAt) {
    return vertx.executeBlocking(() -> ProcessTrees.find(pid, processStartedAt), false)
        .compose(found -> {
          if (found.isEmpty()) return Future.succeededFuture(false);
          LOG.info("killing an orphaned job process", kv("pid", pid), kv("started_at", processStartedAt.toString()));
          return ProcessTrees.kill(vertx, found.get(), graceMs()).map(true);
        });
  }

  @Override
  public Future<Void> close() {
    closed = true;
    List<Future<Void>> ends = new ArrayList<>();
    for (String workerId : List.copyOf(workers.keySet())) {
      LocalWorker worker = workers.remove(workerId);
      LocalJob job = worker == null ? null : worker.terminate();
      if (job != null) ends.add(job.end(new Ending(Outcome.KILLED, JobResults.KILLED, "the provider is closing")));
    }
    return Future.join(ends).mapEmpty();
  }

  private long graceMs() { return TimeUnit.SECONDS.toMillis(settings.killGraceSeconds()); }

  /** Something usable in a directory name, whatever the job id holds. */
  static String safeName(String jobId) {
    String safe = jobId == null ? "" : jobId.replaceAll("[^A-Za-z0-9_.-]", "_");
    if (safe.length() > 64) safe = safe.substring(0, 64);
    return "job-" + safe;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not remove a job working directory", kv("dir", dir.toString()), kv("error", e.toString()));
    }
  }

  /** A slot for one job; {@code job} and {@code terminated} change together under the worker's lock. */
  private static final class LocalWorker {
    final String id;
    LocalJob job;
    boolean terminated;

    LocalWorker(String id) { this.id = id; }

    synchronized boolean alive() { return !terminated; }

    synchronized LocalJob currentJob() { return job; }

    /** Marks the worker gone and returns the job still running on it, if any. */
    synchronized LocalJob terminate() {
      terminated = true;
      return job;
    }

    synchronized void release(LocalJob finished) {
      if (job == finished) job = null;
    }
  }

  /** Why a job is being ended by us (rather than by its own exit). */
  private record Ending(Outcome outcome, String errorType, String reason) {}

  /** The ending of a job that exited on its own before anyone stopped it. */
  private static final Ending EXITED = new Ending(null, null, null);

  private final class LocalJob implements JobExecution {
    private final LocalWorker worker;
    private final JobSpec spec;
    private final Process process;
    private final Path dir;
    private final Instant startedAt;
    private final long startNanos = System.nanoTime();
    private final Context context = vertx.getOrCreateContext();
    private final LogTail log = new LogTail(settings.maxLogBytes());
    private final Promise<JobResult> result = Promise.promise();
    private final Promise<Void> drained = Promise.promise();
    /** Set once: by {@link #end} when we stop the job, or to {@link #EXITED} when it ended on its own first. */
    private final AtomicReference<Ending> ending = new AtomicReference<>();
    private volatile long timeoutTimer = -1;
    private ProcessTrees.Sample lastSample;

    LocalJob(LocalWorker worker, JobSpec spec, Process process, Path dir) {
      this.worker = worker;
      this.spec = spec;
      this.process = process;
      this.dir = dir;
      // Empty only when the process is already gone, and then there is nothing left to reap.
      this.startedAt = process.info().startInstant().orElse(null);
    }

    void begin() {
      LOG.debug("job process started", kv("job_id", spec.jobId()), kv("worker_id", worker.id),
          kv("pid", process.pid()));
      Thread reader = new Thread(this::drainOutput, "hodei-job-output-" + spec.jobId());
      reader.setDaemon(true);
      reader.start();
      if (spec.timeoutSeconds() > 0) {
        timeoutTimer = vertx.setTimer(TimeUnit.SECONDS.toMillis(spec.timeoutSeconds()), id -> end(new Ending(
            Outcome.TIMED_OUT, JobResults.TIMEOUT, "timed out after " + spec.timeoutSeconds() + " s")));
      }
      process.onExit().whenComplete((p, err) -> {
        long durationMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        context.runOnContext(v -> exited(durationMs));
      });
    }

    /** Runs on the job's own thread: pipes block. */
    private void drainOutput() {
      byte[] buffer = new byte[8192];
      try (InputStream out = process.getInputStream()) {
        int n;
        while ((n = out.read(buffer)) >= 0) {
          log.append(buffer, 0, n);
          OutputListener listener = outputListener;
          if (listener != null && n > 0) listener.output(spec.jobId(), java.util.Arrays.copyOf(buffer, n));
        }
      } catch (IOException e) {
        // The pipe was closed under us: the process is gone, keep what was read.
      } finally {
        context.runOnContext(v -> drained.tryComplete());
      }
    }

    /** Claims the job's ending and stops its process tree; the result follows when the process has exited. */
    Future<Void> end(Ending requested) {
      if (ending.compareAndSet(null, requested)) {
        LOG.info("stopping job process", kv("job_id", spec.jobId()), kv("worker_id", worker.id),
            kv("pid", process.pid()), kv("outcome", requested.outcome()), kv("reason", requested.reason()));
        log.append("[hodei: " + requested.outcome().name().toLowerCase() + ": " + requested.reason() + "]\n");
        ProcessTrees.kill(vertx, process.toHandle(), graceMs()).onFailure(err -> LOG.warn(
            "could not signal a job process tree", kv("job_id", spec.jobId()), kv("error", err.toString())));
      }
      return result.future().mapEmpty();
    }

    private void exited(long durationMs) {
      ending.compareAndSet(null, EXITED);
      if (timeoutTimer >= 0) vertx.cancelTimer(timeoutTimer);
      Promise<Void> drainedOrLate = Promise.promise();
      long lateTimer = vertx.setTimer(LOG_DRAIN_MS, id -> drainedOrLate.tryComplete());
      drained.future().onComplete(ar -> {
        vertx.cancelTimer(lateTimer);
        drainedOrLate.tryComplete();
      });
      drainedOrLate.future().onComplete(ar -> finish(durationMs));
    }

    private void finish(long durationMs) {
      Ending how = ending.get();
      JobResult outcome = how == EXITED
          ? JobResults.exited(process.exitValue(), durationMs, log.render())
          : new JobResult(how.outcome(), null, durationMs, how.errorType(), log.render());
      worker.release(this);
      LOG.debug("job process finished", kv("job_id", spec.jobId()), kv("worker_id", worker.id),
          kv("outcome", outcome.outcome()), kv("exit_code", outcome.exitCode()));
      result.tryComplete(outcome);
      vertx.executeBlocking(() -> {
        deleteTree(dir);
        return null;
      }, false);
    }

    /** Blocking: reads /proc. CPU is averaged since the previous sample, or since the start for the first one. */
    synchronized WorkerUsage usage() {
      ProcessTrees.Sample now = ProcessTrees.sample(process.toHandle());
      if (now == ProcessTrees.Sample.NONE) return new WorkerUsage(0, 0);
      ProcessTrees.Sample since = lastSample != null ? lastSample : new ProcessTrees.Sample(0, 0, startNanos);
      lastSample = now;
      return new WorkerUsage(ProcessTrees.cpuPercent(since, now), now.rssKb() / 1024.0);
    }

    @Override public String jobId() { return spec.jobId(); }
    @Override public long pid() { return process.pid(); }
    @Override public Instant processStartedAt() { return startedAt; }
    @Override public Future<JobResult> result() { return result.future(); }

    @Override
    public Future<Void> kill(String reason) {
      return end(new Ending(Outcome.KILLED, JobResults.KILLED, reason == null || reason.isBlank() ? "killed" : reason));
    }
  }
}
