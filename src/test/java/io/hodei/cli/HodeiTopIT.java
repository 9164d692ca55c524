package io.hodei.cli;

import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bin/hodei top} in a real terminal (tmux): it draws pools, queues and running jobs, refreshes, and quits on
 * {@code q}. Runs in the integration-test phase, after the jar is packaged.
 */
class HodeiTopIT {
  private static final Path LAUNCHER = Path.of("bin", "hodei").toAbsolutePath();

  @TempDir
  Path home;

  @Test
  void topDrawsRefreshesAndQuitsOnQ() throws Exception {
    assertThat(Path.of("target", "hodei-pools.jar")).as("the jar is built by mvn package before this test").exists();
    String session = "hodei-top-" + ProcessHandle.current().pid();
    try (TestServer server = TestServer.start(Map.of())) {
      Fixtures fixtures = new Fixtures(server);
      String token = fixtures.tenant("topco", null, 1, "submitter");
      fixtures.pool(Fixtures.simulatedPool("toppool", 2, 600_000), 2);
      String running = fixtures.submitted(token, Fixtures.spec("toppool", "sleep", "600"));
      fixtures.awaitState(token, running, "running");

      String command = "HOME=" + home + " HODEI_SERVER=http://127.0.0.1:" + server.port() + " HODEI_TOKEN="
          + TestServer.ADMIN_TOKEN + " " + LAUNCHER + " top --interval 1s; echo top-exited-$?; sleep 30";
      tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", command);
      String screen = Poll.until(() -> capture(session), s -> s.contains(running), Duration.ofSeconds(60),
          "top shows the running job");
      assertThat(screen).contains("hodei top - http://127.0.0.1:" + server.port()).containsPattern("toppool\\s+active\\s+2/2")
          .containsPattern("topco\\s+1\\s+0\\s+1").contains("RUNNING JOB");
      // a second job appears on a later refresh, without a key press
      String second = fixtures.submitted(token, Fixtures.spec("toppool", "sleep", "600"));
      Poll.until(() -> capture(session), s -> s.contains(second), Duration.ofSeconds(30), "top refreshed");

      // the server goes away: top keeps its last screen, says so on its first line, and still quits on q
      server.close();
      String away = Poll.until(() -> capture(session), s -> s.lines().findFirst().orElse("")
          .matches(".*\\[(reconnecting to the event stream|cannot reach .*)\\].*"), Duration.ofSeconds(30),
          "top says the server is away");
      assertThat(away).contains(second).doesNotContain("Exception");

      tmux("send-keys", "-t", session, "q");
      String after = Poll.until(() -> capture(session), s -> s.contains("top-exited-"), Duration.ofSeconds(20),
          "top quits on q");
      assertThat(after).contains("top-exited-0");
    } finally {
      tmux("kill-session", "-t", session);
    }
  }

  private static String capture(String session) {
    try {
      return tmux("capture-pane", "-p", "-t", session);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String tmux(String... args) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of("tmux"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }
}
