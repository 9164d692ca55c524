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
  private final boolean ownsVertx;
  private final AgentClient client;

  private InJvmAgent(Vertx vertx, boolean ownsVertx, AgentClient client) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.client = client;
  }

  /** Starts an agent on its own Vert.x; it keeps trying to register in the background. */
  public static InJvmAgent start(Map<String, String> env, Path workDir) {
    return start(Vertx.vertx(), true, env, workDir);
  }

  /** Starts an agent on {@code vertx} (shared by many agents: benchmarks); closing it leaves {@code vertx} open. */
  public static InJvmAgent start(Vertx vertx, Map<String, String> env, Path workDir) {
    return start(vertx, false, env, workDir);
  }

  private static InJvmAgent start(Vertx vertx, boolean ownsVertx, Map<String, String> env, Path workDir) {
    String server = env.get("HODEI_AGENT_SERVER");
    int colon = server.lastIndexOf(':');
    AgentSettings settings = new AgentSettings(server.substring(0, colon), Integer.parseInt(server.substring(colon + 1)),
        env.get("HODEI_AGENT_TOKEN"), env.get("HODEI_AGENT_POOL"),
        Integer.parseInt(env.getOrDefault("HODEI_AGENT_SLOTS", "1")),
        Long.parseLong(env.getOrDefault("HODEI_AGENT_CPU_M", "1000")),
        Long.parseLong(env.getOrDefault("HODEI_AGENT_MEMORY_MB", "1024")), Map.of(), workDir, null);
    AgentClient client = new AgentClient(vertx, settings, env.get("HODEI_AGENT_ID"), "in-jvm", "test");
    client.start();
    return new InJvmAgent(vertx, ownsVertx, client);
  }

  @Override
  public void close() {
    client.stop().eventually(() -> ownsVertx ? vertx.close() : io.vertx.core.Future.succeededFuture()).await();
  }
}
