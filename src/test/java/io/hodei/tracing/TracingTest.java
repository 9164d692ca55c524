package io.hodei.tracing;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.GetPoolRequest;
import io.hodei.grpc.v1.ResourcePoolServiceGrpcClient;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * OpenTelemetry traces through the public surface: a server span per REST request and gRPC call whose trace id is
 * the trace_id the server reports, continuing an incoming traceparent, and a job's lifecycle spans in the trace of
 * the request that submitted it.
 */
class TracingTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final InMemorySpanExporter SPANS = InMemorySpanExporter.create();
  private static TestServer server;
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    server = TestServer.startTraced(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1), SPANS);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static SpanData awaitSpan(String what, java.util.function.Predicate<SpanData> match) {
    return Poll.until(() -> SPANS.getFinishedSpanItems().stream().filter(match).findFirst(), Optional::isPresent,
        DEADLINE, what).orElseThrow();
  }

  @Test
  void restSpanContinuesTheIncomingTraceparent() {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    String parent = "00f067aa0ba902b7";
    Response r = server.send(server.request(HttpMethod.GET, "/api/v1/tenants", TestServer.ADMIN_TOKEN)
        .putHeader("traceparent", "00-" + traceId + "-" + parent + "-01"), null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("trace_id")).isEqualTo(traceId);
    assertThat(r.header("X-Trace-Id")).isEqualTo(traceId);

    SpanData span = awaitSpan("REST span", s -> s.getTraceId().equals(traceId) && s.getKind() == SpanKind.SERVER);
    assertThat(span.getName()).isEqualTo("GET /api/v1/tenants");
    assertThat(span.getParentSpanId()).isEqualTo(parent);
    assertThat(span.getAttributes().get(ServerSpan.HTTP_STATUS)).isEqualTo(200L);
    assertThat(span.getAttributes().get(ServerSpan.HTTP_ROUTE)).isEqualTo("/api/v1/tenants");
    // the traceparent answered names this span as the parent of what the caller does next
    assertThat(r.header("traceparent")).isEqualTo("00-" + traceId + "-" + span.getSpanId() + "-01");
  }

  @Test
  void restSpanOfANewTraceCarriesTheReportedTraceId() {
    Response r = server.get("/api/v1/tenants/no-such-tenant", TestServer.ADMIN_TOKEN);
    assertThat(r.status()).isEqualTo(404);
    String traceId = r.json().getString("trace_id");
    SpanData span = awaitSpan("REST span", s -> s.getTraceId().equals(traceId) && s.getKind() == SpanKind.SERVER);
    assertThat(span.getName()).isEqualTo("GET /api/v1/tenants/{id}");
    assertThat(span.getParentSpanContext().isValid()).isFalse();
    assertThat(span.getAttributes().get(ServerSpan.HTTP_STATUS)).isEqualTo(404L);
  }

  @Test
  void grpcSpanCarriesTheTraceIdOfTheTrailer() {
    GrpcTestClient client = GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN);
    ResourcePoolServiceGrpcClient pools = ResourcePoolServiceGrpcClient.create(client,
        SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"));
    assertThat(GrpcTestClient.statusOf(pools.getPool(GetPoolRequest.newBuilder().setId("missing").build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
    String traceId = client.trailer("trace-id");
    SpanData span = awaitSpan("gRPC span", s -> s.getTraceId().equals(traceId) && s.getKind() == SpanKind.SERVER);
    assertThat(span.getName()).isEqualTo("hodei.v1.ResourcePoolService/GetPool");
    assertThat(span.getAttributes().get(ServerSpan.GRPC_STATUS)).isEqualTo("NOT_FOUND");
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);

    String incoming = "0af7651916cd43dd8448eb211c80319c";
    client.header("traceparent", "00-" + incoming + "-b7ad6b7169203331-01");
    GrpcTestClient.statusOf(pools.getPool(GetPoolRequest.newBuilder().setId("missing").build()));
    assertThat(client.trailer("trace-id")).isEqualTo(incoming);
    awaitSpan("continued gRPC span", s -> s.getTraceId().equals(incoming)
        && s.getParentSpanId().equals("b7ad6b7169203331"));
  }

  @Test
  void jobLifecycleSpansHangUnderTheSubmittingRequest() {
    Fixtures fixtures = new Fixtures(server);
    String token = fixtures.tenant("traced", null, 1, "submitter");
    fixtures.pool(Fixtures.simulatedPool("traced-pool", 1, 20), 1);
    Response submitted = fixtures.submit(token, Fixtures.spec("traced-pool", "echo", "hi"));
    assertThat(submitted.status()).as(submitted.toString()).isEqualTo(201);
    String traceId = submitted.json().getString("trace_id");
    String jobId = submitted.json().getString("id");
    fixtures.awaitState(token, jobId, "succeeded");

    SpanData job = awaitSpan("job span", s -> s.getTraceId().equals(traceId) && s.getName().equals("job"));
    SpanData request = awaitSpan("submit span", s -> s.getTraceId().equals(traceId)
        && s.getName().equals("POST /api/v1/jobs"));
    assertThat(job.getParentSpanId()).isEqualTo(request.getSpanId());
    assertThat(job.getAttributes().get(JobTraceVerticle.JOB_ID)).isEqualTo(jobId);
    assertThat(job.getAttributes().get(JobTraceVerticle.STATE)).isEqualTo("succeeded");
    assertThat(job.getStatus().getStatusCode()).isNotEqualTo(StatusCode.ERROR);

    List<SpanData> children = SPANS.getFinishedSpanItems().stream()
        .filter(s -> s.getParentSpanId().equals(job.getSpanId())).toList();
    SpanData queue = child(children, "job.queue");
    SpanData admit = child(children, "job.admit");
    SpanData run = child(children, "job.run");
    assertThat(run.getAttributes().get(JobTraceVerticle.POOL)).isEqualTo("traced-pool");
    // one timeline: submit <= queue end (admitted) <= admit end (started) <= run end (finished) = job end
    assertThat(queue.getStartEpochNanos()).isEqualTo(job.getStartEpochNanos());
    assertThat(queue.getEndEpochNanos()).isEqualTo(admit.getStartEpochNanos());
    assertThat(admit.getEndEpochNanos()).isEqualTo(run.getStartEpochNanos());
    assertThat(run.getEndEpochNanos()).isEqualTo(job.getEndEpochNanos());
    assertThat(run.getStartEpochNanos()).isGreaterThanOrEqualTo(job.getStartEpochNanos());
  }

  private static SpanData child(List<SpanData> children, String name) {
    return children.stream().filter(s -> s.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " span among " + children));
  }
}
