package io.hodei.support;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.Address;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;

/**
 * A {@link GrpcClient} for the generated service clients that adds metadata (a bearer token, a traceparent) to every
 * call, as a real client's interceptor would, and keeps the last response so a test can read its status, status
 * message and trailers (the generated clients only return the message or fail).
 */
public final class GrpcTestClient implements GrpcClient {
  private final GrpcClient delegate;
  private final MultiMap metadata = MultiMap.caseInsensitiveMultiMap();
  private volatile GrpcClientResponse<?, ?> last;

  private GrpcTestClient(GrpcClient delegate) {
    this.delegate = delegate;
  }

  /** A client of {@code vertx}'s with no metadata; see {@link #bearer} and {@link #header}. */
  public static GrpcTestClient create(Vertx vertx) { return new GrpcTestClient(GrpcClient.client(vertx)); }

  /** Sends {@code authorization: Bearer <token>} from now on (null: no authorization metadata). */
  public GrpcTestClient bearer(String token) {
    if (token == null) metadata.remove("authorization");
    else metadata.set("authorization", "Bearer " + token);
    return this;
  }

  /** Sends {@code name: value} from now on (null value: stop sending it). */
  public GrpcTestClient header(String name, String value) {
    if (value == null) metadata.remove(name);
    else metadata.set(name, value);
    return this;
  }

  /** The response of the last call this client made. */
  public GrpcClientResponse<?, ?> last() { return last; }

  /**
   * A trailer of the last response. A failed unary call usually ends "trailers-only" (one header block that ends
   * the stream, which gRPC defines as the trailers); the Vert.x client shows that block as headers.
   */
  public String trailer(String name) {
    GrpcClientResponse<?, ?> response = last;
    String value = response.trailers().get(name);
    if (value == null && response.headers().contains("grpc-status")) value = response.headers().get(name);
    return value;
  }

  /** Waits for {@code call} and returns the status it failed with, or OK. */
  public static GrpcStatus statusOf(Future<?> call) {
    Throwable failure = call.map(r -> (Throwable) null).otherwise(t -> t).await();
    if (failure == null) return GrpcStatus.OK;
    if (failure instanceof InvalidStatusException e) return e.actualStatus();
    throw new AssertionError("the call failed without a gRPC status", failure);
  }

  private <Req, Resp> GrpcClientRequest<Req, Resp> decorate(GrpcClientRequest<Req, Resp> request) {
    request.headers().addAll(metadata);
    request.response().onSuccess(response -> last = response);
    return request;
  }

  @Override
  public Future<GrpcClientRequest<Buffer, Buffer>> request(Address server) {
    return delegate.request(server).map(this::decorate);
  }

  @Override
  public Future<GrpcClientRequest<Buffer, Buffer>> request() {
    return delegate.request().map(this::decorate);
  }

  @Override
  public <Req, Resp> Future<GrpcClientRequest<Req, Resp>> request(Address server, ServiceMethod<Resp, Req> method) {
    return delegate.request(server, method).map(this::decorate);
  }

  @Override
  public <Req, Resp> Future<GrpcClientRequest<Req, Resp>> request(ServiceMethod<Resp, Req> method) {
    return delegate.request(method).map(this::decorate);
  }

  @Override
  public Future<Void> close() { return delegate.close(); }
}
