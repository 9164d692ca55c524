package io.hodei.cli;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI's streams survive the server going away: {@code jobs -w} and {@code submit --wait} are open while the server
 * stops (the real process, its database kept) and starts again on the same port; they reconnect with back-off,
 * resume where they were, and miss nothing.
 */
@Timeout(240)
class HodeiStreamTest {
  @TempDir
  Path home;

  @Test
  void watchAndFollowReconnectAfterTheServerRestarts() throws Exception {
    Path dataDir = Files.createTempDirectory("hodei-cli-stream");
    TestServer server = TestServer.startPersistent(dataDir, Map.of());
    TestServer restarted = null;
    Thread watcher = null;
    Thread follower = null;
    try {
      int port = server.port();
      Fixtures fixtures = new Fixtures(server);
      String token = fixtures.tenant("streamco", null, 1, "submitter");
      fixtures.pool(Fixtures.simulatedPool("flaky", 1, 200), 1);
      Cli cli = new Cli(home).as(port, token);
      Cli admin = new Cli(home).as(port, TestServer.ADMIN_TOKEN);

      String before = fixtures.submitted(token, Fixtures.spec("flaky", "true"));
      fixtures.awaitState(token, before, "succeeded");
      assertThat(admin.run("pool", "pause", "flaky").code()).isZero();
      String held = fixtures.submitted(token, Fixtures.spec("flaky", "true"));

      StringWriter watchOut = new StringWriter();
      StringWriter watchErr = new StringWriter();
      AtomicReference<Cli.Result> watched = new AtomicReference<>();
      watcher = new Thread(() -> watched.set(cli.run(watchOut, watchErr, "jobs", "-w")));
      watcher.start();
      Poll.until(watchOut::toString, s -> s.contains(held) && s.contains(before), Duration.ofSeconds(30),
          "the watch lists both jobs");
      StringWriter waitOut = new StringWriter();
      AtomicReference<Cli.Result> waited = new AtomicReference<>();
      follower = new Thread(() -> waited.set(cli.run(waitOut, "submit", "--pool", "flaky", "--wait", "--", "true")));
      follower.start();
      String awaited = Poll.until(waitOut::toString, s -> s.startsWith("j-"), Duration.ofSeconds(30),
          "submit --wait printed its job").trim();

      server.close();
      Poll.until(watchErr::toString, s -> s.contains("hodei: lost the stream from http://127.0.0.1:" + port),
          Duration.ofSeconds(30), "the watch notices the server is gone");
      assertThat(watcher.isAlive()).as("the watch waits for the server").isTrue();

      restarted = TestServer.startPersistent(dataDir, Map.of(ConfigSchema.SERVER_PORT, port));
      Fixtures again = new Fixtures(restarted);
      String after = again.submitted(token, Fixtures.spec("flaky", "true"));
      assertThat(admin.run("pool", "resume", "flaky").code()).isZero();
      for (String id : new String[] {held, awaited, after}) {
        Poll.until(watchOut::toString, s -> s.matches("(?s).*\n" + id + "\\s+streamco\\s+flaky\\s+succeeded.*"),
            Duration.ofSeconds(60), "the watch shows " + id + " succeeded after the restart");
      }
      assertThat(watchErr.toString()).contains("hodei: reconnected to http://127.0.0.1:" + port)
          .doesNotContain("Exception").doesNotContain("\tat ");

      follower.join(60_000);
      assertThat(follower.isAlive()).as("submit --wait ends with its job").isFalse();
      assertThat(waited.get().code()).as(waited.get().toString()).isZero();
      assertThat(waited.get().out()).isEqualTo(awaited + "\n" + awaited + " succeeded (exit 0)\n");
    } finally {
      if (watcher != null) {
        watcher.interrupt();
        watcher.join(10_000);
      }
      if (follower != null) {
        follower.interrupt();
        follower.join(10_000);
      }
      if (restarted != null) restarted.close();
      server.close();
      try (Stream<Path> paths = Files.walk(dataDir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
