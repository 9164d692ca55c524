package io.hodei.pool.provider.agent;

import io.hodei.grpc.v1.Register;
import java.util.Map;

/** A registered agent as the server sees it: its slots, and the stream it is connected on (null while away). */
final class Agent {
  final String id;
  final String poolId;
  final String hostname;
  final Map<String, String> labels;
  final Slot[] slots;
  volatile String session;
  volatile long lastHeartbeatNanos = System.nanoTime();
  long graceTimer = -1;
  boolean lost;

  Agent(Register register) {
    this.id = register.getAgentId();
    this.poolId = register.getPoolId();
    this.hostname = register.getHostname();
    this.labels = Map.copyOf(register.getLabelsMap());
    this.slots = new Slot[register.getSlots()];
    for (int i = 0; i < slots.length; i++) slots[i] = new Slot(this, i);
  }

  int running() {
    int n = 0;
    for (Slot slot : slots) if (slot.job != null) n++;
    return n;
  }

  /** A slot nothing uses: not bound to a worker, not killing a stray job, not held for a job to take up. */
  Slot freeSlot() {
    for (Slot slot : slots) if (slot.free()) return slot;
    return null;
  }

  /** One job at a time of an agent; bound to one worker of the pool. */
  static final class Slot {
    final Agent agent;
    final int index;
    String workerId;
    AgentJob job;
    /** A job the server does not run, being killed on the agent: the slot is not bound until it ended. */
    String killing;
    /** A job the agent reported after a server restart, kept for the scheduler to take up (see RestartAdoption). */
    String held;

    Slot(Agent agent, int index) {
      this.agent = agent;
      this.index = index;
    }

    boolean free() { return workerId == null && killing == null && held == null; }
  }
}
