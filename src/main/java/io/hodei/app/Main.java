package io.hodei.app;

import ch.qos.logback.classic.Level;
import io.hodei.app.config.ConfigException;
import io.hodei.app.config.ConfigLoader;
import io.hodei.app.config.ConfigSchema;
import io.hodei.app.config.HodeiConfig;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Entry point: loads configuration, starts the server, and drains on SIGTERM. Fails fast with a one-line reason and
 * a non-zero exit code (2 for configuration, 1 for anything else).
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    if (args.length > 0 && !"agent".equals(args[0])) {
      System.exit(io.hodei.cli.HodeiCli.execute(args));
    }
    if (io.hodei.agent.Cli.handles(args)) return;
    HodeiConfig config;
    try {
      config = ConfigLoader.fromEnvironment(System.getenv());
    } catch (ConfigException e) {
      LOG.error("bad configuration: {}", e.getMessage(), kv("reason", e.getMessage()));
      System.exit(2);
      return;
    }
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME))
        .setLevel(Level.toLevel(config.getString(ConfigSchema.LOG_LEVEL)));
    HodeiServer server;
    try {
      server = HodeiServer.start(config).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      String reason = HodeiServer.firstLine(cause);
      LOG.error("start-up failed: {}", reason, kv("reason", reason));
      System.exit(1);
      return;
    }
    int drainSeconds = config.getInt(ConfigSchema.SERVER_SHUTDOWN_TIMEOUT) + 15;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down: draining in-flight requests");
      try {
        server.stop().toCompletionStage().toCompletableFuture().get(drainSeconds, TimeUnit.SECONDS);
        LOG.info("stopped");
      } catch (Exception e) {
        LOG.error("shutdown did not complete cleanly", e);
      }
      ((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    }, "hodei-shutdown"));
  }
}
