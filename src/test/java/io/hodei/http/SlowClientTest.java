package io.hodei.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.JobEvent;
import io.hodei.grpc.v1.JobServiceGrpcClient;
import io.hodei.grpc.v1.WatchJobsRequest;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slow and vanishing clients against the real server, with the timeouts set low: idle 3 s, headers 1 s, body 1 s.
 * A client that sends half its first request's headers and stalls is closed after the header timeout; clients that
 * trickle a byte every 300 ms (so the idle timeout never fires for them) are closed by the header timeout (a later
 * request on a kept-alive connection) or the body timeout; a kept-alive connection with nothing to do lasts the idle
 * timeout (not the header timeout). A quiet WatchJobs stream outlives the idle timeout (HTTP/2 pings keep it open),
 * and a client that disconnects mid-upload leaves no WARN or ERROR in the log.
 */
class SlowClientTest {
  private static final int IDLE = 3;
  private static final int HEADERS = 1;
  private static final int BODY = 1;
  private static TestServer server;
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.SERVER_IDLE_TIMEOUT, IDLE, ConfigSchema.SERVER_HEADER_TIMEOUT, HEADERS,
        ConfigSchema.SERVER_BODY_TIMEOUT, BODY));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  /**
   * Writes {@code head} at once, then {@code trickle} one byte every 300 ms, and returns the milliseconds until the
   * server closed the connection (or -1 when it was still open after 10 s).
   */
  private static long closedAfterMillis(String head, String trickle) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(300);
      long start = System.nanoTime();
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      byte[] bytes = trickle.getBytes(StandardCharsets.ISO_8859_1);
      int next = 0;
      while (System.nanoTime() - start < 10_000_000_000L) {
        try {
          if (in.read() < 0) return (System.nanoTime() - start) / 1_000_000;
        } catch (SocketTimeoutException stillOpen) {
          if (next < bytes.length) {
            try {
              out.write(bytes[next++]);
              out.flush();
            } catch (IOException closed) {
              return (System.nanoTime() - start) / 1_000_000;
            }
          }
        } catch (IOException reset) {
          return (System.nanoTime() - start) / 1_000_000;
        }
      }
      return -1;
    }
  }

  /** Asserts the connection is closed after about {@code seconds} (and before the next longer timeout). */
  private static void assertClosedAfter(int seconds, String what, String head, String trickle) throws IOException {
    long millis = closedAfterMillis(head, trickle);
    assertThat(millis).as("closed after the " + what + " timeout").isBetween(seconds * 1000L - 200,
        seconds * 1000L + 1800);
  }

  @Test
  void halfTheHeadersThenAStallIsCutAfterTheHeaderTimeout() throws IOException {
    assertClosedAfter(HEADERS, "header", "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Half: ab", "");
  }

  @Test
  void headersTrickledSlowerThanTheHeaderTimeoutAreCut() throws IOException {
    // a first request answered in full, then the next one's headers a byte at a time
    String first = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
    assertClosedAfter(HEADERS, "header", first + "GET /health/live HTTP/1.1\r\n", "X-Slow: " + "a".repeat(100));
  }

  @Test
  void aBodyTrickledSlowerThanTheBodyTimeoutIsCut() throws IOException {
    String head = "POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestServer.ADMIN_TOKEN
        + "\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"name\":";
    assertClosedAfter(BODY, "body", head, " ".repeat(150));
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws IOException {
    assertClosedAfter(IDLE, "idle", "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", "");
  }

  /** The events so far: the appender adds on logging threads, under its own lock (AppenderBase.doAppend). */
  private static java.util.List<ILoggingEvent> snapshot(ListAppender<ILoggingEvent> logs) {
    synchronized (logs) {
      return new java.util.ArrayList<>(logs.list);
    }
  }

  @Test
  void aClientGoneMidUploadIsNotAnError() throws IOException {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Logger http = (Logger) LoggerFactory.getLogger(HttpVerticle.class);
    Level level = http.getLevel();
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    root.addAppender(logs);
    http.setLevel(Level.DEBUG);
    try {
      for (int i = 0; i < 3; i++) {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
          OutputStream out = socket.getOutputStream();
          out.write(("POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestServer.ADMIN_TOKEN
              + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"name\":\""
              + "x".repeat(5000)).getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          socket.setSoLinger(true, 0); // a reset, as a client that crashed
        }
      }
      Poll.until(() -> snapshot(logs).stream().filter(e -> e.getFormattedMessage().contains("went away")).count(),
          n -> n >= 3, Duration.ofSeconds(10), "three DEBUG lines for the abandoned uploads");
      assertThat(snapshot(logs)).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          .as("no WARN or ERROR for clients that went away").isEmpty();
    } finally {
      http.setLevel(level);
      root.detachAppender(logs);
    }
  }

  @Test
  void aQuietWatchJobsStreamOutlivesTheIdleTimeout() {
    List<JobEvent> events = new CopyOnWriteArrayList<>();
    AtomicReference<GrpcStatus> ended = new AtomicReference<>();
    GrpcTestClient client = GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN);
    GrpcClientRequest<WatchJobsRequest, JobEvent> request = client.request(
        SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"), JobServiceGrpcClient.WatchJobs).await();
    request.end(WatchJobsRequest.newBuilder().setFromSequence(Long.MAX_VALUE - 1).build());
    request.response().onSuccess(response -> {
      response.handler(events::add);
      response.end().onComplete(ar -> ended.set(response.status() == null ? GrpcStatus.UNKNOWN : response.status()));
    }).onFailure(err -> ended.set(GrpcStatus.UNAVAILABLE));
    // quiet for two idle timeouts: nothing to send, the stream must stay open
    long quietUntil = System.nanoTime() + 2L * IDLE * 1_000_000_000L;
    Poll.until(() -> ended.get() != null || System.nanoTime() > quietUntil, done -> done, Duration.ofSeconds(15),
        "two idle timeouts");
    // without the pings the connection is closed as idle after IDLE seconds and the call ends UNAVAILABLE
    assertThat(ended.get()).as("the stream was not ended while quiet").isNull();
    request.cancel();
  }
}
