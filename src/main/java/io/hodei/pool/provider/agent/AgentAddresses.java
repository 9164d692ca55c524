package io.hodei.pool.provider.agent;

/**
 * Event-bus contract between the agent stream (the gRPC endpoint, which holds the connection) and the agent
 * provider (which decides). On a cluster they travel the clustered event bus: the agent provider runs on the leader
 * (it consumes {@link #REGISTER}, {@link #INBOUND} and {@link #DISCONNECTED}), and the node that holds an agent's
 * stream, any node, consumes that stream's {@link #session} address and talks for it.
 */
public final class AgentAddresses {
  /**
   * An agent's first message, after its token was verified: {@code {session, token_pool_id, register}} where
   * {@code register} is the serialized {@code hodei.v1.Register} -> {@code {registered}} (a serialized
   * {@code hodei.v1.Registered}); fails 400 (malformed), 403 (another pool) or 409 (identity conflict).
   */
  public static final String REGISTER = "hodei.agent.register";
  /** Every later agent message: body a serialized {@code hodei.v1.AgentMessage}, header {@value #SESSION}. */
  public static final String INBOUND = "hodei.agent.inbound";
  /** The stream of a session ended: {@code {session}}. */
  public static final String DISCONNECTED = "hodei.agent.disconnected";
  /**
   * Published (locally) when an agent registered or reconnected: {@code {agent_id, pool_id, hostname, slots, labels,
   * reconnect}}. A capacity provider that starts agents (pods, VMs) learns here that one joined its pool.
   */
  public static final String REGISTERED = "hodei.agent.registered";
  /**
   * Published cluster-wide by the agent provider of a node that became the cluster's leader, once it serves: every
   * node ends the agent streams it holds (they were registered with the previous leader), and their agents connect
   * again and register with the new one. Body: {@code {}}. Never published by a single server.
   */
  public static final String RESET = "hodei.agent.reset";
  /** Header naming the stream a message belongs to. */
  public static final String SESSION = "session";
  /** Header on a message to a session that asks the stream to end, with the reason as value. */
  public static final String CLOSE = "close";

  private AgentAddresses() {}

  /** Where the provider sends serialized {@code hodei.v1.ServerMessage}s for one stream. */
  public static String session(String sessionId) { return "hodei.agent.session." + sessionId; }
}
