package io.hodei.support;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Clients submitting jobs over REST in a loop until stopped or a count is reached, recording every answer: the ids
 * of the jobs accepted (201), and every other answer by status with one example each. Bounded in time and count.
 */
public final class SubmitLoad implements AutoCloseable {
  public final Set<String> accepted = ConcurrentHashMap.newKeySet();
  public final Map<Integer, AtomicInteger> byStatus = new ConcurrentHashMap<>();
  public final Map<Integer, String> examples = new ConcurrentHashMap<>();
  /** Answers that broke the contract: not 201/503, or a 503 without Retry-After or problem+json. */
  public final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicInteger sent = new AtomicInteger();
  private static final long RETRY_PAUSE_MS = 100;

  public SubmitLoad(int port, String token, JsonObject job, int clients, int maxJobs) {
    this(port, token, job, clients, maxJobs, false);
  }

  /**
   * {@code serverMayBeDown}: the server is killed on purpose, so a request without an answer is counted (status -1)
   * rather than a violation.
   */
  public SubmitLoad(int port, String token, JsonObject job, int clients, int maxJobs, boolean serverMayBeDown) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    byte[] body = job.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (int i = 0; i < clients; i++) {
      Thread t = new Thread(() -> {
        while (!stop.get() && sent.incrementAndGet() <= maxJobs) {
          HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/jobs"))
              .timeout(Duration.ofSeconds(15)).header("Authorization", "Bearer " + token)
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
          try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            record(r);
            // a refused client waits a little before trying again (a real one would honour Retry-After)
            if (r.statusCode() == 503 && !pause()) return;
          } catch (java.io.IOException e) {
            if (!serverMayBeDown) violations.add("no answer: " + e);
            byStatus.computeIfAbsent(-1, st -> new AtomicInteger()).incrementAndGet();
            if (!pause()) return;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
          if (stop.get()) return;
        }
      }, "submit-load-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  private static boolean pause() {
    try {
      Thread.sleep(RETRY_PAUSE_MS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Requests sent so far. */
  public int sent() { return Math.min(sent.get(), Integer.MAX_VALUE); }

  private void record(HttpResponse<String> r) {
    byStatus.computeIfAbsent(r.statusCode(), s -> new AtomicInteger()).incrementAndGet();
    examples.putIfAbsent(r.statusCode(), r.body());
    if (r.statusCode() == 201) {
      accepted.add(new JsonObject(r.body()).getString("id"));
      return;
    }
    if (r.statusCode() == 503) {
      boolean problem = r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json");
      if (!problem || r.headers().firstValue("Retry-After").isEmpty()) {
        violations.add("503 without problem+json and Retry-After: " + r.headers().map() + " " + r.body());
      }
      return;
    }
    violations.add(r.statusCode() + " " + r.body());
  }

  public int count(int status) {
    AtomicInteger n = byStatus.get(status);
    return n == null ? 0 : n.get();
  }

  public void awaitDone(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Thread t : threads) t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
  }

  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    awaitDone(Duration.ofSeconds(30));
  }

  @Override
  public String toString() { return "statuses " + byStatus + ", examples " + examples.keySet(); }
}
