package io.hodei.agent;

import io.hodei.support.FaultyDatabase;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Agents as users run them: separate JVMs from the built jar, dialing out to a server on real PostgreSQL. Runs in
 * the integration-test phase, after the jar is packaged.
 */
class AgentIT {
  @TempDir
  Path work;

  @Test
  void threeAgentsOfTwoSlotsRunTwoHundredJobsWithTheRightOutputAndExitCodes() throws Exception {
    try (AgentCluster cluster = new AgentCluster(work, 30)) {
      for (int i = 0; i < 3; i++) cluster.agent("agent-" + i, cluster.server.port(), 2);
      cluster.awaitIdleWorkers(6);
      assertThat(cluster.pool().getInteger("target_size")).as("the pool's size is what registered").isEqualTo(6);

      Map<String, Integer> expectedExit = new HashMap<>();
      Map<String, Integer> index = new HashMap<>();
      for (int i = 0; i < 200; i++) {
        int exit = i % 7 == 0 ? 3 : 0;
        // the first 6 jobs hold their slot for 2 s, so each of the 6 slots must take one of them
        String id = cluster.submit(1, "sh", "-c", "sleep $3; echo out-$1; echo err-$1 >&2; exit $2", "sh", "n" + i,
            Integer.toString(exit), i < 6 ? "2" : "0");
        expectedExit.put(id, exit);
        index.put(id, i);
      }
      Map<String, String> workers = new HashMap<>();
      for (String id : expectedExit.keySet()) {
        JsonObject job = cluster.awaitEnded(id, Duration.ofSeconds(180));
        int exit = expectedExit.get(id);
        assertThat(job.getString("state")).as(job.encode()).isEqualTo(exit == 0 ? "succeeded" : "failed");
        assertThat(job.getInteger("exit_code")).as(job.encode()).isEqualTo(exit);
        assertThat(job.getInteger("attempts")).isEqualTo(1);
        String log = cluster.lastLog(id);
        assertThat(log).as("log of " + id).contains("out-n" + index.get(id) + "\n").contains("err-n" + index.get(id));
        workers.put(id, job.getString("worker_id"));
      }
      assertThat(workers.values().stream().distinct().count()).as("every slot took jobs").isEqualTo(6);
      String metrics = cluster.server.get("/metrics", TestServer.ADMIN_TOKEN).body();
      assertThat(Prometheus.parse(metrics)).anySatisfy(s -> {
        assertThat(s.name()).isEqualTo("hodei_agents_connected");
        assertThat(s.labels()).containsEntry("pool", AgentCluster.POOL);
        assertThat(s.value()).isEqualTo(3.0);
      });
    }
  }

  @Test
  void killMinusNineOfAnAgentMidJobRetriesItsJobsOnTheOthersOnce() throws Exception {
    try (AgentCluster cluster = new AgentCluster(work, 3)) {
      Process victim = cluster.agent("victim", cluster.server.port(), 2);
      cluster.awaitIdleWorkers(2);
      List<String> jobs = new ArrayList<>();
      for (int i = 0; i < 2; i++) jobs.add(cluster.submit(3, "sh", "-c", "sleep 10; echo done-$1", "sh", "v" + i));
      for (String id : jobs) {
        Poll.until(() -> cluster.job(id), j -> "running".equals(j.getString("state")), Duration.ofSeconds(60),
            id + " running on the victim");
      }
      cluster.agent("survivor", cluster.server.port(), 2);
      cluster.awaitIdleWorkers(2);
      victim.destroyForcibly();
      victim.waitFor();

      for (int i = 0; i < jobs.size(); i++) {
        JsonObject job = cluster.awaitEnded(jobs.get(i), Duration.ofSeconds(90));
        assertThat(job.getString("state")).as(job.encode()).isEqualTo("succeeded");
        assertThat(job.getInteger("attempts")).as("retried once after the grace").isEqualTo(2);
        assertThat(cluster.lastLog(jobs.get(i))).contains("done-v" + i);
      }
      // the victim's orphaned processes end too, but nothing reports them: no job counts a second success
      String metrics = cluster.server.get("/metrics", TestServer.ADMIN_TOKEN).body();
      double completed = Prometheus.parse(metrics).stream()
          .filter(s -> s.name().equals("hodei_jobs_completed_total")).mapToDouble(Prometheus.Sample::value).sum();
      assertThat(completed).isEqualTo(2.0);
      assertThat(cluster.pool().getJsonObject("workers").getInteger("total")).as("the lost agent's workers left")
          .isEqualTo(2);
    }
  }

