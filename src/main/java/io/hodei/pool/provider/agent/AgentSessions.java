package io.hodei.pool.provider.agent;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hodei.common.DomainException;
import io.hodei.grpc.v1.JobEnded;
import io.hodei.grpc.v1.Register;
import io.hodei.grpc.v1.Registered;
import io.hodei.grpc.v1.RunningJob;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Agents coming and going: registration (checked against the token's pool), reconciliation of what a reconnecting
 * agent reports with what the server runs there, the reconnect grace of a disconnected agent, and its loss.
 */
final class AgentSessions {
  private static final Logger LOG = LoggerFactory.getLogger(AgentSessions.class);
  static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  static final int MAX_SLOTS = 256;

  private final AgentLinks links;
  private final RestartAdoption adoption;
  private final AgentReports reports;
  private final long graceMs;
  private final int heartbeatIntervalMs;
  private final Consumer<String> slotsFreed;
  /** Agent ids seen by this server process: a second registration of one is a reconnect. */
  private final Set<String> seen = new HashSet<>();

  AgentSessions(AgentLinks links, RestartAdoption adoption, AgentReports reports, long graceMs,
                int heartbeatIntervalMs, Consumer<String> slotsFreed) {
    this.links = links;
    this.adoption = adoption;
    this.reports = reports;
    this.graceMs = graceMs;
    this.heartbeatIntervalMs = heartbeatIntervalMs;
    this.slotsFreed = slotsFreed;
  }

  void onRegister(Message<JsonObject> msg) {
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
    Agent agent = links.agents.get(register.getAgentId());
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
      links.agents.put(agent.id, agent);
    } else {
      if (agent.graceTimer >= 0) links.vertx.cancelTimer(agent.graceTimer);
      agent.graceTimer = -1;
      if (agent.session != null) {
        links.sessions.remove(agent.session);
        links.closeSession(agent.session, "the agent connected again on another stream");
      }
    }
    agent.session = session;
    agent.lastHeartbeatNanos = System.nanoTime();
    links.sessions.put(session, agent);
    // the pool's gauges exist from its first registration on
    AgentMeters.PoolMeters poolMeters = links.poolMeters(agent.poolId);
    if (reconnect) poolMeters.reconnected();
    LOG.info(reconnect ? "agent reconnected" : "agent registered", kv("agent_id", agent.id), kv("pool", agent.poolId),
        kv("hostname", register.getHostname()), kv("slots", agent.slots.length), kv("version", register.getVersion()),
        kv("running", register.getRunningCount()), kv("ended", register.getEndedCount()));
    msg.reply(new JsonObject().put("registered", Base64.getEncoder().encodeToString(Registered.newBuilder()
        .setAgentId(agent.id).setHeartbeatIntervalMs(heartbeatIntervalMs).setMaxLogBytes(JobResult.MAX_LOG_BYTES)
        .build().toByteArray())));
    reattach(agent, register);
    adoption.bindIdle(agent);
    links.vertx.eventBus().publish(AgentAddresses.REGISTERED, new JsonObject().put("agent_id", agent.id)
        .put("pool_id", agent.poolId).put("hostname", agent.hostname).put("slots", agent.slots.length)
        .put("labels", new JsonObject(new HashMap<>(agent.labels))).put("reconnect", reconnect),
        new DeliveryOptions().setLocalOnly(true));
    slotsFreed.accept(agent.poolId);
    links.resizePool(agent.poolId, adoption.unbound(agent.poolId));
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
   * runs there are re-attached (jobs of a previous server process are held for the scheduler to take up, others
   * killed on the agent), ended ones are applied, assignments made while it was away are sent now, and jobs it no
   * longer knows are lost.
   */
  private void reattach(Agent agent, Register register) {
    for (Agent.Slot slot : agent.slots) slot.killing = null;
    Map<String, Integer> running = new HashMap<>();
    for (RunningJob r : register.getRunningList()) running.put(r.getJobId(), r.getAttempt());
    Set<String> ended = new HashSet<>();
    for (JobEnded e : register.getEndedList()) {
      ended.add(e.getJobId());
      reports.ended(agent, e);
    }
    for (Agent.Slot slot : agent.slots) {
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
        job.complete(new JobResult(Outcome.LOST, null, 0, AgentReports.WORKER_LOST,
            "agent " + agent.id + " came back without the job (it was restarted?)\n"));
      }
    }
    for (RunningJob r : register.getRunningList()) {
      AgentJob job = links.jobs.get(r.getJobId());
      if (job != null && job.runsOn(agent, r.getAttempt())) continue;
      if (adoption.runningAtRegistration(agent, r)) continue;
      LOG.warn("agent runs a job the server does not run there: killing it", kv("agent_id", agent.id),
          kv("job_id", r.getJobId()), kv("attempt", r.getAttempt()));
      // the slot takes no new work until the agent reports the killed job's end
      if (r.getSlot() >= 0 && r.getSlot() < agent.slots.length && agent.slots[r.getSlot()].job == null) {
        agent.slots[r.getSlot()].killing = r.getJobId();
      }
      reports.kill(agent, r.getJobId(), r.getAttempt(), "the server does not run this job here any more");
    }
  }

  private static void refuse(Message<?> msg, DomainException e) {
    msg.fail(e.status(), e.getMessage());
  }

  /** The stream of a session ended: the agent has the grace to come back. */
  void onDisconnected(String session) {
    Agent agent = links.sessions.remove(session);
    if (agent == null || !session.equals(agent.session)) return;
    agent.session = null;
    LOG.warn("agent disconnected; waiting for it to come back", kv("agent_id", agent.id), kv("pool", agent.poolId),
        kv("grace_seconds", graceMs / 1000), kv("running", agent.running()));
    agent.graceTimer = links.vertx.setTimer(Math.max(1, graceMs), id -> {
      agent.graceTimer = -1;
      if (agent.session == null) lose(agent, "it did not reconnect within " + graceMs / 1000 + " s");
    });
  }

  /** Ends the streams of agents silent for longer than {@code limitMs} (a dead connection TCP has not noticed). */
  void closeSilent(long limitMs) {
    long now = System.nanoTime();
    for (Agent agent : links.agents.values()) {
      String session = agent.session;
      long silentMs = TimeUnit.NANOSECONDS.toMillis(now - agent.lastHeartbeatNanos);
      if (session != null && silentMs > limitMs) {
        LOG.warn("agent silent: ending its stream", kv("agent_id", agent.id), kv("pool", agent.poolId),
            kv("silent_ms", silentMs));
        links.closeSession(session, "no heartbeat for " + limitMs / 1000 + " s");
        onDisconnected(session);
      }
    }
  }

  /** The agent is gone: its jobs are lost (retried by the scheduler) and its workers leave the pool. */
  void lose(Agent agent, String why) {
    if (agent.lost) return;
    agent.lost = true;
    links.agents.remove(agent.id, agent);
    if (agent.graceTimer >= 0) links.vertx.cancelTimer(agent.graceTimer);
    if (agent.session != null) {
      links.sessions.remove(agent.session);
      links.closeSession(agent.session, "the agent was declared lost");
    }
    LOG.warn("agent lost: its workers leave the pool and its jobs are retried", kv("agent_id", agent.id),
        kv("pool", agent.poolId), kv("reason", why), kv("running", agent.running()));
    for (Agent.Slot slot : agent.slots) {
      if (slot.job != null) {
        slot.job.complete(new JobResult(Outcome.LOST, null, 0, AgentReports.WORKER_LOST, "agent " + agent.id
            + " was lost: " + why + "\n"));
      }
      if (slot.workerId != null) links.removeWorker(agent.poolId, slot.workerId, "agent " + agent.id + " was lost: " + why);
    }
  }

  void close() {
    for (Agent agent : links.agents.values()) {
      if (agent.graceTimer >= 0) links.vertx.cancelTimer(agent.graceTimer);
      if (agent.session != null) links.closeSession(agent.session, "the server is stopping");
    }
  }
}
