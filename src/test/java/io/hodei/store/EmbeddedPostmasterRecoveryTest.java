package io.hodei.store;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** The embedded postmaster heals while Hodei runs, and a start is not blocked by what a crash left behind. */
class EmbeddedPostmasterRecoveryTest {
  @TempDir
  Path dir;
  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  @Test
  void killedPostmasterIsRestartedOnTheSamePortWithoutRestartingHodei() {
    // durable: with synchronous_commit off, a crash of PostgreSQL may lose the last commits it acknowledged
    try (TestServer server = TestServer.startPersistent(dir, Map.of(ConfigSchema.DB_EMBEDDED_DURABLE, true))) {
      EmbeddedPostmaster postmaster = server.server().database().embeddedPostmaster();
      int port = postmaster.port();
      long pid = postmaster.postmasterPid();
      assertThat(pid).isPositive();
      assertThat(server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject().put("id", "before")
          .put("name", "Before")).status()).isEqualTo(201);

      ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // kill -9 of PostgreSQL alone

      Poll.until(postmaster::postmasterPid, p -> p > 0 && p != pid, Duration.ofSeconds(60), "a new postmaster");
      assertThat(postmaster.port()).isEqualTo(port);
      Poll.until(() -> server.get("/health/ready", null).status(), s -> s == 200, Duration.ofSeconds(60),
          "ready again");
      Response write = Poll.until(() -> server.admin(HttpMethod.POST, "/api/v1/tenants",
          new JsonObject().put("id", "after").put("name", "After")), r -> r.status() != 503,
          Duration.ofSeconds(30), "a write after the restart");
      assertThat(write.status()).as(write.toString()).isEqualTo(201);
      assertThat(server.get("/api/v1/tenants/before", TestServer.ADMIN_TOKEN).status()).isEqualTo(200);
    }
  }

  @Test
  void postmasterOrphanedByItsWrapperIsStoppedAndReplaced() {
    Database db = start();
    try {
      EmbeddedPostmaster postmaster = db.embeddedPostmaster();
      long pid = postmaster.postmasterPid();
      ProcessHandle wrapper = ProcessHandle.of(pid).flatMap(ProcessHandle::parent).orElseThrow();
      wrapper.destroyForcibly();

      Poll.until(postmaster::postmasterPid, p -> p > 0 && p != pid, Duration.ofSeconds(60), "a new postmaster");
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      assertThat(db.pool().query("SELECT 1").execute().await().size()).isEqualTo(1);
    } finally {
      db.close(vertx).await();
    }
  }

  @Test
  void stalePidFilesDoNotBlockAStart() throws Exception {
    Database db = start();
    List<String> pidFile = Files.readAllLines(dir.resolve("postmaster.pid"));
    long pid = db.embeddedPostmaster().postmasterPid();
    db.close(vertx).await();
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(dir.resolve("postmaster.pid")).doesNotExist();

    // the PID of a process that has ended (PostgreSQL's own case)
    Process ended = new ProcessBuilder("true").start();
    ended.waitFor();
    writePidFile(pidFile, ended.pid());
    restartAndCheck();

    // a PID that now belongs to another program (PostgreSQL alone would refuse to start)
    Process other = new ProcessBuilder("sleep", "60").start();
    try {
      writePidFile(pidFile, other.pid());
      restartAndCheck();
      assertThat(other.isAlive()).isTrue();
    } finally {
      other.destroyForcibly();
    }
  }

  @Test
  void closeStopsThePostmasterAndItsSupervision() {
    Database db = start();
    long pid = db.embeddedPostmaster().postmasterPid();
    db.close(vertx).await();
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(db.embeddedPostmaster().postmasterPid()).isEqualTo(-1);
    // supervision ended with it: nothing starts a postmaster again
    assertThat(dir.resolve("postmaster.pid")).doesNotExist();
  }

  private void writePidFile(List<String> template, long pid) throws Exception {
    List<String> lines = new ArrayList<>(template);
    lines.set(0, Long.toString(pid));
    Files.write(dir.resolve("postmaster.pid"), lines);
  }

  private void restartAndCheck() {
    long started = System.nanoTime();
    Database db = start();
    try {
      assertThat(db.pool().query("SELECT 1").execute().await().size()).isEqualTo(1);
      System.out.printf("start over a stale postmaster.pid: %d ms%n", (System.nanoTime() - started) / 1_000_000);
    } finally {
      db.close(vertx).await();
    }
  }

  private Database start() {
    return Database.start(vertx, new DatabaseConfig(null, dir, false, 2, 0, false)).await();
  }
}
