package io.hodei.bench;

import io.hodei.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/** What the benchmarks share: driving requests, waiting, percentiles and reading jobs back through REST. */
final class BenchSupport {
  private BenchSupport() { }

  /** Runs {@code count} asynchronous requests with at most {@code lanes} in flight; returns when all answered. */
  static void drive(Vertx vertx, int count, int lanes, Function<Integer, Future<?>> request) {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    Promise<Void> all = Promise.promise();
    Runnable[] lane = new Runnable[1];
    lane[0] = () -> {
      int i = next.getAndIncrement();
      if (i >= count) return;
      Future<?> f;
      try {
        f = request.apply(i);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        if (ar.failed()) System.out.println("[bench] request failed: " + ar.cause());
        if (finished.incrementAndGet() == count) all.tryComplete();
        lane[0].run();
      });
    };
    vertx.runOnContext(v -> {
      for (int l = 0; l < Math.min(lanes, count); l++) lane[0].run();
    });
    all.future().await();
  }

  static void waitUntil(BooleanSupplier condition, int timeoutSeconds) {
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("not drained in " + timeoutSeconds + " s");
      sleep(50);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static long pct(long[] values, int p) {
    if (values.length == 0) return -1;
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  static long millis(String iso) { return iso == null ? 0 : Instant.parse(iso).toEpochMilli(); }

  static double seconds(long startNanos) { return (System.nanoTime() - startNanos) / 1e9; }

  /** The job views of {@code ids}, paging through the admin job listing. */
  static List<JsonObject> fetchJobs(WebClient http, Set<String> ids) {
    List<JsonObject> result = new ArrayList<>();
    String cursor = null;
    do {
      JsonObject page = admin(http, "/api/v1/jobs?limit=500" + (cursor == null ? "" : "&cursor=" + cursor));
      for (Object o : page.getJsonArray("items")) {
        JsonObject j = (JsonObject) o;
        if (ids.contains(j.getString("id"))) result.add(j);
      }
      cursor = page.getString("next_cursor");
    } while (cursor != null && result.size() < ids.size());
    return result;
  }

  /** The machine's load averages, as /proc/loadavg has them. */
  /**
   * Writes a benchmark's figures to {@code dir}/{@code name}-{date}.json (UTC) and says where.
   */
  static java.nio.file.Path writeResults(String dir, String name, JsonObject results) throws java.io.IOException {
    java.nio.file.Path folder = java.nio.file.Path.of(dir);
    java.nio.file.Files.createDirectories(folder);
    java.nio.file.Path file = folder.resolve(name + "-" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
        .withZone(java.time.ZoneOffset.UTC).format(Instant.now()) + ".json");
    java.nio.file.Files.writeString(file, results.encodePrettily());
    System.out.println("results written to " + file);
    return file;
  }

  static String loadAverage() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }

  /** The ids of PostgreSQL's processes now (server and backends). */
  static List<String> postgresPids() {
    List<String> pids = new ArrayList<>();
    java.io.File[] procs = new java.io.File("/proc").listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
    if (procs == null) return pids;
    for (java.io.File proc : procs) {
      try {
        String stat = java.nio.file.Files.readString(proc.toPath().resolve("stat"));
        if (stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith("postgres")) pids.add(proc.getName());
      } catch (Exception e) {
        // the process ended meanwhile
      }
    }
    return pids;
  }

  static JsonObject admin(WebClient http, String path) {
    HttpResponse<Buffer> r = http.get(path).bearerTokenAuthentication(TestServer.ADMIN_TOKEN).send().await();
    if (r.statusCode() != 200) throw new IllegalStateException(path + " answered " + r.statusCode() + r.bodyAsString());
    return r.bodyAsJsonObject();
  }
}
