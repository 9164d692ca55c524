package io.hodei.pool.provider;

import io.hodei.runner.ProcessRunner;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Runs jobs as OS processes on this host through the {@link ProcessRunner} (argv only, timeout, kill of the whole
 * tree, bounded log, usage from /proc). A worker is a slot that runs one job at a time; provisioning only records it.
 */
public final class LocalProcessProvider implements WorkerProvider {
  public static final String NAME = "local";
  private static final Logger LOG = LoggerFactory.getLogger(LocalProcessProvider.class);

  private final ProcessRunner runner;
  private final Map<String, LocalWorker> workers = new ConcurrentHashMap<>();
  private volatile boolean closed;

  public LocalProcessProvider(Vertx vertx, LocalProviderSettings settings) {
    this.runner = new ProcessRunner(Objects.requireNonNull(vertx, "vertx"), settings);
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
    long elapsedMs = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    LOG.debug("local worker provisioned", kv("worker_id", spec.workerId()), kv("pool", spec.poolId()));
    return Future.succeededFuture(new ProvisionedWorker(spec.workerId(), elapsedMs));
  }

  @Override
  public Future<Void> terminate(String workerId) {
    LocalWorker worker = workers.remove(workerId);
    if (worker == null) return Future.succeededFuture();
    JobExecution job = worker.terminate();
    LOG.debug("local worker terminated", kv("worker_id", workerId));
    return job == null ? Future.succeededFuture()
        : runner.stop(job, Outcome.LOST, JobResults.WORKER_LOST, "worker " + workerId + " was terminated");
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
    synchronized (worker) {
      if (worker.terminated) return JobResults.finished(job.jobId(), JobResults.workerLost(workerId));
      if (worker.job != null) {
        throw new IllegalStateException("worker " + workerId + " is busy with job " + worker.job.jobId());
      }
      JobExecution[] started = new JobExecution[1];
      started[0] = runner.start(job, null, () -> worker.release(started[0]));
      if (!started[0].result().isComplete()) worker.job = started[0];
      return started[0];
    }
  }

  @Override
  public Future<Boolean> probe(String workerId) {
    LocalWorker worker = workers.get(workerId);
    return Future.succeededFuture(worker != null && worker.alive());
  }

  @Override
  public Future<WorkerUsage> usage(String workerId) {
    LocalWorker worker = workers.get(workerId);
    JobExecution job = worker == null ? null : worker.currentJob();
    if (job == null) return Future.succeededFuture(new WorkerUsage(0, 0));
    return runner.usage(job);
  }

  @Override
  public Future<Boolean> reapOrphan(long pid, Instant processStartedAt) {
    return runner.reap(pid, processStartedAt);
  }

  @Override
  public Future<Void> close() {
    closed = true;
    List<Future<Void>> ends = new ArrayList<>();
    for (String workerId : List.copyOf(workers.keySet())) {
      LocalWorker worker = workers.remove(workerId);
      JobExecution job = worker == null ? null : worker.terminate();
      if (job != null) ends.add(runner.stop(job, Outcome.KILLED, JobResults.KILLED, "the provider is closing"));
    }
    return Future.join(ends).mapEmpty();
  }

  /** A slot for one job; {@code job} and {@code terminated} change together under the worker's lock. */
  private static final class LocalWorker {
    final String id;
    JobExecution job;
    boolean terminated;

    LocalWorker(String id) { this.id = id; }

    synchronized boolean alive() { return !terminated; }

    synchronized JobExecution currentJob() { return job; }

    /** Marks the worker gone and returns the job still running on it, if any. */
    synchronized JobExecution terminate() {
      terminated = true;
      return job;
    }

    synchronized void release(JobExecution finished) {
      if (job == finished) job = null;
    }
  }
}
