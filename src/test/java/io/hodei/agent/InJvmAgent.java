package io.hodei.agent;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;

/**
 * The real agent (its stream client and process runner) in this JVM on its own Vert.x, configured from
 * {@code HODEI_AGENT_*} variables as a container gives them: for tests that need many agents faster than separate
 * JVMs start. Closing it stops the agent as its shutdown hook does (running jobs killed, stream closed).
 */
public final class InJvmAgent implements AutoCloseable {
  private final Vertx vertx;
  private final AgentClient client;

  private InJvmAgent(Vertx vertx, AgentClient client) {
    this.vertx = vertx;
    this.client = client;
  }

  /** Starts an agent; it keeps trying to register in the background. */
  public static InJvmAgent start(Map<String, String> env, Path workDir) {
    String server = env.get("HODEI_AGENT_SERVER");
    int colon = server.lastIndexOf(':');
    AgentSettings settings = new AgentSettings(server.substring(0, colon), Integer.parseInt(server.substring(colon + 1)),
        env.get("HODEI_AGENT_TOKEN"), env.get("HODEI_AGENT_POOL"),
        Integer.parseInt(env.getOrDefault("HODEI_AGENT_SLOTS", "1")),
        Long.parseLong(env.getOrDefault("HODEI_AGENT_CPU_M", "1000")),
        Long.parseLong(env.getOrDefault("HODEI_AGENT_MEMORY_MB", "1024")), Map.of(), workDir, null);
    Vertx vertx = Vertx.vertx();
    AgentClient client = new AgentClient(vertx, settings, env.get("HODEI_AGENT_ID"), "in-jvm", "test");
    client.start();
    return new InJvmAgent(vertx, client);
  }

  @Override
  public void close() {
    client.stop().eventually(vertx::close).await();
  }
}
