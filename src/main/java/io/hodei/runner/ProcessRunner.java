package io.hodei.runner;

import io.hodei.pool.provider.CommandValidator;
import io.hodei.pool.provider.JobResults;
import io.hodei.pool.provider.LocalProviderSettings;
import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.hodei.pool.provider.WorkerProvider.WorkerUsage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Runs jobs as OS processes on this host, for the local provider and for the agent alike. A job is started from its
 * argv (never through a shell) in its own working directory with a minimal environment; its merged stdout/stderr is
 * drained by a dedicated thread into a bounded tail (and handed to an optional listener as it comes); a timeout or a
 * kill stops its whole process tree (SIGTERM, then SIGKILL after the grace); its CPU and memory are read from /proc;
 * its end is observed through {@link Process#onExit()} and reported on the Vert.x context that started it.
 *
 * <p>Starting a process (fork/exec and creating its working directory) happens on the caller's thread: it takes
 * about a millisecond and lets {@link JobExecution#pid()} be known when {@link #start} returns. Everything else that
 * blocks (pipes, /proc, signalling trees) runs on other threads.
 */
public final class ProcessRunner {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessRunner.class);
  /** The server's variables a job inherits; everything else it gets from its own {@code env}. */
  private static final List<String> INHERITED_ENV = List.of("PATH", "HOME", "LANG");
  public static final String JOB_ID_ENV = "HODEI_JOB_ID";
  /** How long output may still drain after the process exited (a background child can hold the pipe open). */
  static final long LOG_DRAIN_MS = 2000;
  /** errno values from a failed exec that mean the command itself is wrong (ENOENT, E2BIG, ENOEXEC, ...). */
  private static final Set<Integer> COMMAND_ERRNOS = Set.of(2, 7, 8, 13, 20, 36, 40);
  private static final Pattern ERRNO = Pattern.compile("error=(\\d+)");

  private final Vertx vertx;
  private final LocalProviderSettings settings;

  /** Receives a job's output as it is read, on the job's output thread: it must not block. */
  @FunctionalInterface
  public interface OutputListener {
    void output(String jobId, byte[] bytes);
  }

  public ProcessRunner(Vertx vertx, LocalProviderSettings settings) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.settings = settings == null ? LocalProviderSettings.defaults() : settings;
  }

  /**
   * Starts the job; an invalid command or a failed start is a finished execution, never an exception. {@code output}
   * (nullable) sees the output as it comes; {@code ended} (nullable) runs on the starting context at the end, before
   * the result completes.
   */
  public JobExecution start(JobSpec job, OutputListener output, Runnable ended) {
    String problem = CommandValidator.problem(job);
    if (problem != null) return JobResults.finished(job.jobId(), JobResults.invalidCommand(problem));
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
    RunningJob running = new RunningJob(job, process, dir, output, ended);
    running.begin();
    return running;
  }

  /** Kills the process a previous server process started, if it still runs; true when found and killed. */
  public Future<Boolean> reap(long pid, Instant processStartedAt) {
    return vertx.executeBlocking(() -> ProcessTrees.find(pid, processStartedAt), false)
        .compose(found -> {
          if (found.isEmpty()) return Future.succeededFuture(false);
          LOG.info("killing an orphaned job process", kv("pid", pid), kv("started_at", processStartedAt.toString()));
          return ProcessTrees.kill(vertx, found.get(), graceMs()).map(true);
        });
  }

  /** CPU and memory of a job started here now (blocking work on a worker thread); zero for anything else. */
  public Future<WorkerUsage> usage(JobExecution execution) {
    if (!(execution instanceof RunningJob running)) return Future.succeededFuture(new WorkerUsage(0, 0));
    return vertx.executeBlocking(running::usage, false);
  }

  /**
   * Stops a job started here as {@code outcome} (with {@code errorType}), whatever it was doing: its tree is killed
   * and its result follows when the process exited.
   */
  public Future<Void> stop(JobExecution execution, Outcome outcome, String errorType, String reason) {
    if (!(execution instanceof RunningJob running)) return Future.succeededFuture();
    return running.end(new Ending(outcome, errorType, reason));
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

  /** Why a job is being ended by us (rather than by its own exit). */
  private record Ending(Outcome outcome, String errorType, String reason) {}

  /** The ending of a job that exited on its own before anyone stopped it. */
  private static final Ending EXITED = new Ending(null, null, null);

  private final class RunningJob implements JobExecution {
    private final JobSpec spec;
    private final Process process;
    private final Path dir;
    private final OutputListener listener;
    private final Runnable ended;
    private final Instant startedAt;
    private final long startNanos = System.nanoTime();
    private final Context context = vertx.getOrCreateContext();
    private final LogTail log = new LogTail(settings.maxLogBytes());
    private final Promise<JobResult> result = Promise.promise();
    private final Promise<Void> drained = Promise.promise();
    /** Set once: by {@link #end} when we stop the job, or to {@link #EXITED} when it ended on its own first. */
    private final AtomicReference<Ending> ending = new AtomicReference<>();
    private volatile long timeoutTimer = -1;
    /** Orders output handed to the watcher with the output it was given when it started watching. */
    private final Object outputLock = new Object();
    private java.util.function.Consumer<byte[]> watcher;
    private ProcessTrees.Sample lastSample;

    RunningJob(JobSpec spec, Process process, Path dir, OutputListener listener, Runnable ended) {
      this.spec = spec;
      this.process = process;
      this.dir = dir;
      this.listener = listener;
      this.ended = ended;
      // Empty only when the process is already gone, and then there is nothing left to reap.
      this.startedAt = process.info().startInstant().orElse(null);
    }

    void begin() {
      LOG.debug("job process started", kv("job_id", spec.jobId()), kv("pid", process.pid()));
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
          if (n == 0) continue;
          java.util.function.Consumer<byte[]> w;
          synchronized (outputLock) {
            log.append(buffer, 0, n);
            w = watcher;
            if (w != null) {
              byte[] chunk = Arrays.copyOf(buffer, n);
              context.runOnContext(v -> w.accept(chunk));
            }
          }
          if (listener != null) listener.output(spec.jobId(), Arrays.copyOf(buffer, n));
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
        LOG.info("stopping job process", kv("job_id", spec.jobId()), kv("pid", process.pid()),
            kv("outcome", requested.outcome()), kv("reason", requested.reason()));
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
      if (ended != null) ended.run();
      LOG.debug("job process finished", kv("job_id", spec.jobId()), kv("outcome", outcome.outcome()),
          kv("exit_code", outcome.exitCode()));
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

    @Override public String liveLog() { return log.totalBytes() == 0 ? null : log.render(); }
    /** The output read so far is handed over first, in order: nothing is missed or seen twice. */
    @Override
    public void watchOutput(java.util.function.Consumer<byte[]> chunks) {
      synchronized (outputLock) {
        if (log.totalBytes() > 0) {
          byte[] sofar = log.render().getBytes(java.nio.charset.StandardCharsets.UTF_8);
          context.runOnContext(v -> chunks.accept(sofar));
        }
        watcher = chunks;
      }
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
