package io.hodei.pool.provider.agent;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.grpc.v1.AgentMessage;
import io.hodei.grpc.v1.Assign;
import io.hodei.grpc.v1.JobEnded;
import io.hodei.grpc.v1.Kill;
import io.hodei.grpc.v1.Register;
import io.hodei.grpc.v1.Registered;
import io.hodei.grpc.v1.RunningJob;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.pool.PoolAddresses;
import io.hodei.pool.provider.WorkerProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Workers that are the slots of remote agents. An agent holds one stream to the server (see {@code agent.proto}); a
 * pool with {@code provider: agent} is made of the slots its agents registered, and its static size follows them.
 *
 * <p>Provisioning binds a worker to a free slot of a registered agent of the pool (waiting for one for a while);
 * running a job sends an assignment down the agent's stream; the agent reports start, output, usage and the end.
 * A disconnected agent keeps its workers and jobs for the reconnect grace: when it comes back it reports what it
 * runs and what ended meanwhile, and the jobs are re-attached; a job the server no longer runs there is killed.
 * After the grace the agent's jobs end as {@code worker_lost} (the scheduler retries them) and its workers are
 * removed from the pool.
 *
 * <p>Confined to the pool verticle's event loop (it is created there and every call and message arrives there);
 * only the gauges read the maps from other threads.
 */
public final class AgentProvider implements WorkerProvider, io.vertx.core.shareddata.Shareable {
  public static final String NAME = "agent";
  private static final Logger LOG = LoggerFactory.getLogger(AgentProvider.class);
  static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  static final int MAX_SLOTS = 256;
  static final int HEARTBEAT_INTERVAL_MS = 2000;
  /**
   * An agent silent this long (it sends a heartbeat every {@value #HEARTBEAT_INTERVAL_MS} ms) has a dead connection
   * that TCP has not noticed: its stream is ended, which starts its grace.
   */
  static final long SILENCE_LIMIT_MS = 15_000;
  /** How long a provisioning waits for a free agent slot before it fails (the pool retries with back-off). */
  static final long PROVISION_WAIT_MS = 30_000;
  private static final String WORKER_LOST = "worker_lost";
  /** Where the instance is found by {@link #of} (a local shared-data map of that name, one key). */
  private static final String INSTANCE_MAP = "hodei.pool.provider.agent";
  private static final Set<String> ERROR_TYPES = Set.of("exit_code", "timeout", "killed", "invalid_command",
      WORKER_LOST);

  private final Vertx vertx;
  private final long graceMs;
  private final AgentMeters meters;
  private final Map<String, Agent> agents = new ConcurrentHashMap<>();
  private final Map<String, Agent> sessions = new HashMap<>();
  private final Map<String, Slot> workers = new HashMap<>();
  private final Map<String, AgentJob> jobs = new HashMap<>();
  private final Map<String, Deque<Waiting>> waiting = new HashMap<>();
  /** Agent ids seen by this server process: a second registration of one is a reconnect. */
  private final Set<String> seen = new HashSet<>();
  /** Pools whose agents a capacity provider starts (one agent per worker): their size does not follow agents. */
  private final Set<String> managedPools = ConcurrentHashMap.newKeySet();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private int assignments;
  private boolean closed;
  private final long watchdog;

