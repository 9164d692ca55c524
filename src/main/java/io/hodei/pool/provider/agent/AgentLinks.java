package io.hodei.pool.provider.agent;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.grpc.v1.Ack;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.pool.PoolAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * What the agent provider's parts share: the registered agents, their streams, the workers bound to their slots and
 * the jobs they run, and the ways to talk to an agent and to the pool domain. Confined to the pool verticle's event
 * loop; only the gauges read {@link #agents} from other threads.
 */
final class AgentLinks {
  private static final Logger LOG = LoggerFactory.getLogger(AgentLinks.class);

  final Vertx vertx;
  final AgentMeters meters;
  final Map<String, Agent> agents = new ConcurrentHashMap<>();
  final Map<String, Agent> sessions = new HashMap<>();
  /** Workers bound to agent slots, by worker id. */
  final Map<String, Agent.Slot> workers = new HashMap<>();
  /** Runs of jobs on agents, by job id. */
  final Map<String, AgentJob> jobs = new HashMap<>();
  private final Map<String, Integer> wantedSizes = new HashMap<>();
  private final java.util.Set<String> resizing = new java.util.HashSet<>();
  /** Pools whose agents a capacity provider starts (one agent per worker): their size does not follow agents. */
  final java.util.Set<String> managedPools = ConcurrentHashMap.newKeySet();

  AgentLinks(Vertx vertx, AgentMeters meters) {
    this.vertx = vertx;
    this.meters = meters;
  }

  void bind(Agent.Slot slot, String workerId) {
    slot.workerId = workerId;
    workers.put(workerId, slot);
    LOG.info("agent slot bound to a worker", kv("agent_id", slot.agent.id), kv("slot", slot.index),
        kv("worker_id", workerId), kv("pool", slot.agent.poolId));
  }

  /**
   * A free slot of a registered agent of the pool, or null. With {@code agentId}, only that agent's; without, any
   * agent's of a pool whose agents are not started by a capacity provider (those bind only to their own worker).
   */
  Agent.Slot freeSlot(String poolId, String agentId) {
    for (Agent agent : agents.values()) {
      if (agent.lost || !agent.poolId.equals(poolId)) continue;
      if (agentId != null ? !agentId.equals(agent.id) : managedPools.contains(poolId)) continue;
      Agent.Slot slot = agent.freeSlot();
      if (slot != null) return slot;
    }
    return null;
  }

  int registeredSlots(String poolId) {
    return agents.values().stream().filter(a -> !a.lost && a.poolId.equals(poolId)).mapToInt(a -> a.slots.length)
        .sum();
  }

  void send(Agent agent, ServerMessage message) {
    if (agent.session == null) return;
    vertx.eventBus().send(AgentAddresses.session(agent.session), Buffer.buffer(message.toByteArray()));
  }

  void ack(Agent agent, String jobId, int attempt) {
    send(agent, ServerMessage.newBuilder().setAck(Ack.newBuilder().setJobId(jobId).setAttempt(attempt)).build());
  }

  void closeSession(String session, String reason) {
    vertx.eventBus().send(AgentAddresses.session(session), Buffer.buffer(),
        new DeliveryOptions().addHeader(AgentAddresses.CLOSE, reason));
  }

  /**
   * The pool's size follows the slots its agents offer, plus {@code expected} workers not back yet. One change per
   * pool is in flight at a time (two writes racing could land the older size last); the newest size follows.
   */
  void resizePool(String poolId, int expected) {
    if (managedPools.contains(poolId)) return;
    wantedSizes.put(poolId, registeredSlots(poolId) + expected);
    if (resizing.add(poolId)) sendSize(poolId);
  }

  private void sendSize(String poolId) {
    int size = wantedSizes.get(poolId);
    JsonObject envelope = BusRequest.envelope(new JsonObject().put("id", poolId), new JsonObject(),
        new JsonObject().put("size", size), null);
    Bus.request(vertx, PoolAddresses.SET_STATIC, envelope, Caller.system(), null).onComplete(ar -> {
      if (ar.failed()) {
        LOG.info("the pool's size does not follow its agents", kv("pool", poolId),
            kv("reason", ar.cause().getMessage()));
      }
      if (wantedSizes.get(poolId) != size) sendSize(poolId);
      else resizing.remove(poolId);
    });
  }

  /**
   * A worker leaves its pool (its agent is gone, or it was not taken back after a restart): a pool of self-started
   * agents shrinks; a pool whose agents a capacity provider starts has the worker recorded as lost and replaced.
   */
  void removeWorker(String poolId, String workerId, String why) {
    boolean managed = managedPools.contains(poolId);
    JsonObject body = managed ? new JsonObject().put("reason", why) : new JsonObject();
    JsonObject envelope = BusRequest.envelope(new JsonObject().put("id", poolId).put("worker_id", workerId),
        new JsonObject(), body, null);
    Bus.request(vertx, managed ? PoolAddresses.WORKER_LOST : PoolAddresses.WORKER_REMOVE, envelope, Caller.system(),
        null).onFailure(err -> LOG.info(
        "an agent worker could not be removed; it stays unhealthy", kv("worker_id", workerId),
        kv("reason", err.getMessage())));
  }

  AgentMeters.PoolMeters poolMeters(String poolId) {
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
}
