package io.hodei.pool.provider.agent;

import io.hodei.pool.provider.WorkerProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Workers that are the slots of remote agents. An agent holds one stream to the server (see {@code agent.proto}); a
 * pool with {@code provider: agent} is made of the slots its agents registered, and its static size follows them.
 *
 * <p>Provisioning binds a worker to a free slot of a registered agent of the pool (waiting for one for a while);
 * running a job sends an assignment down the agent's stream; the agent reports start, output, usage and the end
 * ({@link AgentReports}). A disconnected agent keeps its workers and jobs for the reconnect grace: when it comes
 * back it reports what it runs and what ended meanwhile, and the jobs are re-attached ({@link AgentSessions}); after
 * the grace its jobs end as {@code worker_lost} (the scheduler retries them) and its workers leave the pool. After
 * a server restart, the jobs agents kept running are taken up again ({@link RestartAdoption}).
 *
 * <p>Each registration is published locally on {@link AgentAddresses#REGISTERED} (a capacity provider that starts
 * agents learns there that one joined its pool). Confined to the pool verticle's event loop.
 */
public final class AgentProvider implements WorkerProvider, io.vertx.core.shareddata.Shareable {
  public static final String NAME = "agent";
  static final int HEARTBEAT_INTERVAL_MS = 2000;
  /**
   * An agent silent this long (it sends a heartbeat every {@value #HEARTBEAT_INTERVAL_MS} ms) has a dead connection
   * that TCP has not noticed: its stream is ended, which starts its grace.
   */
  static final long SILENCE_LIMIT_MS = 15_000;
  /** How long a provisioning waits for a free agent slot before it fails (the pool retries with back-off). */
  static final long PROVISION_WAIT_MS = 30_000;
  /** Where the instance is found by {@link #of} (a local shared-data map of that name, one key). */
  private static final String INSTANCE_MAP = "hodei.pool.provider.agent";

  private final Vertx vertx;
  private final AgentLinks links;
  private final RestartAdoption adoption;
  private final AgentSessions sessions;
  private final Map<String, Deque<Waiting>> waiting = new HashMap<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private final long watchdog;
  private int assignments;
  private boolean closed;
  private boolean loaded;

  public AgentProvider(Vertx vertx, int graceSeconds, MeterRegistry registry) {
    this.vertx = vertx;
    long graceMs = TimeUnit.SECONDS.toMillis(graceSeconds);
    this.links = new AgentLinks(vertx, new AgentMeters(registry));
    this.adoption = new RestartAdoption(links, graceMs);
    AgentReports reports = new AgentReports(links, adoption, this::serveWaiting);
    this.sessions = new AgentSessions(links, adoption, reports, graceMs, HEARTBEAT_INTERVAL_MS, this::serveWaiting);
    // cluster-wide: on a cluster the streams are held by any node and this provider runs on the leader
    // on a cluster, streams held by followers may register before this new leader's pool domain has reclaimed its
    // workers: such an agent's running jobs would look unknown here and be killed, so it is asked to come back
    // (a single server opens its gRPC port only after the pool domain has loaded)
    this.loaded = !vertx.isClustered();
    consumers.add(vertx.eventBus().<JsonObject>consumer(AgentAddresses.REGISTER, msg -> {
      if (loaded) {
        sessions.onRegister(msg);
      } else {
        msg.fail(503, "the server is starting: the pool domain has not loaded its workers yet");
      }
    }));
    consumers.add(vertx.eventBus().<Buffer>consumer(AgentAddresses.INBOUND, reports::onInbound));
    consumers.add(vertx.eventBus().<JsonObject>consumer(AgentAddresses.DISCONNECTED,
        msg -> sessions.onDisconnected(msg.body().getString("session"))));
    watchdog = vertx.setPeriodic(HEARTBEAT_INTERVAL_MS, id -> sessions.closeSilent(SILENCE_LIMIT_MS));
    vertx.sharedData().getLocalMap(INSTANCE_MAP).put(INSTANCE_MAP, this);
  }

