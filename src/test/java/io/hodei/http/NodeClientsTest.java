package io.hodei.http;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gRPC services and the event-bus bridge as clients that are not ours use them: Node scripts under
 * {@code src/test/node} with {@code @grpc/grpc-js} (the shipped .proto files loaded by {@code @grpc/proto-loader}),
 * Node's own HTTP/2 client (for metadata grpc-js will not send), {@code sockjs-client} with the official
 * {@code @vertx/eventbus-bridge-client.js}, each against a real server on embedded PostgreSQL. Each script asserts
 * with {@code node:assert} and exits non-zero on the first failed case; its output is this test's failure message.
 * {@code npm ci} runs first when {@code node_modules} is absent (the lock file pins every package).
 */
class NodeClientsTest {
  private static final Path DIR = Paths.get("src", "test", "node");
  private static final long SCRIPT_TIMEOUT_SECONDS = 120;
  private static TestServer server;
  private static final Map<String, String> env = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    installPackages();
    server = TestServer.start(Map.of(ConfigSchema.BRIDGE_TCP_PORT, 0, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1,
        ConfigSchema.SCHED_TICK, 100));
    Fixtures fx = new Fixtures(server);
    env.put("HODEI_PORT", Integer.toString(server.port()));
    env.put("HODEI_ADMIN_TOKEN", TestServer.ADMIN_TOKEN);
    env.put("HODEI_TOKEN", fx.tenant("node-a", null, 1, "submitter"));
    env.put("HODEI_OTHER_TOKEN", fx.tenant("node-b", null, 1, "submitter"));
    env.put("HODEI_TENANT", "node-a");
    fx.pool(Fixtures.simulatedPool("node-sim", 2, 30), 2);
    fx.pool(Fixtures.simulatedPool("node-held", 1, 30), 1);
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools/node-held/lifecycle",
        new JsonObject().put("action", "pause")).status()).isEqualTo(200);
    env.put("HODEI_POOL", "node-sim");
    env.put("HODEI_HELD_POOL", "node-held");
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void grpcJsClientSeesSpecCompliantStatusesDeadlinesAndCancels() throws Exception {
    node("grpc-defects.test.js");
  }

  @Test
  void grpcJsClientUsesEveryJobRpc() throws Exception {
    node("grpc-jobs.test.js");
  }

  @Test
  void grpcJsClientUsesEveryRpcOfTheOtherServices() throws Exception {
    node("grpc-services.test.js");
  }

  @Test
  void officialBridgeClientWorksOverEverySockJsTransport() throws Exception {
    node("bridge.test.js");
  }

  private static void installPackages() throws Exception {
    if (Files.isDirectory(DIR.resolve("node_modules"))) return;
    Result install = run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of());
    assertThat(install.exit).as("npm ci\n" + install.output).isZero();
  }

  private static void node(String script) throws Exception {
    Result result = run(List.of("node", script), env);
    assertThat(result.exit).as(script + " output:\n" + result.output).isZero();
  }

  private record Result(int exit, String output) {}

  private static Result run(List<String> command, Map<String, String> environment)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("hodei-node", ".log");
    try {
      ProcessBuilder builder = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile());
      builder.environment().putAll(environment);
      Process process = builder.start();
      if (!process.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
        return new Result(-1, "timed out after " + SCRIPT_TIMEOUT_SECONDS + " s\n"
            + Files.readString(log, StandardCharsets.UTF_8));
      }
      return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
