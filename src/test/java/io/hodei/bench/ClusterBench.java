package io.hodei.bench;

import io.hodei.support.ClusterNodes;
import io.hodei.support.FaultyDatabase;
import io.hodei.support.Poll;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The cluster benchmark (bench/cluster-bench.sh), from the built jar on a PostgreSQL of its own per part:
 * <ol>
 * <li>REST submit throughput and latency, one plain server vs three cluster nodes (clients spread round robin over
 * the nodes; a follower's submissions reach the leader over the clustered event bus);
 * <li>failover: under a steady submit load over the three nodes, {@code --kills} times kill -9 of the leader, the time
 * until another node holds the leadership (a new epoch in the database) and until it placed a job, then the killed
 * node is started again and rejoins.
 * </ol>
 */
public final class ClusterBench {
  private ClusterBench() { }

  public static void main(String[] args) throws Exception {
    int seconds = Integer.parseInt(option(args, "seconds", "20"));
    int clients = Integer.parseInt(option(args, "clients", "12"));
    int kills = Integer.parseInt(option(args, "kills", "5"));
    Path work = Files.createDirectories(Path.of("target", "cluster-bench"));
    long[] single = throughput(work.resolve("one"), 1, false, seconds, clients);
    long[] three = throughput(work.resolve("three"), 3, true, seconds, clients);
    System.out.println("| nodes | submits accepted/s | submit p50 / p95 / p99 ms | answers other than 201 |");
    System.out.println("|---|---:|---|---:|");
    row("1 (single server)", single);
    row("3 (cluster, round robin)", three);
    failover(work.resolve("failover"), kills);
  }

  private static void row(String name, long[] r) {
    System.out.printf("| %s | %d | %d / %d / %d | %d |%n", name, r[0], r[1], r[2], r[3], r[4]);
  }

  /** {accepted per second, p50, p95, p99 ms, other answers}. */
  private static long[] throughput(Path work, int count, boolean clustered, int seconds, int clients)
      throws Exception {
    Files.createDirectories(work);
    try (FaultyDatabase db = FaultyDatabase.start();
         ClusterNodes nodes = new ClusterNodes(work, db.url(), count, clustered)) {
      for (int i = 0; i < count; i++) nodes.launch(i, "node-" + i + ".log");
      for (int i = 0; i < count; i++) nodes.awaitReady(i);
      if (clustered) nodes.awaitOneLeader(allOf(count), null);
      String token = nodes.setUpLoad();
      JsonObject job = ClusterNodes.wholeWorkerJob();
      List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
      AtomicInteger accepted = new AtomicInteger();
      AtomicInteger other = new AtomicInteger();
      long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
      List<Thread> threads = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int node = c % count;
        Thread t = new Thread(() -> {
          while (System.nanoTime() < end) {
            long start = System.nanoTime();
            int status;
            try {
              status = nodes.post(node, "/api/v1/jobs", token, job).statusCode();
            } catch (RuntimeException e) {
              status = -1;
            }
            latencies.add((System.nanoTime() - start) / 1_000_000);
            if (status == 201) accepted.incrementAndGet();
            else other.incrementAndGet();
          }
        });
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) t.join();
      long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
      return new long[] {accepted.get() / seconds, BenchSupport.pct(sorted, 50), BenchSupport.pct(sorted, 95), BenchSupport.pct(sorted, 99), other.get()};
    }
  }

  private static void failover(Path work, int kills) throws Exception {
    Files.createDirectories(work);
    try (FaultyDatabase db = FaultyDatabase.start();
         ClusterNodes nodes = new ClusterNodes(work, db.url(), 3, true)) {
      for (int i = 0; i < 3; i++) nodes.launch(i, "node-" + i + ".log");
      for (int i = 0; i < 3; i++) nodes.awaitReady(i);
      String leader = nodes.awaitOneLeader(allOf(3), null);
      String token = nodes.setUpLoad();
      JsonObject job = ClusterNodes.wholeWorkerJob();
      // a steady load below the pool's capacity (6 workers, 100..200 ms jobs): 10 submits/s per node, sent without
      // waiting for answers (requests the killed leader was serving hang until their timeout; new ones go on)
      AtomicBoolean stop = new AtomicBoolean();
      Thread load = new Thread(() -> {
        while (!stop.get()) {
          for (int node = 0; node < 3; node++) nodes.postAsync(node, "/api/v1/jobs", token, job);
          BenchSupport.sleep(100);
        }
      });
      load.setDaemon(true);
      load.start();
      long[] takeover = new long[kills];
      long[] placing = new long[kills];
      try {
        for (int k = 0; k < kills; k++) {
          BenchSupport.sleep(3_000);
          int victim = nodes.indexOf(leader);
          long epoch = ClusterNodes.epoch(db);
          long killedAt = System.currentTimeMillis();
          long killed = System.nanoTime();
          nodes.kill(victim);
          Poll.until(() -> ClusterNodes.epochOrZero(db), e -> e > epoch, Duration.ofSeconds(60), "a takeover");
          takeover[k] = (System.nanoTime() - killed) / 1_000_000;
          Poll.until(() -> ClusterNodes.placedSince(db, killedAt), n -> n > 0, Duration.ofSeconds(60), "a placement");
          placing[k] = (System.nanoTime() - killed) / 1_000_000;
          Set<Integer> survivors = allOf(3);
          survivors.remove(victim);
          leader = nodes.awaitOneLeader(survivors, null);
          System.out.printf("kill %d: leader %s killed, new epoch after %d ms, first placement after %d ms%n",
              k + 1, nodes.nodeId(victim), takeover[k], placing[k]);
          nodes.launch(victim, "node-" + victim + "-" + (k + 1) + ".log");
          nodes.awaitReady(victim);
          nodes.awaitOneLeader(allOf(3), leader);
        }
      } finally {
        stop.set(true);
      }
      Arrays.sort(takeover);
      Arrays.sort(placing);
      System.out.println("| failover (" + kills + " kills -9 of the leader) | min | median | max |");
      System.out.println("|---|---:|---:|---:|");
      System.out.printf("| kill -> new leader (epoch) ms | %d | %d | %d |%n", takeover[0], takeover[kills / 2],
          takeover[kills - 1]);
      System.out.printf("| kill -> first placement by the new leader ms | %d | %d | %d |%n", placing[0],
          placing[kills / 2], placing[kills - 1]);
    }
  }

  private static Set<Integer> allOf(int count) {
    Set<Integer> all = new HashSet<>();
    for (int i = 0; i < count; i++) all.add(i);
    return all;
  }

  private static String option(String[] args, String name, String fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--" + name)) return args[i + 1];
    }
    return fallback;
  }
}