  public AgentProvider(Vertx vertx, int graceSeconds, MeterRegistry registry) {
    this.vertx = vertx;
    this.graceMs = TimeUnit.SECONDS.toMillis(graceSeconds);
    this.meters = new AgentMeters(registry);
    consumers.add(vertx.eventBus().<JsonObject>localConsumer(AgentAddresses.REGISTER, this::onRegister));
    consumers.add(vertx.eventBus().<Buffer>localConsumer(AgentAddresses.INBOUND, this::onInbound));
    consumers.add(vertx.eventBus().<JsonObject>localConsumer(AgentAddresses.DISCONNECTED,
        msg -> onDisconnected(msg.body().getString("session"))));
    watchdog = vertx.setPeriodic(HEARTBEAT_INTERVAL_MS, id -> closeSilentStreams());
    vertx.sharedData().getLocalMap(INSTANCE_MAP).put(INSTANCE_MAP, this);
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
   * size does not follow registrations and workers bind only through {@link #provisionOn}.
   */
  public void manage(String poolId) { managedPools.add(poolId); }

  /**
   * Capacity-provider hook: binds {@code spec}'s worker to the first slot of agent {@code agentId} (of the spec's
   * pool) once that agent registered, failing after {@code waitMs}.
   */
  public Future<ProvisionedWorker> provisionOn(WorkerSpec spec, String agentId, long waitMs) {
    return provision(spec, agentId, waitMs);
  }

  private void closeSilentStreams() {
    long now = System.nanoTime();
    for (Agent agent : agents.values()) {
      String session = agent.session;
      if (session != null && TimeUnit.NANOSECONDS.toMillis(now - agent.lastHeartbeatNanos) > SILENCE_LIMIT_MS) {
        LOG.warn("agent silent: ending its stream", kv("agent_id", agent.id), kv("pool", agent.poolId),
            kv("silent_ms", TimeUnit.NANOSECONDS.toMillis(now - agent.lastHeartbeatNanos)));
        closeSession(session, "no heartbeat for " + SILENCE_LIMIT_MS / 1000 + " s");
        onDisconnected(session);
      }
    }
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
    Slot free = freeSlot(spec.poolId(), agentId);
    if (free != null) {
      bind(free, spec.workerId());
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
    Slot slot = workers.remove(workerId);
    if (slot == null) return Future.succeededFuture();
    slot.workerId = null;
    AgentJob job = slot.job;
    if (job != null) {
      job.requestKill("worker " + workerId + " was terminated");
      job.complete(new JobResult(Outcome.LOST, null, 0, WORKER_LOST, "worker " + workerId + " was terminated\n"));
    }
    if (!slot.agent.lost) serveWaiting(slot.agent.poolId);
    return Future.succeededFuture();
  }

  @Override
  public JobExecution run(String workerId, JobSpec spec) {
    Slot slot = workers.get(workerId);
    if (slot == null || slot.agent.lost) {
      return new AgentJob(null, spec, 0).finishedAs(new JobResult(Outcome.FAILED, null, 0, WORKER_LOST,
          "worker " + workerId + " is unknown or its agent is gone; the job did not start\n"));
    }
    if (slot.job != null) {
      throw new IllegalStateException("worker " + workerId + " is busy with job " + slot.job.spec.jobId());
    }
    AgentJob job = new AgentJob(slot, spec, ++assignments);
    slot.job = job;
    AgentJob previous = jobs.put(spec.jobId(), job);
    if (previous != null && previous != job) {
      previous.complete(new JobResult(Outcome.LOST, null, 0, WORKER_LOST, "the job was assigned again\n"));
    }
    if (slot.agent.session != null) job.send();
    return job;
  }

  @Override
  public Future<Boolean> probe(String workerId) {
    Slot slot = workers.get(workerId);
    // within the grace a disconnected agent's workers stay healthy: their jobs may be re-attached
    return Future.succeededFuture(slot != null && !slot.agent.lost);
  }

  @Override
  public Future<WorkerUsage> usage(String workerId) {
    Slot slot = workers.get(workerId);
    AgentJob job = slot == null ? null : slot.job;
    return Future.succeededFuture(job == null || job.usage == null ? new WorkerUsage(0, 0) : job.usage);
  }

  @Override
  public Future<Void> close() {
    closed = true;
    vertx.sharedData().getLocalMap(INSTANCE_MAP).remove(INSTANCE_MAP, this);
    vertx.cancelTimer(watchdog);
    consumers.forEach(MessageConsumer::unregister);
    for (Agent agent : agents.values()) {
      if (agent.graceTimer >= 0) vertx.cancelTimer(agent.graceTimer);
      if (agent.session != null) closeSession(agent.session, "the server is stopping");
    }
    waiting.values().forEach(queue -> queue.forEach(w -> {
      vertx.cancelTimer(w.timer);
      w.promise.tryFail("the agent provider is closing");
    }));
    waiting.clear();
    return Future.succeededFuture();
  }

  // ---------------------------------------------------------------- slots

  private Slot freeSlot(String poolId, String agentId) {
    for (Agent agent : agents.values()) {
      if (agent.lost || !agent.poolId.equals(poolId)) continue;
      if (agentId != null ? !agentId.equals(agent.id) : managedPools.contains(poolId)) continue;
      for (Slot slot : agent.slots) {
        if (slot.workerId == null && slot.killing == null) return slot;
      }
    }
    return null;
  }

  private void bind(Slot slot, String workerId) {
    slot.workerId = workerId;
    workers.put(workerId, slot);
    LOG.info("agent slot bound to a worker", kv("agent_id", slot.agent.id), kv("slot", slot.index),
        kv("worker_id", workerId), kv("pool", slot.agent.poolId));
  }

  /** Gives free slots of the pool to provisionings that wait for one. */
  private void serveWaiting(String poolId) {
    Deque<Waiting> queue = waiting.get(poolId);
    if (queue == null) return;
    for (Waiting w : List.copyOf(queue)) {
      Slot free = freeSlot(poolId, w.agentId);
      if (free == null) continue;
      queue.remove(w);
      vertx.cancelTimer(w.timer);
      bind(free, w.spec.workerId());
      w.promise.tryComplete(new ProvisionedWorker(w.spec.workerId(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.startedNanos)));
    }
  }

  // ---------------------------------------------------------------- registration

  private void onRegister(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    String session = body.getString("session");
    Register register;
    try {
      register = Register.parseFrom(Base64.getDecoder().decode(body.getString("register", "")));
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      refuse(msg, DomainException.badRequest("the Register message is malformed"));
      return;
    }
    String problem = problem(register);
    if (problem != null) {
      LOG.warn("agent registration refused", kv("agent_id", register.getAgentId()), kv("reason", problem));
      refuse(msg, DomainException.badRequest(problem));
      return;
    }
    String tokenPool = body.getString("token_pool_id");
    if (!register.getPoolId().equals(tokenPool)) {
      LOG.warn("agent registration refused: its token is for another pool", kv("agent_id", register.getAgentId()),
          kv("pool", register.getPoolId()), kv("token_pool", tokenPool));
      refuse(msg, DomainException.forbidden("the agent token is for another pool than '" + register.getPoolId() + "'"));
      return;
    }
    Agent agent = agents.get(register.getAgentId());
    if (agent != null && !agent.poolId.equals(register.getPoolId())) {
      refuse(msg, DomainException.conflict("agent '" + register.getAgentId() + "' is registered in pool '"
          + agent.poolId + "'; give this agent its own work directory"));
      return;
    }
    if (agent != null && agent.slots.length != register.getSlots()) {
      // a different shape is a different agent: the old one is lost now
      lose(agent, "it registered again with " + register.getSlots() + " slots instead of " + agent.slots.length);
      agent = null;
    }
    boolean reconnect = !seen.add(register.getAgentId());
    if (agent == null) {
      agent = new Agent(register);
      agents.put(agent.id, agent);
    } else {
      if (agent.graceTimer >= 0) vertx.cancelTimer(agent.graceTimer);
      agent.graceTimer = -1;
      if (agent.session != null) {
        sessions.remove(agent.session);
        closeSession(agent.session, "the agent connected again on another stream");
      }
    }
    agent.session = session;
    agent.lastHeartbeatNanos = System.nanoTime();
    sessions.put(session, agent);
    AgentMeters.PoolMeters poolMeters = poolMeters(agent.poolId);
    if (reconnect) poolMeters.reconnected();
    LOG.info(reconnect ? "agent reconnected" : "agent registered", kv("agent_id", agent.id), kv("pool", agent.poolId),
        kv("hostname", register.getHostname()), kv("slots", agent.slots.length), kv("version", register.getVersion()),
        kv("running", register.getRunningCount()), kv("ended", register.getEndedCount()));
    msg.reply(new JsonObject().put("registered", Base64.getEncoder().encodeToString(Registered.newBuilder()
        .setAgentId(agent.id).setHeartbeatIntervalMs(HEARTBEAT_INTERVAL_MS).setMaxLogBytes(JobResult.MAX_LOG_BYTES)
        .build().toByteArray())));
    reattach(agent, register);
    serveWaiting(agent.poolId);
    resizePool(agent.poolId);
  }

  private static String problem(Register register) {
    if (!AGENT_ID.matcher(register.getAgentId()).matches()) {
      return "agent_id must match " + AGENT_ID.pattern();
    }
    if (register.getSlots() < 1 || register.getSlots() > MAX_SLOTS) return "slots must be between 1 and " + MAX_SLOTS;
    if (register.getCpuM() < 0 || register.getMemoryMb() < 0) return "cpu_m and memory_mb must not be negative";
    if (register.getPoolId().isEmpty()) return "pool_id is required";
    if (register.getRunningCount() > MAX_SLOTS || register.getEndedCount() > 4 * MAX_SLOTS) {
      return "too many running or ended jobs reported";
    }
    return null;
  }

  /**
   * Reconciles what the agent reports with what the server runs there: reported running jobs the server still
   * runs there are re-attached (and others killed on the agent), ended ones are applied, assignments made while it
   * was away are sent now, and jobs it no longer knows are lost.
   */
  private void reattach(Agent agent, Register register) {
    for (Slot slot : agent.slots) slot.killing = null;
    Map<String, Integer> running = new HashMap<>();
    for (RunningJob r : register.getRunningList()) running.put(r.getJobId(), r.getAttempt());
    Set<String> ended = new HashSet<>();
    for (JobEnded e : register.getEndedList()) {
      ended.add(e.getJobId());
      onEnded(agent, e);
    }
    for (Slot slot : agent.slots) {
      AgentJob job = slot.job;
      if (job == null) continue;
      Integer attempt = running.get(job.spec.jobId());
      if (attempt != null && attempt == job.attempt) {
        job.sent = true;
        if (job.killReason != null) job.sendKill();
        LOG.info("agent job re-attached", kv("agent_id", agent.id), kv("job_id", job.spec.jobId()));
      } else if (!job.sent || (job.pid < 0 && !ended.contains(job.spec.jobId()))) {
        // never sent, or sent and never reported started: the assignment was lost with the stream, send it again
        job.send();
      } else if (!ended.contains(job.spec.jobId())) {
        LOG.warn("the agent no longer runs a job it was given", kv("agent_id", agent.id),
            kv("job_id", job.spec.jobId()));
        job.complete(new JobResult(Outcome.LOST, null, 0, WORKER_LOST,
            "agent " + agent.id + " came back without the job (it was restarted?)\n"));
      }
    }
    for (RunningJob r : register.getRunningList()) {
      AgentJob job = jobs.get(r.getJobId());
      if (job == null || job.slot == null || job.slot.agent != agent || job.attempt != r.getAttempt()) {
        LOG.warn("agent runs a job the server does not run there: killing it", kv("agent_id", agent.id),
            kv("job_id", r.getJobId()), kv("attempt", r.getAttempt()));
        // the slot takes no new work until the agent reports the killed job's end
        if (r.getSlot() >= 0 && r.getSlot() < agent.slots.length && agent.slots[r.getSlot()].job == null) {
          agent.slots[r.getSlot()].killing = r.getJobId();
        }
        send(agent, ServerMessage.newBuilder().setKill(Kill.newBuilder().setJobId(r.getJobId())
            .setAttempt(r.getAttempt()).setReason("the server does not run this job here any more")).build());
      }
    }
  }

  /** The pool's size follows the slots its agents registered (static pools; a dynamic pool keeps its bounds). */
  private void resizePool(String poolId) {
    if (managedPools.contains(poolId)) return;
    int slots = agents.values().stream().filter(a -> !a.lost && a.poolId.equals(poolId))
        .mapToInt(a -> a.slots.length).sum();
    JsonObject envelope = BusRequest.envelope(new JsonObject().put("id", poolId), new JsonObject(),
        new JsonObject().put("size", slots), null);
    Bus.request(vertx, PoolAddresses.SET_STATIC, envelope, Caller.system(), null).onFailure(err -> LOG.info(
        "the pool's size does not follow its agents", kv("pool", poolId), kv("reason", err.getMessage())));
  }

  private static void refuse(Message<?> msg, DomainException e) {
    msg.fail(e.status(), e.getMessage());
  }

  // ---------------------------------------------------------------- stream messages

  private void onInbound(Message<Buffer> msg) {
    Agent agent = sessions.get(msg.headers().get(AgentAddresses.SESSION));
    msg.reply(null);
    if (agent == null) return;
    AgentMessage message;
    try {
      message = AgentMessage.parseFrom(msg.body().getBytes());
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("malformed agent message ignored", kv("agent_id", agent.id));
      return;
    }
    agent.lastHeartbeatNanos = System.nanoTime();
    switch (message.getKindCase()) {
      case HEARTBEAT -> { }
      case STARTED -> {
        AgentJob job = claimed(agent, message.getStarted().getJobId(), message.getStarted().getAttempt(), true);
        if (job != null) job.pid = message.getStarted().getPid();
      }
      case LOG -> {
        AgentJob job = claimed(agent, message.getLog().getJobId(), message.getLog().getAttempt(), false);
        int size = message.getLog().getData().size();
        long kept = job == null ? 0 : Math.max(0, Math.min(size, JobResult.MAX_LOG_BYTES - job.logBytes));
        if (job != null) job.logBytes += size;
        poolMeters(agent.poolId).bytes(kept, size - kept);
      }
      case USAGE -> {
        AgentJob job = claimed(agent, message.getUsage().getJobId(), message.getUsage().getAttempt(), false);
        if (job != null) {
          job.usage = new WorkerUsage(Math.max(0, message.getUsage().getCpuPercent()),
              Math.max(0, message.getUsage().getMemoryMb()));
        }
      }
      case ENDED -> onEnded(agent, message.getEnded());
      case REGISTER -> LOG.warn("agent sent Register twice on one stream; ignored", kv("agent_id", agent.id));
      default -> LOG.debug("empty agent message ignored", kv("agent_id", agent.id));
    }
  }

  /**
   * The job the agent reports on, when the server gave it to this agent under that attempt; else null and, when
   * {@code killUnknown}, the agent is told to kill what it runs under that id.
   */
  private AgentJob claimed(Agent agent, String jobId, int attempt, boolean killUnknown) {
    AgentJob job = jobs.get(jobId);
    if (job != null && job.slot != null && job.slot.agent == agent && job.attempt == attempt) return job;
    if (killUnknown) {
      LOG.warn("agent reported a job it was not given: killing it there", kv("agent_id", agent.id),
          kv("job_id", jobId), kv("attempt", attempt));
      send(agent, ServerMessage.newBuilder().setKill(Kill.newBuilder().setJobId(jobId).setAttempt(attempt)
          .setReason("this job was not assigned to this agent")).build());
    }
    return null;
  }

  private void onEnded(Agent agent, JobEnded ended) {
    AgentJob job = jobs.get(ended.getJobId());
    if (job != null && job.slot != null && job.slot.agent == agent && job.attempt == ended.getAttempt()) {
      job.complete(result(ended));
    } else {
      LOG.warn("agent reported the end of a job it does not run for the server; ignored", kv("agent_id", agent.id),
          kv("job_id", ended.getJobId()), kv("attempt", ended.getAttempt()));
      for (Slot slot : agent.slots) {
        if (ended.getJobId().equals(slot.killing)) {
          slot.killing = null;
          serveWaiting(agent.poolId);
        }
      }
    }
    // acked either way: the agent keeps a result until it is acked and would send it again forever
    send(agent, ServerMessage.newBuilder().setAck(io.hodei.grpc.v1.Ack.newBuilder().setJobId(ended.getJobId())
        .setAttempt(ended.getAttempt())).build());
  }

  /** The agent's report as a result, its values bounded and checked (an agent is not trusted with our data). */
  static JobResult result(JobEnded ended) {
    Outcome outcome = switch (ended.getOutcome()) {
      case "succeeded" -> Outcome.SUCCEEDED;
      case "timed_out" -> Outcome.TIMED_OUT;
      case "killed" -> Outcome.KILLED;
      default -> Outcome.FAILED;
    };
    Integer exitCode = ended.getHasExitCode() ? ended.getExitCode() : null;
    if (outcome == Outcome.SUCCEEDED && (exitCode == null || exitCode != 0)) outcome = Outcome.FAILED;
    String errorType = outcome == Outcome.SUCCEEDED ? null
        : ERROR_TYPES.contains(ended.getErrorType()) ? ended.getErrorType() : "exit_code";
    return new JobResult(outcome, exitCode, Math.max(0, ended.getDurationMs()), errorType, boundedLog(ended.getLog()));
  }

  /** The newest {@link JobResult#MAX_LOG_BYTES} bytes of a log, without NUL (PostgreSQL text cannot hold it). */
  static String boundedLog(String log) {
    String clean = log.indexOf('\0') >= 0 ? log.replace('\0', '?') : log;
    byte[] bytes = clean.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= JobResult.MAX_LOG_BYTES) return clean;
    String marker = "[... " + (bytes.length - JobResult.MAX_LOG_BYTES + 64) + " bytes dropped ...]\n";
    String tail = new String(bytes, bytes.length - JobResult.MAX_LOG_BYTES + 64, JobResult.MAX_LOG_BYTES - 64,
        StandardCharsets.UTF_8);
    // a cut through a multi-byte character decodes to one replacement character at the start: drop it
    if (!tail.isEmpty() && tail.charAt(0) == '\uFFFD') tail = tail.substring(1);
    return marker + tail;
  }

  // ---------------------------------------------------------------- disconnects

  private void onDisconnected(String session) {
    Agent agent = sessions.remove(session);
    if (agent == null || !session.equals(agent.session)) return;
    agent.session = null;
    LOG.warn("agent disconnected; waiting for it to come back", kv("agent_id", agent.id), kv("pool", agent.poolId),
        kv("grace_seconds", graceMs / 1000), kv("running", agent.running()));
    agent.graceTimer = vertx.setTimer(graceMs, id -> {
      agent.graceTimer = -1;
      if (agent.session == null) lose(agent, "it did not reconnect within " + graceMs / 1000 + " s");
    });
  }

  /** The agent is gone: its jobs are lost (retried by the scheduler) and its workers leave the pool. */
  private void lose(Agent agent, String why) {
    if (agent.lost) return;
    agent.lost = true;
    agents.remove(agent.id, agent);
    if (agent.graceTimer >= 0) vertx.cancelTimer(agent.graceTimer);
    if (agent.session != null) {
      sessions.remove(agent.session);
      closeSession(agent.session, "the agent was declared lost");
    }
    LOG.warn("agent lost: its workers leave the pool and its jobs are retried", kv("agent_id", agent.id),
        kv("pool", agent.poolId), kv("reason", why), kv("running", agent.running()));
    for (Slot slot : agent.slots) {
      if (slot.job != null) {
        slot.job.complete(new JobResult(Outcome.LOST, null, 0, WORKER_LOST, "agent " + agent.id + " was lost: "
            + why + "\n"));
      }
      if (slot.workerId != null) {
        JsonObject envelope = BusRequest.envelope(new JsonObject().put("id", agent.poolId)
            .put("worker_id", slot.workerId), new JsonObject(), new JsonObject(), null);
        String workerId = slot.workerId;
        // a pool of started agents (managed) replaces a lost one; a pool of self-started agents shrinks
        boolean managed = managedPools.contains(agent.poolId);
        if (managed) envelope.getJsonObject(BusRequest.BODY).put("reason", "agent " + agent.id + " was lost: " + why);
        Bus.request(vertx, managed ? PoolAddresses.WORKER_LOST : PoolAddresses.WORKER_REMOVE, envelope,
            Caller.system(), null).onFailure(err -> LOG.info(
            "a lost agent's worker could not be removed; it stays unhealthy", kv("worker_id", workerId),
            kv("reason", err.getMessage())));
      }
    }
  }

  // ---------------------------------------------------------------- sending

  private void send(Agent agent, ServerMessage message) {
    if (agent.session == null) return;
    vertx.eventBus().send(AgentAddresses.session(agent.session), Buffer.buffer(message.toByteArray()));
  }

  private void closeSession(String session, String reason) {
    vertx.eventBus().send(AgentAddresses.session(session), Buffer.buffer(),
        new DeliveryOptions().addHeader(AgentAddresses.CLOSE, reason));
  }

  private AgentMeters.PoolMeters poolMeters(String poolId) {
    return meters.pool(poolId, this::connected, this::heartbeatLagSeconds);
  }

  private double connected(String poolId) {
    return agents.values().stream().filter(a -> a.poolId.equals(poolId) && a.session != null).count();
  }

  private double heartbeatLagSeconds(String poolId) {
    long now = System.nanoTime();
    return agents.values().stream().filter(a -> a.poolId.equals(poolId))
        .mapToDouble(a -> (now - a.lastHeartbeatNanos) / 1e9).max().orElse(0);
  }

  // ---------------------------------------------------------------- state

  private static final class Agent {
    final String id;
    final String poolId;
    final Slot[] slots;
    volatile String session;
    volatile long lastHeartbeatNanos = System.nanoTime();
    long graceTimer = -1;
    boolean lost;

    Agent(Register register) {
      this.id = register.getAgentId();
      this.poolId = register.getPoolId();
      this.slots = new Slot[register.getSlots()];
      for (int i = 0; i < slots.length; i++) slots[i] = new Slot(this, i);
    }

    int running() {
      int n = 0;
      for (Slot slot : slots) if (slot.job != null) n++;
      return n;
    }
  }

  private static final class Slot {
    final Agent agent;
    final int index;
    String workerId;
    AgentJob job;
    /** A job the server does not run, being killed on the agent: the slot is not bound until it ended. */
    String killing;

    Slot(Agent agent, int index) {
      this.agent = agent;
      this.index = index;
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

  /** One assignment of a job to an agent slot; its result completes once. */
  private final class AgentJob implements JobExecution {
    final Slot slot;
    final JobSpec spec;
    final int attempt;
    final Promise<JobResult> result = Promise.promise();
    boolean sent;
    String killReason;
    volatile long pid = -1;
    long logBytes;
    volatile WorkerUsage usage;

    AgentJob(Slot slot, JobSpec spec, int attempt) {
      this.slot = slot;
      this.spec = spec;
      this.attempt = attempt;
    }

    AgentJob finishedAs(JobResult outcome) {
      result.complete(outcome);
      return this;
    }

    void send() {
      Assign.Builder assign = Assign.newBuilder().setJobId(spec.jobId()).setAttempt(attempt).setSlot(slot.index)
          .addAllCommand(spec.command()).setTimeoutS(Math.max(0, spec.timeoutSeconds()))
          .setCpuM(spec.cpuM()).setMemoryMb(spec.memoryMb());
      if (spec.env() != null) {
        spec.env().forEach(e -> assign.putEnv(e.getKey(), e.getValue() == null ? "" : String.valueOf(e.getValue())));
      }
      sent = true;
      AgentProvider.this.send(slot.agent, ServerMessage.newBuilder().setAssign(assign).build());
    }

    void sendKill() {
      AgentProvider.this.send(slot.agent, ServerMessage.newBuilder().setKill(Kill.newBuilder()
          .setJobId(spec.jobId()).setAttempt(attempt).setReason(killReason)).build());
    }

    void requestKill(String reason) {
      if (killReason != null || slot == null) return;
      killReason = reason == null || reason.isBlank() ? "killed" : reason;
      if (sent) sendKill();
    }

    /** Ends the assignment: frees the slot and reports the result (once). */
    void complete(JobResult outcome) {
      if (slot != null && slot.job == this) slot.job = null;
      jobs.remove(spec.jobId(), this);
      result.tryComplete(outcome);
    }

    @Override public String jobId() { return spec.jobId(); }
    @Override public long pid() { return pid; }
    @Override public Instant processStartedAt() { return null; }
    @Override public Future<JobResult> result() { return result.future(); }

    @Override
    public Future<Void> kill(String reason) {
      if (result.future().isComplete() || slot == null) return result.future().mapEmpty();
      if (!sent) {
        complete(new JobResult(Outcome.KILLED, null, 0, "killed", "killed before it started: " + reason + "\n"));
      } else {
        requestKill(reason);
      }
      return result.future().mapEmpty();
    }
  }
}
