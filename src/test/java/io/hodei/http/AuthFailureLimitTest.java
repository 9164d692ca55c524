package io.hodei.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.hodei.app.config.ConfigSchema;
import io.hodei.common.DomainException;
import io.hodei.grpc.v1.ListTenantsRequest;
import io.hodei.grpc.v1.TenantServiceGrpcClient;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcStatus;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failed token authentications are limited per client address (server.auth_failure_limit per
 * server.auth_failure_window_seconds): 401 up to the limit, then 429 problem+json with Retry-After (gRPC:
 * RESOURCE_EXHAUSTED), counted in hodei_auth_failures_total. A valid token from the same address is still accepted
 * during the lock-out (a legitimate client behind the same NAT as a guesser is not locked out).
 */
class AuthFailureLimitTest {
  private static final int LIMIT = 20;
  private static TestServer server;
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.SERVER_AUTH_FAILURE_LIMIT, LIMIT,
        ConfigSchema.SERVER_AUTH_FAILURE_WINDOW, 300));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static double failures(String outcome) {
    return Prometheus.parse(server.get("/metrics", null).body()).stream()
        .filter(s -> s.name().equals("hodei_auth_failures_total") && outcome.equals(s.labels().get("outcome")))
        .mapToDouble(Prometheus.Sample::value).sum();
  }

  @Test
  void aBurstOfBadTokensIsLimitedButAGoodTokenStillWorks() {
    double rejectedBefore = failures("rejected");
    double limitedBefore = failures("limited");
    int unauthorized = 0;
    int limited = 0;
    for (int i = 0; i < 600; i++) {
      Response r = server.get("/api/v1/tenants", "guess-" + i);
      if (i < LIMIT) {
        assertProblem(r, 401);
        unauthorized++;
      } else {
        assertProblem(r, 429);
        int retryAfter = Integer.parseInt(r.header("Retry-After"));
        assertThat(retryAfter).isBetween(1, 300);
        assertThat(r.json().getInteger("retry_after_seconds")).isEqualTo(retryAfter);
        limited++;
      }
      if (i == 300) {
        // the same address with a valid token during the lock-out
        assertThat(server.get("/api/v1/tenants", TestServer.ADMIN_TOKEN).status()).isEqualTo(200);
      }
    }
    assertThat(unauthorized).isEqualTo(LIMIT);
    assertThat(limited).isEqualTo(600 - LIMIT);
    // no token at all is not a failed authentication: still a plain 401
    assertProblem(server.get("/api/v1/tenants", null), 401);

    assertThat(failures("rejected") - rejectedBefore).isEqualTo(LIMIT);
    assertThat(failures("limited") - limitedBefore).isEqualTo(600 - LIMIT);

    // gRPC authenticates through the same limiter
    TenantServiceGrpcClient bad = TenantServiceGrpcClient.create(GrpcTestClient.create(vertx).bearer("guess-grpc"),
        SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"));
    assertThat(GrpcTestClient.statusOf(bad.listTenants(ListTenantsRequest.getDefaultInstance())))
        .isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    TenantServiceGrpcClient good = TenantServiceGrpcClient.create(
        GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN),
        SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"));
    assertThat(GrpcTestClient.statusOf(good.listTenants(ListTenantsRequest.getDefaultInstance())))
        .isEqualTo(GrpcStatus.OK);
  }

  @Test
  void theWindowEndsTheLimitAndEachAddressIsLoggedOncePerWindow() {
    AtomicLong now = new AtomicLong();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AuthFailureLimiter limiter = new AuthFailureLimiter(3, 10, registry, now::get);
    Logger logger = (Logger) LoggerFactory.getLogger(AuthFailureLimiter.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try {
      DomainException denied = DomainException.unauthorized("no");
      for (int i = 0; i < 3; i++) assertThat(limiter.failed("10.0.0.1", denied).status()).isEqualTo(401);
      DomainException limited = limiter.failed("10.0.0.1", denied);
      assertThat(limited.status()).isEqualTo(429);
      assertThat(limited.extensions().getLong(AuthFailureLimiter.RETRY_AFTER_SECONDS)).isEqualTo(10);
      now.addAndGet(4_000_000_000L);
      assertThat(limiter.failed("10.0.0.1", denied).extensions().getLong(AuthFailureLimiter.RETRY_AFTER_SECONDS))
          .isEqualTo(6);
      // another address has its own count
      assertThat(limiter.failed("10.0.0.2", denied).status()).isEqualTo(401);
      now.addAndGet(6_000_000_000L);
      assertThat(limiter.failed("10.0.0.1", denied).status()).isEqualTo(401);
      assertThat(logs.list).filteredOn(e -> e.getLevel() == Level.WARN).hasSize(1);
      assertThat(logs.list.get(0).getFormattedMessage()).contains("10.0.0.1");
      assertThat(registry.counter(io.hodei.common.MetricCatalog.AUTH_FAILURES.meterName(), "outcome", "limited").count()).isEqualTo(2);
      assertThat(registry.counter(io.hodei.common.MetricCatalog.AUTH_FAILURES.meterName(), "outcome", "rejected").count()).isEqualTo(5);

      // memory stays bounded: the addresses tracked longest are dropped first
      for (int i = 0; i < AuthFailureLimiter.MAX_ADDRESSES + 500; i++) limiter.failed("h" + i, denied);
      assertThat(limiter.tracked()).isEqualTo(AuthFailureLimiter.MAX_ADDRESSES);
    } finally {
      logger.detachAppender(logs);
    }
  }
}
