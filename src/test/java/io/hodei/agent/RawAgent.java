package io.hodei.agent;

import io.hodei.grpc.v1.AgentMessage;
import io.hodei.grpc.v1.AgentServiceGrpcClient;
import io.hodei.grpc.v1.Register;
import io.hodei.grpc.v1.ServerMessage;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A hand-driven agent stream: the test decides every message (to play a buggy or hostile agent). */
final class RawAgent implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final GrpcClient client = GrpcClient.client(vertx, new HttpClientOptions()
      .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
  private final BlockingQueue<ServerMessage> received = new LinkedBlockingQueue<>();
  private final CompletableFuture<GrpcStatus> ended = new CompletableFuture<>();
  private final GrpcClientRequest<AgentMessage, ServerMessage> stream;

  RawAgent(int port, String authorization) {
    stream = client.request(SocketAddress.inetSocketAddress(port, "127.0.0.1"), AgentServiceGrpcClient.Connect)
        .await();
    if (authorization != null) stream.headers().set("authorization", authorization);
    stream.response().onComplete(ar -> {
      if (ar.failed()) {
        ended.complete(GrpcStatus.UNAVAILABLE);
        return;
      }
      ar.result().handler(received::add);
      ar.result().endHandler(v -> ended.complete(ar.result().status()));
      ar.result().exceptionHandler(err -> ended.complete(GrpcStatus.UNAVAILABLE));
    });
  }

  static Register.Builder register(String agentId, String pool, int slots) {
    return Register.newBuilder().setAgentId(agentId).setPoolId(pool).setHostname("raw").setSlots(slots)
        .setCpuM(1000).setMemoryMb(1024).setVersion("test");
  }

  RawAgent send(AgentMessage message) {
    stream.write(message).await();
    return this;
  }

  RawAgent send(Register.Builder register) {
    return send(AgentMessage.newBuilder().setRegister(register).build());
  }

  /** The next server message that matches, skipping others; fails after the timeout. */
  ServerMessage next(Predicate<ServerMessage> wanted, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      ServerMessage m = received.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (m == null) throw new AssertionError("no matching server message within " + timeout);
      if (wanted.test(m)) return m;
    }
  }

  /** True once the server ended the stream. */
  boolean ended() { return ended.isDone(); }

  /** The status the server ended the stream with. */
  GrpcStatus status(Duration timeout) throws Exception {
    return ended.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    try {
      stream.cancel();
    } catch (RuntimeException ignored) {
      // already ended
    }
    client.close().await();
    vertx.close().await();
  }
}