  /**
   * On a cluster, a new leader's pool domain has reclaimed its workers: registrations are taken from here on, and
   * the streams registered with the previous leader end so that their agents register here (within the reconnect
   * grace their running jobs are re-attached, as after a restart).
   */
  @Override
  public void loaded() {
    if (loaded || closed) return;
    loaded = true;
    Future.all(consumers.stream().map(MessageConsumer::completion).toList()).onSuccess(v -> {
      if (!closed) vertx.eventBus().publish(AgentAddresses.RESET, new JsonObject());
    });
  }

  /**
   * The agent provider of {@code vertx}, for capacity providers (such as {@code kubernetes}) that start agents and
   * reuse its stream handling; null when none was created.
   */
  public static AgentProvider of(Vertx vertx) {
    return (AgentProvider) vertx.sharedData().getLocalMap(INSTANCE_MAP).get(INSTANCE_MAP);
  }

  /**
   * Capacity-provider hook: the pool's workers are agents started one per worker by another provider, so the pool's
   * size does not follow registrations, workers bind only through {@link #provisionOn}, and a lost agent's worker
   * is recorded as lost (and replaced) rather than removed.
   */
  public void manage(String poolId) { links.managedPools.add(poolId); }

  /**
   * Capacity-provider hook: binds {@code spec}'s worker to the first slot of agent {@code agentId} (of the spec's
   * pool) once that agent registered, failing after {@code waitMs}.
   */
  public Future<ProvisionedWorker> provisionOn(WorkerSpec spec, String agentId, long waitMs) {
    return provision(spec, agentId, waitMs);
  }

  @Override
  public String name() { return NAME; }

  /** Agents bring their own configuration (slots, resources, labels); the pool takes none. */
  @Override
  public List<String> validateConfig(JsonObject providerConfig) {
    List<String> problems = new ArrayList<>();
    if (providerConfig != null) {
      providerConfig.fieldNames().forEach(k -> problems.add(k + ": unknown key (agent pools take no provider_config)"));
    }
    return problems;
  }

  @Override
  public Future<ProvisionedWorker> provision(WorkerSpec spec) {
    return provision(spec, null, PROVISION_WAIT_MS);
  }

  private Future<ProvisionedWorker> provision(WorkerSpec spec, String agentId, long waitMs) {
    long started = System.nanoTime();
    if (closed) return Future.failedFuture(new IllegalStateException("the agent provider is closed"));
    Agent.Slot free = links.freeSlot(spec.poolId(), agentId);
    if (free != null) {
      links.bind(free, spec.workerId());
      return Future.succeededFuture(new ProvisionedWorker(spec.workerId(), 0));
    }
    Promise<ProvisionedWorker> promise = Promise.promise();
    Waiting w = new Waiting(spec, agentId, promise, started);
    w.timer = vertx.setTimer(waitMs, id -> {
      Deque<Waiting> queue = waiting.get(spec.poolId());
      if (queue != null) queue.remove(w);
      promise.tryFail(agentId != null ? "agent '" + agentId + "' did not register within " + waitMs / 1000 + " s"
          : "no free agent slot in pool '" + spec.poolId() + "' within " + waitMs / 1000
          + " s: start an agent for it (hodei-pools agent --pool " + spec.poolId() + ")");
    });
    waiting.computeIfAbsent(spec.poolId(), k -> new ArrayDeque<>()).add(w);
    return promise.future();
  }

  @Override
  public Future<Void> terminate(String workerId) {
    adoption.forget(workerId);
    Agent.Slot slot = links.workers.remove(workerId);
    if (slot == null) return Future.succeededFuture();
    slot.workerId = null;
    AgentJob job = slot.job;
    if (job != null) {
      job.requestKill("worker " + workerId + " was terminated");
      job.complete(new JobResult(Outcome.LOST, null, 0, AgentReports.WORKER_LOST,
          "worker " + workerId + " was terminated\n"));
    }
    if (!slot.agent.lost) serveWaiting(slot.agent.poolId);
    return Future.succeededFuture();
  }

