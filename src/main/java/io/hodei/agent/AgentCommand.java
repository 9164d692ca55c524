package io.hodei.agent;

import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * {@code hodei-pools agent}: runs jobs of one pool on this machine for a Hodei server it dials out to. Every option
 * can also come from a {@code HODEI_AGENT_*} variable (the flag wins).
 */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs jobs of one pool on this machine for a Hodei server it dials out to (no inbound port).",
    footer = {"", "Every option can also be set with an environment variable (the option wins): "
        + "HODEI_AGENT_SERVER, HODEI_AGENT_TOKEN, HODEI_AGENT_POOL, HODEI_AGENT_SLOTS, HODEI_AGENT_LABELS, "
        + "HODEI_AGENT_CPU_M, HODEI_AGENT_MEMORY_MB, HODEI_AGENT_WORK_DIR, HODEI_AGENT_TLS_CA, HODEI_AGENT_ID."})
public final class AgentCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(AgentCommand.class);

  @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = "${env:HODEI_AGENT_SERVER}",
      description = "the server's gRPC address (its REST port serves gRPC too)")
  String server;

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:HODEI_AGENT_TOKEN}",
      description = "agent token issued for the pool (POST /api/v1/pools/{id}/agent-tokens)")
  String token;

  @Option(names = "--pool", paramLabel = "POOL", defaultValue = "${env:HODEI_AGENT_POOL}",
      description = "the pool to register into")
  String pool;

  @Option(names = "--slots", paramLabel = "N", defaultValue = "${env:HODEI_AGENT_SLOTS:-1}",
      description = "jobs run at once; each slot is one worker of the pool (default: ${DEFAULT-VALUE})")
  int slots;

  @Option(names = "--labels", paramLabel = "k=v,...", defaultValue = "${env:HODEI_AGENT_LABELS}",
      description = "labels reported at registration")
  String labels;

  @Option(names = "--cpu-m", paramLabel = "N", defaultValue = "${env:HODEI_AGENT_CPU_M:-1000}",
      description = "CPU per slot in millicores (default: ${DEFAULT-VALUE})")
  long cpuM;

  @Option(names = "--memory-mb", paramLabel = "N", defaultValue = "${env:HODEI_AGENT_MEMORY_MB:-1024}",
      description = "memory per slot in MB (default: ${DEFAULT-VALUE})")
  long memoryMb;

  @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "${env:HODEI_AGENT_WORK_DIR:-./data/agent}",
      description = "keeps the agent's identity and the jobs' working directories (default: ${DEFAULT-VALUE})")
  Path workDir;

  @Option(names = "--id", paramLabel = "ID", defaultValue = "${env:HODEI_AGENT_ID}",
      description = "the agent's id, when something else names it (a Kubernetes pod is given its worker's id); "
          + "default: kept in the work directory")
  String id;

  @Option(names = "--tls-ca", paramLabel = "FILE", defaultValue = "${env:HODEI_AGENT_TLS_CA}",
      description = "PEM CA certificate to verify the server's TLS certificate (default: plain connection)")
  Path tlsCa;

  /** Runs the command with {@code args} (the words after {@code agent}); returns the exit code. */
  public static int run(String[] args) {
    return new CommandLine(new AgentCommand()).execute(args);
  }

  @Override
  public Integer call() throws Exception {
    AgentSettings settings = settings();
    String hostname = hostname();
    String agentId = id != null && !id.isBlank() ? id.trim() : AgentIdentity.load(settings.workDir(), hostname);
    String version = AgentCommand.class.getPackage().getImplementationVersion();
    Vertx vertx = Vertx.vertx();
    AgentClient client = new AgentClient(vertx, settings, agentId, hostname, version == null ? "dev" : version);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("agent stopping: killing its jobs", kv("agent_id", agentId));
      try {
        client.stop().eventually(vertx::close).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("agent did not stop cleanly", e);
      }
      stopped.countDown();
      ((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    }, "hodei-agent-shutdown"));
    LOG.info("agent starting", kv("agent_id", agentId), kv("server", settings.host() + ":" + settings.port()),
        kv("pool", settings.pool()), kv("slots", settings.slots()), kv("work_dir", settings.workDir().toString()));
    client.start();
    stopped.await();
    return 0;
  }

  private AgentSettings settings() {
    CommandLine.Model.CommandSpec spec = new CommandLine(this).getCommandSpec();
    if (server == null || server.isBlank()) throw usage(spec, "--server (or HODEI_AGENT_SERVER) is required");
    if (token == null || token.isBlank()) throw usage(spec, "--token (or HODEI_AGENT_TOKEN) is required");
    if (pool == null || pool.isBlank()) throw usage(spec, "--pool (or HODEI_AGENT_POOL) is required");
    int colon = server.lastIndexOf(':');
    int port;
    try {
      port = colon > 0 ? Integer.parseInt(server.substring(colon + 1)) : -1;
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65535) throw usage(spec, "--server must be HOST:PORT, not '" + server + "'");
    if (slots < 1 || slots > 256) throw usage(spec, "--slots must be between 1 and 256");
    if (cpuM < 0 || memoryMb < 0) throw usage(spec, "--cpu-m and --memory-mb must not be negative");
    if (id != null && !id.isBlank() && !id.trim().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw usage(spec, "--id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    if (tlsCa != null && !Files.isReadable(tlsCa)) throw usage(spec, "--tls-ca " + tlsCa + " is not readable");
    return new AgentSettings(server.substring(0, colon), port, token.trim(), pool, slots, cpuM, memoryMb,
        labels(spec), workDir.toAbsolutePath(), tlsCa);
  }

  private Map<String, String> labels(CommandLine.Model.CommandSpec spec) {
    Map<String, String> result = new LinkedHashMap<>();
    if (labels == null || labels.isBlank()) return result;
    for (String pair : labels.split(",")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) throw usage(spec, "--labels must be k=v pairs separated by commas, not '" + pair + "'");
      result.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
    }
    return result;
  }

  private static CommandLine.ParameterException usage(CommandLine.Model.CommandSpec spec, String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "unknown-host";
    }
  }
}
