package io.hodei.cluster;

import io.hodei.support.ClusterNodes;
import io.hodei.support.FaultyDatabase;
import io.hodei.support.JobLedger;
import io.hodei.support.Poll;
import io.hodei.support.SubmitLoad;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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

  private int accepted() { return loads.stream().mapToInt(l -> l.accepted.size()).sum(); }
}
