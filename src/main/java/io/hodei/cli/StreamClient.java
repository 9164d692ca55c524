package io.hodei.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.io.PrintWriter;
import java.net.URI;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The CLI's streaming layer, next to {@link RestClient}: server streams of the gRPC {@code JobService}
 * ({@code WatchJobs}, {@code StreamJobLogs}) and the live domain events of the event bridge (its raw WebSocket at
 * {@code /eventbus/websocket}). Both are served on the server URL itself (gRPC as HTTP/2, cleartext with prior
 * knowledge for {@code http://}, TLS with ALPN for {@code https://}), so a CLI needs no second address.
 *
 * <p>Messages arrive on a Vert.x event loop and are handed to the command's thread through a queue:
 * {@link #follow} reads them there, so a command prints from one thread and an interrupt (Ctrl-C in tests) ends it.
 */
final class StreamClient implements AutoCloseable {
  /** Where the bridge's raw WebSocket is served (SockJS at /eventbus, see docs/bridge.md). */
  static final String BRIDGE_PATH = "/eventbus/websocket";
  private static final long BRIDGE_PING_MS = 5_000;
  private static final long FIRST_BACKOFF_MS = 250;
  private static final long MAX_BACKOFF_MS = 10_000;
  private static final int CONNECT_TIMEOUT_MS = 10_000;

  private final String server;
  private final String token;
  private final String host;
  private final int port;
  private final boolean tls;
  private final Vertx vertx;
  private final GrpcClient grpc;
  private final WebSocketClient webSockets;
  private final ConcurrentLinkedQueue<Stream<?>> open = new ConcurrentLinkedQueue<>();

  StreamClient(String server, String token) {
    URI uri = RestClient.serverUri(server);
    this.server = RestClient.trimmed(server);
    this.token = token;
    this.tls = "https".equalsIgnoreCase(uri.getScheme());
    this.host = uri.getHost();
    this.port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
    // a small Vert.x: one event loop is plenty for a handful of streams
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1));
    // HTTP/2 with prior knowledge: an h2c upgrade would carry the request as HTTP/1.1 until its body ended
    HttpClientOptions http = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false).setConnectTimeout(CONNECT_TIMEOUT_MS);
    WebSocketClientOptions ws = new WebSocketClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS)
        .setMaxFrameSize(1024 * 1024).setMaxMessageSize(16 * 1024 * 1024);
    if (tls) {
      http.setSsl(true).setUseAlpn(true);
      ws.setSsl(true);
    }
    this.grpc = GrpcClient.client(vertx, http);
    this.webSockets = vertx.createWebSocketClient(ws);
  }

  String server() { return server; }

  /** A gRPC server-streaming call with the bearer token as metadata. */
  <Req, Resp> Stream<Resp> call(ServiceMethod<Resp, Req> method, Req request) {
    Stream<Resp> stream = new Stream<>(method.methodName());
    vertx.runOnContext(v -> grpc.request(SocketAddress.inetSocketAddress(port, host), method).onComplete(ar -> {
      if (ar.failed()) {
        stream.ended(null, ar.cause());
        return;
      }
      GrpcClientRequest<Req, Resp> call = ar.result();
      // connected: a server stream may send nothing (not even headers) until its first message
      stream.connected();
      stream.onCancel(() -> vertx.runOnContext(c -> call.cancel()));
      call.headers().set("authorization", "Bearer " + token);
      call.exceptionHandler(err -> stream.ended(null, err));
      call.response().onComplete(response -> {
        if (response.failed()) {
          stream.ended(null, response.cause());
          return;
        }
        GrpcClientResponse<Req, Resp> messages = response.result();
        messages.handler(stream::message);
        messages.exceptionHandler(err -> stream.ended(null, err));
        messages.endHandler(end -> stream.ended(messages.status(), messages.statusMessage()));
      });
      call.end(request);
    }));
    return track(stream);
  }

  /**
   * Live domain events {@code hodei.events.<type>} of the event bridge, each as its JSON body with {@code address}
   * added. The bridge filters them to what the token may see; it never ends by itself.
   */
  Stream<JsonObject> events(List<String> types) {
    Stream<JsonObject> stream = new Stream<>("event bridge");
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(host).setPort(port).setSsl(tls)
        .setURI(BRIDGE_PATH);
    vertx.runOnContext(v -> webSockets.connect(options).onComplete(ar -> {
      if (ar.failed()) {
        stream.ended(null, ar.cause());
        return;
      }
      WebSocket socket = ar.result();
      long ping = vertx.setPeriodic(BRIDGE_PING_MS, id -> socket.writeTextMessage("{\"type\":\"ping\"}"));
      stream.onCancel(() -> vertx.runOnContext(c -> {
        vertx.cancelTimer(ping);
        socket.close();
      }));
      socket.closeHandler(closed -> {
        vertx.cancelTimer(ping);
        stream.ended(GrpcStatus.UNAVAILABLE, "the server closed the event stream");
      });
      socket.exceptionHandler(err -> stream.ended(null, err));
      socket.textMessageHandler(text -> bridgeFrame(stream, text));
      JsonObject headers = new JsonObject().put("authorization", "Bearer " + token);
      for (String type : types) {
        socket.writeTextMessage(new JsonObject().put("type", "register").put("address", "hodei.events." + type)
            .put("headers", headers).encode());
      }
      stream.connected();
    }));
    return track(stream);
  }

  private static void bridgeFrame(Stream<JsonObject> stream, String text) {
    JsonObject frame;
    try {
      frame = new JsonObject(text);
    } catch (DecodeException e) {
      return;
    }
    switch (frame.getString("type", "")) {
      case "rec", "message" -> {
        if (frame.getValue("body") instanceof JsonObject body) {
          stream.message(body.copy().put("address", frame.getString("address")));
        }
      }
      case "err" -> {
        int code = frame.getInteger("failureCode", 400);
        GrpcStatus status = code == 401 ? GrpcStatus.UNAUTHENTICATED
            : code == 403 ? GrpcStatus.PERMISSION_DENIED : GrpcStatus.INVALID_ARGUMENT;
        stream.ended(status, frame.getString("message", frame.getString("failureType", "refused")));
      }
      default -> { }
    }
  }

  private <T> Stream<T> track(Stream<T> stream) {
    open.add(stream);
    return stream;
  }

  /** What a command does between messages; returning false stops {@link #follow}. */
  @FunctionalInterface
  interface Tick {
    boolean keepGoing() throws Exception;
  }

  /**
   * Reads streams opened by {@code open} until one ends OK (returns true) or {@code tick} says stop (returns false).
   * A stream that drops or cannot connect is opened again with back-off ({@code open} resumes where the command got
   * to), with one line on {@code err} per outage; a status that another try cannot fix (unauthorized, not found,
   * invalid, unimplemented) is a {@link CliException}. Commands call the server over REST first, so a server that is
   * down when the command starts is reported by that call, not waited for here.
   *
   * @param tickMillis how often {@code tick} runs while no message comes
   */
  <T> boolean follow(Supplier<Stream<T>> open, Consumer<T> onMessage, Tick tick, long tickMillis, PrintWriter err)
      throws Exception {
    long backoff = FIRST_BACKOFF_MS;
    boolean outage = false;
    while (true) {
      Stream<T> stream = open.get();
      try {
        while (true) {
          T message = stream.next(tickMillis);
          if (outage && stream.isConnected() && stream.end() == null) {
            err.println("hodei: reconnected to " + server);
            err.flush();
            outage = false;
          }
          if (message != null) {
            backoff = FIRST_BACKOFF_MS;
            onMessage.accept(message);
            continue;
          }
          End end = stream.end();
          if (end != null) {
            if (end.ok()) return true;
            if (!end.retryable()) throw end.problem(server);
            long delay = backoff + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
            if (!outage) {
              err.println("hodei: lost the stream from " + server + " (" + end.describe() + "); reconnecting");
              err.flush();
              outage = true;
            }
            backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            if (!sleep(delay, tick, tickMillis)) return false;
            break;
          }
          if (!tick.keepGoing()) return false;
        }
      } finally {
        stream.close();
      }
    }
  }

  private static boolean sleep(long millis, Tick tick, long tickMillis) throws Exception {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (System.nanoTime() < until) {
      Thread.sleep(Math.min(tickMillis, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
      if (!tick.keepGoing()) return false;
    }
    return true;
  }

  @Override
  public void close() {
    Stream<?> s;
    while ((s = open.poll()) != null) s.close();
    // an interrupted command (a stopped watch) still lets its threads go: wait for the close, then re-interrupt
    boolean interrupted = Thread.interrupted();
    try {
      Future<Void> closed = grpc.close().eventually(webSockets::close).eventually(vertx::close);
      closed.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the process is ending anyway; nothing a user could do about a slow close
      if (e instanceof InterruptedException) interrupted = true;
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  /** How a stream ended: a gRPC status (bridge errors mapped to one), or a transport failure ({@code status} null). */
  record End(GrpcStatus status, String message) {
    boolean ok() { return status == GrpcStatus.OK; }

    boolean retryable() {
      if (status == null) return true;
      return switch (status) {
        case UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, CANCELLED, ABORTED, RESOURCE_EXHAUSTED,
             DATA_LOSS -> true;
        default -> false;
      };
    }

    String describe() {
      String m = message == null || message.isBlank() ? null : message.lines().findFirst().orElse(message);
      if (status == null) return m == null ? "connection failed" : m;
      return m == null ? status.name() : status.name() + ": " + m;
    }

    /** The one line a user reads, with the exit code of the matching REST failure. */
    CliException problem(String server) {
      String m = message == null || message.isBlank() ? null : message.lines().findFirst().orElse(message);
      if (status == null) return RestClient.unreachable(server, m);
      return switch (status) {
        case UNAUTHENTICATED -> CliException.error("unauthorized (check your token: hodei login): " + m);
        case PERMISSION_DENIED -> CliException.error("forbidden: " + m);
        case NOT_FOUND -> new CliException(ExitCodes.NOT_FOUND, m == null ? "not found" : m);
        case UNIMPLEMENTED -> CliException.error(server + " does not serve the gRPC streams the CLI follows with "
            + "(is a proxy in front of it HTTP/1.1 only?)" + (m == null ? "" : ": " + m));
        default -> CliException.error(m == null ? "the stream failed: " + status.name() : m);
      };
    }
  }

  /** One open stream: messages queued by the event loop, read by the command's thread. */
  static final class Stream<T> implements AutoCloseable {
    private static final Object CLOSED = new Object();
    private final String name;
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private volatile End end;
    private volatile boolean connected;
    private volatile boolean closed;
    private volatile Runnable cancel;

    Stream(String name) { this.name = name; }

    String name() { return name; }

    void connected() { connected = true; }

    boolean isConnected() { return connected; }

    void message(T message) {
      if (!closed) queue.add(message);
    }

    void ended(GrpcStatus status, Object why) {
      if (end != null) return;
      String message = why instanceof Throwable t ? RestClient.firstLine(t) : why == null ? null : why.toString();
      end = new End(status, message);
      queue.add(CLOSED);
    }

    void onCancel(Runnable cancel) {
      this.cancel = cancel;
      if (closed) cancel.run();
    }

    /** The next message within {@code timeoutMillis}; null when none came or the stream ended ({@link #end}). */
    @SuppressWarnings("unchecked")
    T next(long timeoutMillis) throws InterruptedException {
      Object item = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
      if (item == null) return null;
      if (item == CLOSED) {
        queue.add(CLOSED);
        return null;
      }
      return (T) item;
    }

    /** How it ended, once every message before the end was read; null while it is open. */
    End end() { return queue.peek() == CLOSED ? end : null; }

    @Override
    public void close() {
      if (closed) return;
      closed = true;
      Runnable c = cancel;
      if (c != null) c.run();
    }
  }
}