  @Test
  void aCutStreamRestoredWithinTheGraceLosesNothingAndRetriesNothing() throws Exception {
    try (AgentCluster cluster = new AgentCluster(work, 30)) {
      try (TcpProxy proxy = new TcpProxy(cluster.server.port())) {
        cluster.agent("behind-proxy", proxy.port(), 2);
        cluster.awaitIdleWorkers(2);
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 2; i++) jobs.add(cluster.submit(3, "sh", "-c", "sleep 4; echo kept-$1", "sh", "c" + i));
        for (String id : jobs) {
          Poll.until(() -> cluster.job(id), j -> "running".equals(j.getString("state")), Duration.ofSeconds(60),
              id + " running");
        }
        Poll.until(proxy::connections, n -> n >= 1, Duration.ofSeconds(10), "the agent's connection");
        proxy.cut();
        for (int i = 0; i < jobs.size(); i++) {
          JsonObject job = cluster.awaitEnded(jobs.get(i), Duration.ofSeconds(60));
          assertThat(job.getString("state")).as(job.encode()).isEqualTo("succeeded");
          assertThat(job.getInteger("attempts")).as("not retried").isEqualTo(1);
          assertThat(cluster.lastLog(jobs.get(i))).contains("kept-c" + i);
        }
        String metrics = cluster.server.get("/metrics", TestServer.ADMIN_TOKEN).body();
        assertThat(Prometheus.parse(metrics).stream().filter(s -> s.name().equals("hodei_agent_reconnects_total"))
            .mapToDouble(Prometheus.Sample::value).sum()).isGreaterThanOrEqualTo(1.0);
        assertThat(cluster.log("behind-proxy")).contains("not connected to the server; retrying");
      }
    }
  }

  @Test
  void afterAServerRestartAgentsKeepTheirJobsAndEveryJobRunsOnce() throws Exception {
    int port = freePort();
    Map<String, Object> config = Map.of("server.port", port, "agents.reconnect_grace_seconds", 15,
        "server.shutdown_timeout_seconds", 5);
    Path data = work.resolve("pg");
    try (AgentCluster cluster = new AgentCluster(work, TestServer.startPersistent(data, config))) {
      List<String> jobs = runningJobsOnTwoAgents(cluster, port, 6, 6);
      cluster.restart(() -> TestServer.startPersistent(data, config));
      assertEachRanOnce(cluster, jobs);
      Poll.until(() -> Prometheus.parse(cluster.server.get("/metrics", TestServer.ADMIN_TOKEN).body()).stream()
          .filter(s -> s.name().equals("hodei_agents_connected")).mapToDouble(Prometheus.Sample::value).sum(),
          n -> n == 2.0, Duration.ofSeconds(30), "both agents connected to the restarted server");
      assertThat(cluster.pool().getInteger("target_size")).as("the pool is what its agents offer").isEqualTo(4);
    }
  }

  @Test
  void afterTheServerProcessIsKilledWithSigkillAgentsKeepTheirJobsAndEveryJobRunsOnce() throws Exception {
    int port = freePort();
    Map<String, String> settings = Map.of("HODEI_AGENTS_RECONNECT_GRACE_SECONDS", "20");
    try (FaultyDatabase db = FaultyDatabase.start();
         AgentCluster cluster = new AgentCluster(work, ServerProcess.start(work, "server-1", port, db.url(),
             settings))) {
      // the last job outlives the grace: the database will say it ended while the server was away
      List<String> jobs = runningJobsOnTwoAgents(cluster, port, 8, 120);
      String firstWorker = cluster.job(jobs.get(0)).getString("worker_id");
      // closing the external server is a SIGKILL: nothing of it runs a shutdown
      cluster.server.close();
      try (java.sql.Connection c = db.connect();
           java.sql.PreparedStatement ended = c.prepareStatement(
               "UPDATE job SET state = 'cancelled', finished_at = now(), error_type = 'cancelled' WHERE id = ?");
           java.sql.PreparedStatement lagging = c.prepareStatement(
               "UPDATE worker SET state = 'idle', current_job_id = NULL WHERE id = ?")) {
        ended.setString(1, jobs.get(3));
        assertThat(ended.executeUpdate()).isEqualTo(1);
        // a crash can come before a worker's row records the job its job row names: the job row is the judge
        lagging.setString(1, firstWorker);
        assertThat(lagging.executeUpdate()).isEqualTo(1);
      }
      cluster.restart(() -> {
        try {
          return ServerProcess.start(work, "server-2", port, db.url(), settings);
        } catch (java.io.IOException | InterruptedException e) {
          throw new AssertionError(e);
        }
      });
      assertEachRanOnce(cluster, jobs.subList(0, 3));
      assertThat(cluster.log("server-2")).contains("job re-attached after a server restart");
      // the database is the judge: what an agent still ran of the job it ended is killed there, not recorded
      Poll.until(() -> cluster.logsOf("agent-0", "agent-1"), log -> log.contains(
          "killing a job on the server's request") && log.contains(jobs.get(3)), Duration.ofSeconds(60),
          "the job ended while away killed on its agent");
      JsonObject stillEnded = cluster.job(jobs.get(3));
      assertThat(stillEnded.getString("state")).isEqualTo("cancelled");
      assertThat(stillEnded.getInteger("attempts")).isEqualTo(1);
      cluster.awaitIdleWorkers(4);
    }
  }

  /** Two agents of two slots, each slot running a job that prints once: {@code seconds} long, the last {@code last}. */
  private static List<String> runningJobsOnTwoAgents(AgentCluster cluster, int port, int seconds, int last)
      throws Exception {
    for (int i = 0; i < 2; i++) cluster.agent("agent-" + i, port, 2);
    cluster.awaitIdleWorkers(4);
    List<String> jobs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      jobs.add(cluster.submit(3, "sh", "-c", "sleep " + (i == 3 ? last : seconds) + "; echo once-$1", "sh", "r" + i));
    }
    for (String id : jobs) {
      Poll.until(() -> cluster.job(id), j -> "running".equals(j.getString("state")), Duration.ofSeconds(60),
          id + " running");
    }
    return jobs;
  }

  /** Each job succeeded in its first attempt: one run, no retry, its output recorded once. */
  private static void assertEachRanOnce(AgentCluster cluster, List<String> jobs) throws Exception {
    for (int i = 0; i < jobs.size(); i++) {
      String id = jobs.get(i);
      JsonObject job = cluster.awaitEnded(id, Duration.ofSeconds(120));
      assertThat(job.getString("state")).as(job.encode()).isEqualTo("succeeded");
      assertThat(job.getInteger("attempts")).as("%s kept its first attempt", id).isEqualTo(1);
      assertThat(cluster.events(id)).as("events of %s", id)
          .noneMatch(e -> "retry".equals(e.getJsonObject("detail", new JsonObject()).getString("reason")));
      assertThat(cluster.logs(id)).as("the runs of %s", id).hasSize(1);
      assertThat(cluster.logs(id).get(0)).contains("once-r" + i);
    }
    for (int i = 0; i < 2; i++) {
      assertThat(cluster.log("agent-" + i)).contains("not connected to the server; retrying");
    }
  }

  @Test
  void aBlackHoledConnectionIsNoticedAndTheAgentReconnectsWithinTheGraceRetryingNothing() throws Exception {
    try (AgentCluster cluster = new AgentCluster(work, 30)) {
      try (TcpProxy proxy = new TcpProxy(cluster.server.port())) {
        cluster.agent("behind-black-hole", proxy.port(), 2);
        cluster.awaitIdleWorkers(2);
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 2; i++) jobs.add(cluster.submit(3, "sh", "-c", "sleep 12; echo kept-$1", "sh", "b" + i));
        for (String id : jobs) {
          Poll.until(() -> cluster.job(id), j -> "running".equals(j.getString("state")), Duration.ofSeconds(60),
              id + " running");
        }
        Poll.until(proxy::connections, n -> n >= 1, Duration.ofSeconds(10), "the agent's connection");
        proxy.blackHole();
        for (int i = 0; i < jobs.size(); i++) {
          JsonObject job = cluster.awaitEnded(jobs.get(i), Duration.ofSeconds(90));
          assertThat(job.getString("state")).as(job.encode()).isEqualTo("succeeded");
          assertThat(job.getInteger("attempts")).as("not retried").isEqualTo(1);
          assertThat(cluster.lastLog(jobs.get(i))).contains("kept-b" + i);
        }
        assertThat(cluster.log("behind-black-hole")).contains("no word from the server");
        String metrics = cluster.server.get("/metrics", TestServer.ADMIN_TOKEN).body();
        assertThat(Prometheus.parse(metrics).stream().filter(s -> s.name().equals("hodei_agent_reconnects_total"))
            .mapToDouble(Prometheus.Sample::value).sum()).isGreaterThanOrEqualTo(1.0);
      }
    }
  }

  @Test
  void anAgentJobsOutputIsServedWhileItRuns() throws Exception {
    try (AgentCluster cluster = new AgentCluster(work, 30)) {
      cluster.agent("live", cluster.server.port(), 1);
      cluster.awaitIdleWorkers(1);
      String id = cluster.submit(1, "sh", "-c", "echo first-line; sleep 5; echo second-line");
      String live = Poll.until(() -> cluster.lastLog(id), log -> log != null && log.contains("first-line"),
          Duration.ofSeconds(60), "the first line while the job runs");
      assertThat(live).doesNotContain("second-line");
      assertThat(cluster.job(id).getString("state")).as("seen before the end").isEqualTo("running");
      assertThat(cluster.awaitEnded(id, Duration.ofSeconds(60)).getString("state")).isEqualTo("succeeded");
      assertThat(cluster.logs(id)).hasSize(1);
      assertThat(cluster.lastLog(id)).contains("first-line").contains("second-line");
    }
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
      return probe.getLocalPort();
    }
  }

  @Test
  void overTlsTheAgentVerifiesTheServerWithItsCa() throws Exception {
    Path cert = work.resolve("cert.pem");
    Path key = work.resolve("key.pem");
    Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
    assertThat(openssl.waitFor()).isZero();
    Map<String, Object> config = Map.of("server.grpc_port", 0, "server.grpc_tls_cert_file", cert.toString(),
        "server.grpc_tls_key_file", key.toString());
    try (AgentCluster cluster = new AgentCluster(work, TestServer.start(config))) {
      int tlsPort = cluster.server.server().grpcPort();
      cluster.agent("plain", tlsPort, 1);
      cluster.agent("tls", tlsPort, 1, "--tls-ca", cert.toString());
      cluster.awaitIdleWorkers(1);
      String id = cluster.submit(1, "sh", "-c", "echo over-tls");
      assertThat(cluster.awaitEnded(id, Duration.ofSeconds(60)).getString("state")).isEqualTo("succeeded");
      assertThat(cluster.lastLog(id)).contains("over-tls");
      Poll.until(() -> {
        try {
          return cluster.log("plain");
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }, log -> log.contains("not connected to the server; retrying"), Duration.ofSeconds(30), "the plain agent refused");
      assertThat(cluster.pool().getInteger("target_size")).as("only the agent that verified the server joined")
          .isEqualTo(1);
    }
  }
}