  @Override
  public JobExecution run(String workerId, JobSpec spec) {
    Agent.Slot slot = links.workers.get(workerId);
    int attempt = spec.attempt() > 0 ? spec.attempt() : ++assignments;
    AgentJob waiting = slot == null ? adoption.runWhenBack(workerId, spec, attempt) : null;
    if (waiting != null) return waiting;
    if (slot == null || slot.agent.lost) {
      return new AgentJob(links, null, spec, 0).finishedAs(new JobResult(Outcome.FAILED, null, 0,
          AgentReports.WORKER_LOST, "worker " + workerId + " is unknown or its agent is gone; the job did not start\n"));
    }
    if (slot.job != null) {
      throw new IllegalStateException("worker " + workerId + " is busy with job " + slot.job.spec.jobId());
    }
    // the job's attempt identifies the run on the agent, across server restarts too
    AgentJob job = new AgentJob(links, slot, spec, attempt);
    slot.job = job;
    AgentJob previous = links.jobs.put(spec.jobId(), job);
    if (previous != null && previous != job) {
      previous.complete(new JobResult(Outcome.LOST, null, 0, AgentReports.WORKER_LOST, "the job was assigned again\n"));
    }
    if (slot.agent.session != null) job.send();
    return job;
  }

  @Override
  public Future<Boolean> probe(String workerId) {
    Agent.Slot slot = links.workers.get(workerId);
    // within the grace a disconnected agent's workers stay healthy: their jobs may be re-attached
    return Future.succeededFuture(adoption.expects(workerId) || slot != null && !slot.agent.lost);
  }

  /** After a server restart, the workers of agent pools are kept for the reconnect grace. */
  @Override
  public Future<Boolean> reclaim(String workerId, String poolId, String currentJobId) {
    return Future.succeededFuture(adoption.reclaim(workerId, poolId, currentJobId));
  }

  @Override
  public JobExecution adopt(String workerId, String jobId, int attempt) {
    return adoption.adopt(workerId, jobId, attempt);
  }

  @Override
  public Future<WorkerUsage> usage(String workerId) {
    Agent.Slot slot = links.workers.get(workerId);
    AgentJob job = slot == null ? null : slot.job;
    return Future.succeededFuture(job == null || job.usage == null ? new WorkerUsage(0, 0) : job.usage);
  }

  @Override
  public Future<Void> close() {
    closed = true;
    vertx.cancelTimer(watchdog);
    adoption.stop();
    consumers.forEach(MessageConsumer::unregister);
    sessions.close();
    waiting.values().forEach(queue -> queue.forEach(w -> {
      vertx.cancelTimer(w.timer);
      w.promise.tryFail("the agent provider is closing");
    }));
    waiting.clear();
    vertx.sharedData().getLocalMap(INSTANCE_MAP).remove(INSTANCE_MAP, this);
    return Future.succeededFuture();
  }

  /** Gives free slots of the pool to provisionings that wait for one. */
  private void serveWaiting(String poolId) {
    Deque<Waiting> queue = waiting.get(poolId);
    if (queue == null) return;
    for (Waiting w : List.copyOf(queue)) {
      Agent.Slot free = links.freeSlot(poolId, w.agentId);
      if (free == null) continue;
      queue.remove(w);
      vertx.cancelTimer(w.timer);
      links.bind(free, w.spec.workerId());
      w.promise.tryComplete(new ProvisionedWorker(w.spec.workerId(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.startedNanos)));
    }
  }

  private static final class Waiting {
    final WorkerSpec spec;
    /** The one agent whose slot this provisioning takes, or null for any agent of the pool. */
    final String agentId;
    final Promise<ProvisionedWorker> promise;
    final long startedNanos;
    long timer;

    Waiting(WorkerSpec spec, String agentId, Promise<ProvisionedWorker> promise, long startedNanos) {
      this.spec = spec;
      this.agentId = agentId;
      this.promise = promise;
      this.startedNanos = startedNanos;
    }
  }
}
