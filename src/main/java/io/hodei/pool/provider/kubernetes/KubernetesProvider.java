package io.hodei.pool.provider.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.Events;
import io.hodei.pool.PoolAddresses;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.agent.AgentProvider;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Workers that are agent pods. Provisioning a worker creates a pod running the Hodei agent for the worker's pool
 * (see {@link AgentPods}); the worker is ready when that agent registered over its stream, which binds the worker
 * to the agent's one slot in the {@link AgentProvider}. Jobs, kills, probes and usage then go through the agent
 * provider: this class only starts, watches and deletes pods.
 *
 * <p>One informer per pool watches its pods by label: a pod that fails, is evicted or is deleted from outside makes
 * its worker lost ({@link PoolAddresses#WORKER_LOST}; its job ends as {@code worker_lost} and is retried); a pod
 * that fails before its agent registered, or whose agent does not register within
 * {@code register_timeout_seconds}, is a failed provisioning (the pool backs off). After a server restart,
 * {@link #adoptWorkers} takes back the pods of the workers PostgreSQL holds and deletes the others.
 *
 * <p>Confined to the pool verticle's event loop; Kubernetes API calls (blocking in fabric8) run on worker threads
 * and informer events are handed back to the event loop.
 */
public final class KubernetesProvider implements WorkerProvider {
  public static final String NAME = "kubernetes";
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesProvider.class);

  private final Vertx vertx;
  private final Context context;
  private final KubernetesConfig.Defaults defaults;
  private final Function<String, KubernetesClient> clientFactory;
  private final java.util.function.Supplier<AgentProvider> agentLookup;
  /** Clients by master URL ("" for discovery), made on a worker thread (discovery reads files). */
  private final Map<String, Future<KubernetesClient>> clients = new HashMap<>();
  private final Map<String, PoolPods> pools = new HashMap<>();
  private final Map<String, PodWorker> workers = new HashMap<>();
  private final MessageConsumer<JsonObject> poolEvents;
  private AgentProvider agentProvider;
  private boolean closed;

  /**
   * @param clientFactory makes a client for a {@code master_url} (null: fabric8's discovery)
   * @param agentLookup   the server's agent provider (it owns the agents' streams)
   */
  public KubernetesProvider(Vertx vertx, KubernetesConfig.Defaults defaults,
                            Function<String, KubernetesClient> clientFactory,
                            java.util.function.Supplier<AgentProvider> agentLookup) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.defaults = defaults;
    this.clientFactory = clientFactory;
    this.agentLookup = agentLookup;
    this.poolEvents = vertx.eventBus().<JsonObject>consumer(Events.address(Events.POOL_STATE), msg -> {
      JsonObject event = msg.body();
      if ("deleted".equals(event.getString("reason"))) poolDeleted(event.getString("pool_id"));
    });
  }

  @Override
  public String name() { return NAME; }

  @Override
  public List<String> validateConfig(JsonObject providerConfig) {
    return KubernetesConfig.parse(providerConfig, defaults).errors();
  }

  // ---------------------------------------------------------------- provisioning

  @Override
  public Future<ProvisionedWorker> provision(WorkerSpec spec) {
    long started = System.nanoTime();
    if (closed) return Future.failedFuture(new IllegalStateException("the kubernetes provider is closed"));
    KubernetesConfig.Parsed parsed = KubernetesConfig.parse(spec.providerConfig(), defaults);
    if (!parsed.errors().isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException(String.join("; ", parsed.errors())));
    }
    KubernetesConfig config = parsed.config();
    AgentProvider agents = agents();
    if (agents == null) return Future.failedFuture(new IllegalStateException("the agent provider is not available"));
    agents.manage(spec.poolId());
    PodWorker worker = new PodWorker(spec, config);
    workers.put(spec.workerId(), worker);
    Promise<ProvisionedWorker> ready = Promise.promise();
    worker.provisioning = ready;
    PoolPods pool = pool(spec.poolId(), config);
    pool.watch()
        .compose(v -> pool.secret())
        .compose(v -> pool.api(client -> client.pods().inNamespace(config.namespace())
            .resource(AgentPods.pod(spec, config)).create()))
        .compose(pod -> {
          LOG.info("agent pod created", kv("pool", spec.poolId()), kv("worker_id", spec.workerId()),
              kv("pod", pod.getMetadata().getName()), kv("namespace", config.namespace()));
          return agents.provisionOn(spec, spec.workerId(),
              TimeUnit.SECONDS.toMillis(config.registerTimeoutSeconds()));
        })
        .onComplete(ar -> {
          if (ar.succeeded()) ready.tryComplete(new ProvisionedWorker(spec.workerId(),
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
          else ready.tryFail(ar.cause());
        });
    return ready.future().andThen(ar -> {
      worker.provisioning = null;
      if (ar.succeeded() && worker.state == PodState.STARTING) {
        worker.state = PodState.READY;
      } else if (ar.failed()) {
        workers.remove(spec.workerId(), worker);
        worker.state = PodState.GONE;
        // On shutdown the pod stays: the next start deletes it (its worker was not ready, so it is not adopted).
        // The agent provider closes first and fails this provisioning; this provider's close follows in the same
        // turn of the event loop, so the check waits for the next one.
        String why = "provisioning failed: " + ar.cause().getMessage();
        context.runOnContext(v -> {
          if (!closed) deletePod(worker, why);
        });
      }
    });
  }

  @Override
  public Future<Void> terminate(String workerId) {
    PodWorker worker = workers.remove(workerId);
    AgentProvider agents = agents();
    // the agent provider ends a job still on the worker as worker_lost; the pool drains busy workers before this
    Future<Void> unbound = agents == null ? Future.succeededFuture() : agents.terminate(workerId);
    if (worker == null) return unbound;
    worker.state = PodState.GONE;
    if (worker.provisioning != null) worker.provisioning.tryFail("the worker was terminated while provisioning");
    return unbound.compose(v -> deletePod(worker, "terminated"));
  }

  @Override
  public JobExecution run(String workerId, JobSpec job) {
    PodWorker worker = workers.get(workerId);
    if (worker != null && worker.state == PodState.ADOPTED) {
      // the pool requeues the job (no attempt is spent) and places it again once the agent is back
      throw new IllegalStateException("the agent of worker " + workerId + " has not registered again yet");
    }
    AgentProvider agents = agents();
    if (agents == null) {
      return LostExecution.of(job.jobId(), "the agent provider is not available; the job did not start");
    }
    return agents.run(workerId, job);
  }

  @Override
  public Future<Boolean> probe(String workerId) {
    PodWorker worker = workers.get(workerId);
    if (worker == null) return Future.succeededFuture(false);
    // an adopted pod counts as alive until its agent registers again or misses the registration timeout
    if (worker.state == PodState.ADOPTED) return Future.succeededFuture(true);
    AgentProvider agents = agents();
    return agents == null ? Future.succeededFuture(false) : agents.probe(workerId);
  }

  @Override
  public Future<WorkerUsage> usage(String workerId) {
    AgentProvider agents = agents();
    return agents == null ? Future.succeededFuture(new WorkerUsage(0, 0)) : agents.usage(workerId);
  }

  /**
   * Takes back the pods of the workers PostgreSQL holds for the pool (their agents reconnect and are bound to
   * their workers again) and deletes the pool's other pods.
   */
  @Override
  public Future<Void> adoptWorkers(String poolId, JsonObject providerConfig, List<String> workerIds) {
    KubernetesConfig.Parsed parsed = KubernetesConfig.parse(providerConfig, defaults);
    AgentProvider agents = agents();
    if (!parsed.errors().isEmpty() || agents == null) return Future.succeededFuture();
    KubernetesConfig config = parsed.config();
    agents.manage(poolId);
    PoolPods pool = pool(poolId, config);
    Set<String> known = Set.copyOf(workerIds);
    return pool.api(client -> client.pods().inNamespace(config.namespace())
        .withLabel(AgentPods.POOL_LABEL, poolId).list().getItems()).compose(pods -> {
          int adopted = 0;
          int orphans = 0;
          for (Pod pod : pods) {
            String workerId = pod.getMetadata().getLabels().get(AgentPods.WORKER_LABEL);
            if (workerId != null && known.contains(workerId) && AgentPods.gone(pod) == null
                && !workers.containsKey(workerId)) {
              adopt(pod, workerId, poolId, config, agents);
              adopted++;
            } else if (workerId == null || !workers.containsKey(workerId)) {
              orphans++;
              String name = pod.getMetadata().getName();
              pool.api(client -> client.pods().inNamespace(config.namespace()).withName(name).delete())
                  .onFailure(err -> LOG.warn("orphan pod not deleted", kv("pod", name), kv("reason", err.getMessage())));
            }
          }
          LOG.info("agent pods adopted", kv("pool", poolId), kv("adopted", adopted), kv("orphans_deleted", orphans));
          return pool.watch();
        });
  }

  private void adopt(Pod pod, String workerId, String poolId, KubernetesConfig config, AgentProvider agents) {
    WorkerSpec spec = new WorkerSpec(workerId, poolId, 0, 0, new JsonObject());
    PodWorker worker = new PodWorker(spec, config);
    worker.state = PodState.ADOPTED;
    workers.put(workerId, worker);
    agents.provisionOn(spec, workerId, TimeUnit.SECONDS.toMillis(config.registerTimeoutSeconds())).onComplete(ar -> {
      if (worker.state != PodState.ADOPTED) return;
      if (ar.succeeded()) {
        worker.state = PodState.READY;
        LOG.info("adopted agent pod registered again", kv("pool", poolId), kv("worker_id", workerId));
      } else {
        lost(worker, "its agent did not register again within " + config.registerTimeoutSeconds() + " s");
      }
    });
  }

  @Override
  public Future<Void> close() {
    closed = true;
    poolEvents.unregister();
    for (PodWorker worker : workers.values()) {
      if (worker.provisioning != null) worker.provisioning.tryFail("the kubernetes provider is closing");
    }
    List<Future<Void>> stops = new ArrayList<>();
    pools.values().forEach(pool -> stops.add(pool.stopWatching()));
    pools.clear();
    List<Future<KubernetesClient>> made = List.copyOf(clients.values());
    clients.clear();
    return Future.join(stops).compose(v -> blocking(() -> {
      made.stream().filter(Future::succeeded).forEach(client -> client.result().close());
      return null;
    })).mapEmpty();
  }

  // ---------------------------------------------------------------- pods going away

  /** An informer event: a pod of the pool changed or was deleted. */
  private void onPod(Pod pod, boolean deleted) {
    String workerId = pod.getMetadata().getLabels() == null ? null
        : pod.getMetadata().getLabels().get(AgentPods.WORKER_LABEL);
    PodWorker worker = workerId == null ? null : workers.get(workerId);
    if (worker == null || worker.state == PodState.GONE) return;
    String why = deleted ? "pod " + pod.getMetadata().getName() + " was deleted" : AgentPods.gone(pod);
    if (why == null) return;
    if (worker.provisioning != null) {
      worker.provisioning.tryFail(why);
    } else {
      lost(worker, why);
    }
  }

  /** The worker's pod is gone or useless: its job ends as worker_lost and the pool replaces it. */
  private void lost(PodWorker worker, String why) {
    if (worker.state == PodState.GONE) return;
    worker.state = PodState.GONE;
    workers.remove(worker.spec.workerId(), worker);
    LOG.warn("agent pod lost", kv("pool", worker.spec.poolId()), kv("worker_id", worker.spec.workerId()),
        kv("reason", why));
    AgentProvider agents = agents();
    if (agents != null) agents.terminate(worker.spec.workerId());
    deletePod(worker, why);
    JsonObject envelope = BusRequest.envelope(new JsonObject().put("id", worker.spec.poolId())
        .put("worker_id", worker.spec.workerId()), new JsonObject(), new JsonObject().put("reason", why), null);
    Bus.request(vertx, PoolAddresses.WORKER_LOST, envelope, Caller.system(), null).onFailure(err -> LOG.warn(
        "the pool was not told about a lost worker", kv("worker_id", worker.spec.workerId()),
        kv("reason", err.getMessage())));
  }

  private Future<Void> deletePod(PodWorker worker, String why) {
    PoolPods pool = pools.get(worker.spec.poolId());
    if (pool == null) return Future.succeededFuture();
    String name = AgentPods.podName(worker.spec.workerId());
    return pool.api(client -> client.pods().inNamespace(worker.config.namespace()).withName(name).delete())
        .<Void>map(deleted -> {
          if (!deleted.isEmpty()) LOG.info("agent pod deleted", kv("pod", name), kv("reason", why));
          return null;
        })
        .onFailure(err -> LOG.warn("agent pod not deleted", kv("pod", name), kv("reason", err.getMessage())));
  }

  /** The pool is gone: its Secret is deleted (its agent token went with the pool) and its informer stopped. */
  private void poolDeleted(String poolId) {
    PoolPods pool = pools.remove(poolId);
    if (pool == null) return;
    pool.stopWatching();
    pool.api(client -> client.secrets().inNamespace(pool.config.namespace()).withName(AgentPods.secretName(poolId))
        .delete()).onComplete(ar -> LOG.info("agent token secret of a deleted pool removed", kv("pool", poolId),
        kv("ok", ar.succeeded())));
  }

  // ---------------------------------------------------------------- plumbing

  private AgentProvider agents() {
    if (agentProvider == null) agentProvider = agentLookup.get();
    return agentProvider;
  }

  private PoolPods pool(String poolId, KubernetesConfig config) {
    PoolPods pool = pools.get(poolId);
    if (pool == null) {
      Future<KubernetesClient> client = clients.computeIfAbsent(config.masterUrl() == null ? ""
          : config.masterUrl(), url -> blocking(() -> clientFactory.apply(url.isEmpty() ? null : url)));
      pool = new PoolPods(vertx, poolId, config, client, (pod, deleted) -> context.runOnContext(v -> onPod(pod, deleted)));
      pools.put(poolId, pool);
    }
    return pool;
  }

  private <T> Future<T> blocking(Callable<T> call) {
    return vertx.executeBlocking(call, false);
  }

  private enum PodState {
    /** Pod requested, agent not registered yet. */
    STARTING,
    /** The agent registered: the worker is bound to its slot. */
    READY,
    /** Found again after a restart; its agent has not registered again yet. */
    ADOPTED,
    /** Terminated or lost. */
    GONE
  }

  private static final class PodWorker {
    final WorkerSpec spec;
    final KubernetesConfig config;
    PodState state = PodState.STARTING;
    Promise<ProvisionedWorker> provisioning;

    PodWorker(WorkerSpec spec, KubernetesConfig config) {
      this.spec = spec;
      this.config = config;
    }
  }

  /** A job that could not start: it ends at once as worker_lost. */
  private record LostExecution(String jobId, Future<JobResult> result) implements JobExecution {
    static LostExecution of(String jobId, String why) {
      return new LostExecution(jobId, Future.succeededFuture(new JobResult(Outcome.FAILED, null, 0, "worker_lost",
          why + "\n")));
    }

    @Override public long pid() { return -1; }
    @Override public Instant processStartedAt() { return null; }
    @Override public Future<Void> kill(String reason) { return Future.succeededFuture(); }
  }
}
