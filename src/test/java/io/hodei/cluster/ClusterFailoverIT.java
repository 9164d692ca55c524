package io.hodei.cluster;

import io.hodei.agent.InJvmAgent;
import io.hodei.support.ClusterNodes;
import io.hodei.support.FaultyDatabase;
import io.hodei.support.JobLedger;
import io.hodei.support.Poll;
import io.hodei.support.SubmitLoad;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three server processes from the built jar, clustered on one PostgreSQL (started by the test), under submit load
 * spread over all three; the leader is killed with SIGKILL. A follower takes over (the takeover and the first placement
 * after the kill are timed and printed), every job answered 201 exists in the database and ends exactly once, no
 * worker ran two jobs at once, every answer was 201 or 503 problem+json, and the killed node, started again, rejoins
 * as a follower. Runs in the integration-test phase, after the jar is packaged.
 */
class ClusterFailoverIT {
  @TempDir
  Path work;
  private FaultyDatabase db;
  private ClusterNodes nodes;
  private final List<SubmitLoad> loads = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (SubmitLoad load : loads) load.close();
    if (nodes != null) nodes.close();
    if (db != null) db.close();
    // the nodes' logs outlive the temporary directory, for a look after a failure
    Path kept = java.nio.file.Files.createDirectories(Path.of("target", "cluster-it-logs"));
    try (var logs = java.nio.file.Files.newDirectoryStream(work, "*.log")) {
      for (Path log : logs) {
        java.nio.file.Files.copy(log, kept.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  @Test
  void theLeaderKilledWithSigkillIsReplacedWithoutLosingOrRepeatingAJob() throws Exception {
    db = FaultyDatabase.start();
    nodes = new ClusterNodes(work, db.url(), 3, true);
    for (int i = 0; i < nodes.size(); i++) nodes.launch(i, "node-" + i + ".log");
    for (int i = 0; i < nodes.size(); i++) nodes.awaitReady(i);
    String leader = nodes.awaitOneLeader(Set.of(0, 1, 2), null);
    int leaderIndex = nodes.indexOf(leader);
    System.out.printf("cluster formed: leader %s, %d members%n", leader, nodes.size());

    String token = nodes.setUpLoad();
    JsonObject job = ClusterNodes.wholeWorkerJob();
    // round robin over the three nodes: each gets its own clients; the leader's are refused while it is down
    for (int i = 0; i < nodes.size(); i++) loads.add(new SubmitLoad(nodes.httpPort(i), token, job, 2, 300, true));
    Poll.until(this::accepted, n -> n >= 120, Duration.ofSeconds(60), "jobs accepted before the kill");

    long epochBefore = ClusterNodes.epoch(db);
    long killedAtMillis = System.currentTimeMillis();
    long killed = System.nanoTime();
    nodes.kill(leaderIndex);
    Poll.until(() -> ClusterNodes.epochOrZero(db), e -> e > epochBefore, Duration.ofSeconds(60), "a takeover");
    long takeoverMs = (System.nanoTime() - killed) / 1_000_000;
    Poll.until(() -> ClusterNodes.placedSince(db, killedAtMillis), n -> n > 0, Duration.ofSeconds(60),
        "a placement after the kill");
    long placingMs = (System.nanoTime() - killed) / 1_000_000;
    Set<Integer> survivors = new HashSet<>(Set.of(0, 1, 2));
    survivors.remove(leaderIndex);
    String newLeader = nodes.awaitOneLeader(survivors, null);
    System.out.printf("leader %s killed with SIGKILL: new epoch after %d ms, first placement after %d ms, "
        + "new leader %s%n", leader, takeoverMs, placingMs, newLeader);
    assertThat(newLeader).isNotEqualTo(leader);

    int acceptedAtKill = accepted();
    Poll.until(this::accepted, n -> n >= acceptedAtKill + 60, Duration.ofSeconds(60), "jobs accepted after the kill");

    // the killed node comes back and joins as a follower
    nodes.launch(leaderIndex, "node-" + leaderIndex + "-restarted.log");
    nodes.awaitReady(leaderIndex);
    assertThat(nodes.awaitOneLeader(Set.of(0, 1, 2), newLeader)).isEqualTo(newLeader);
    JsonObject rejoined = nodes.cluster(leaderIndex);
    assertThat(rejoined.getString("node")).isEqualTo(leader);
    assertThat(rejoined.getString("leader")).isEqualTo(newLeader);

    for (SubmitLoad load : loads) load.close();
    Set<String> accepted = new HashSet<>();
    // the rejoined node serves submissions again (through the new leader)
    HttpResponse<String> viaRejoined = nodes.post(leaderIndex, "/api/v1/jobs", token, job);
    assertThat(viaRejoined.statusCode()).as(viaRejoined.body()).isEqualTo(201);
    accepted.add(new JsonObject(viaRejoined.body()).getString("id"));
    for (SubmitLoad load : loads) {
      assertThat(load.violations).as("answers other than 201 and 503 problem+json: " + load).isEmpty();
      accepted.addAll(load.accepted);
    }
    System.out.printf("%d jobs accepted (201) over the three nodes; answers per node: %s%n", accepted.size(),
        loads.stream().map(SubmitLoad::toString).toList());

    JobLedger ledger = new JobLedger(db);
    ledger.allEnd(accepted, Duration.ofSeconds(90));
    ledger.nothingRanTwice();
    // each worker fits one job (cpu_m): the runs the provider reported on one worker never overlap
    List<String> overlapping = db.column("SELECT a.id || ' and ' || b.id || ' on ' || a.worker_id FROM job a "
        + "JOIN job b ON a.worker_id = b.worker_id AND a.id < b.id "
        + "WHERE a.process_started_at IS NOT NULL AND b.process_started_at IS NOT NULL "
        + "AND a.run_ms IS NOT NULL AND b.run_ms IS NOT NULL "
        + "AND a.process_started_at < b.process_started_at + b.run_ms * interval '1 millisecond' "
        + "AND b.process_started_at < a.process_started_at + a.run_ms * interval '1 millisecond' LIMIT 10");
    assertThat(overlapping).as("jobs that ran at the same time on one worker").isEmpty();
    assertThat(db.count("SELECT count(*) FROM job WHERE state = 'succeeded' AND process_started_at IS NOT NULL "
        + "AND run_ms IS NOT NULL")).as("succeeded jobs with their run on record").isPositive();
    assertThat(Files.readString(work.resolve("node-" + leaderIndex + "-restarted.log")))
        .doesNotContain("this node leads the cluster");
  }

  /**
   * An agent connected to a follower runs a job when the leader is killed with SIGKILL (its agent provider ends no
   * stream): the new leader's provider has every node end its agent streams, the agent registers with it, and the job
   * is re-attached: it ends succeeded at its first attempt, run once.
   */
  @Test
  void anAgentOnAFollowerKeepsItsRunningJobWhenTheLeaderIsKilled() throws Exception {
    db = FaultyDatabase.start();
    nodes = new ClusterNodes(work, db.url(), 3, true);
    for (int i = 0; i < nodes.size(); i++) nodes.launch(i, "agent-node-" + i + ".log");
    for (int i = 0; i < nodes.size(); i++) nodes.awaitReady(i);
    String leader = nodes.awaitOneLeader(Set.of(0, 1, 2), null);
    int leaderIndex = nodes.indexOf(leader);
    int follower = (leaderIndex + 1) % nodes.size();
    String token = nodes.setUpLoad();
    HttpResponse<String> pool = nodes.post(follower, "/api/v1/pools", ClusterNodes.ADMIN_TOKEN, new JsonObject()
        .put("id", "remote").put("provider", "agent").put("size", 0).put("worker_cpu_m", 1000)
        .put("worker_memory_mb", 1024));
    assertThat(pool.statusCode()).as(pool.body()).isEqualTo(201);
    HttpResponse<String> agentToken = nodes.post(follower, "/api/v1/pools/remote/agent-tokens",
        ClusterNodes.ADMIN_TOKEN, new JsonObject());
    assertThat(agentToken.statusCode()).as(agentToken.body()).isEqualTo(201);
    try (InJvmAgent agent = InJvmAgent.start(Map.of("HODEI_AGENT_SERVER", "127.0.0.1:" + nodes.httpPort(follower),
        "HODEI_AGENT_TOKEN", new JsonObject(agentToken.body()).getString("token"), "HODEI_AGENT_POOL", "remote",
        "HODEI_AGENT_ID", "remote-1"), work.resolve("agent"))) {
      Path runs = work.resolve("runs");
      JsonObject slow = new JsonObject().put("pool_id", "remote").put("cpu_m", 500).put("memory_mb", 64)
          .put("max_attempts", 3).put("command", new JsonArray().add("sh").add("-c")
              .add("echo run >> '" + runs + "'; sleep 8"));
      HttpResponse<String> submitted = nodes.post(follower, "/api/v1/jobs", token, slow);
      assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
      String job = new JsonObject(submitted.body()).getString("id");
      Poll.until(() -> Files.exists(runs), x -> x, Duration.ofSeconds(60), "the job started on the agent");

      nodes.kill(leaderIndex);
      Set<Integer> survivors = new HashSet<>(Set.of(0, 1, 2));
      survivors.remove(leaderIndex);
      String newLeader = nodes.awaitOneLeader(survivors, null);
      JsonObject ended = Poll.until(() -> {
        HttpResponse<String> r = nodes.get(follower, "/api/v1/jobs/" + job, token);
        return r.statusCode() == 200 ? new JsonObject(r.body()) : null;
      }, j -> j != null && j.getString("state").matches("succeeded|failed|cancelled|timed_out"),
          Duration.ofSeconds(90), "the job ended");
      System.out.printf("leader %s killed while an agent on %s ran a job; new leader %s; the job ended %s%n",
          leader, nodes.nodeId(follower), newLeader, ended.getString("state"));
      assertThat(ended.getString("state")).as(ended.encode()).isEqualTo("succeeded");
      assertThat(ended.getInteger("attempts")).as("re-attached, not retried").isEqualTo(1);
      assertThat(Files.readAllLines(runs)).as("runs of the job").hasSize(1);

      // the agent serves the new leader
      HttpResponse<String> next = Poll.until(() -> nodes.post(follower, "/api/v1/jobs", token, slow.copy()
          .put("command", new JsonArray().add("true"))), r -> r.statusCode() != 503, Duration.ofSeconds(30),
          "a job accepted");
      assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
      String nextId = new JsonObject(next.body()).getString("id");
      Poll.until(() -> new JsonObject(nodes.get(follower, "/api/v1/jobs/" + nextId, token).body()),
          j -> "succeeded".equals(j.getString("state")), Duration.ofSeconds(60), "the next job succeeded");
    }
  }

  private int accepted() { return loads.stream().mapToInt(l -> l.accepted.size()).sum(); }
}
