package io.hodei.metrics.runtime;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Request meters of the server's own services ({@code hodei_service_*}) and database statements
 * ({@code hodei_db_query_duration_seconds}). Thread-safe; endpoints must be bounded (route templates, gRPC methods,
 * event-bus request addresses).
 */
public final class ServiceMeters {
  public static final String REST = "rest";
  public static final String GRPC = "grpc";
  public static final String EVENTBUS = "eventbus";
  public static final List<String> SERVICES = List.of(REST, GRPC, EVENTBUS);
  public static final String OK = "ok";
  public static final String CLIENT_ERROR = "client_error";
  public static final String SERVER_ERROR = "server_error";
  public static final List<String> STATEMENT_KINDS = List.of("select", "insert", "update", "delete", "transaction",
      "other");
  static final Duration[] BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10)};

  private final MeterRegistry registry;
  /** Meters by service, then endpoint: looked up with the caller's strings, no key built per request. */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Endpoint>> endpoints = new ConcurrentHashMap<>();
  /** Statement timers by SQL text (the stores' constants); bounded, as some statements are built per call. */
  private final ConcurrentHashMap<String, Timer> statements = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> kinds = new ConcurrentHashMap<>();

  public ServiceMeters(MeterRegistry registry) { this.registry = registry; }

  /** One request of {@code service} on {@code endpoint} that ended with {@code outcome} after {@code nanos}. */
  public void record(String service, String endpoint, String outcome, long nanos) {
    endpoint(service, endpoint).record(outcome, nanos);
  }

  /** The meters of one endpoint of {@code service}, to record its requests with. */
  public Endpoint endpoint(String service, String endpoint) {
    ConcurrentHashMap<String, Endpoint> byEndpoint = endpoints.get(service);
    if (byEndpoint == null) byEndpoint = endpoints.computeIfAbsent(service, k -> new ConcurrentHashMap<>());
    Endpoint meters = byEndpoint.get(endpoint);
    return meters != null ? meters : byEndpoint.computeIfAbsent(endpoint, e -> new Endpoint(service, e));
  }

  /** A SQL statement's time, by the kind its text starts with. */
  public void statement(String sql, long nanos) {
    if (sql == null) sql = "";
    Timer timer = statements.get(sql);
    if (timer == null) {
      String kind = statementKind(sql);
      timer = kinds.computeIfAbsent(kind, k -> histogram(MetricCatalog.DB_QUERY_DURATION)
          .tag(MetricCatalog.KIND, k).register(registry));
      if (statements.size() < 1024) statements.put(sql, timer);
    }
    timer.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The request meters of one service endpoint: its duration and its requests by outcome. */
  public final class Endpoint {
    private final String service;
    private final String endpoint;
    private final Timer duration;
    private volatile Counter ok;
    private final ConcurrentHashMap<String, Counter> others = new ConcurrentHashMap<>();

    private Endpoint(String service, String endpoint) {
      this.service = service;
      this.endpoint = endpoint;
      this.duration = histogram(MetricCatalog.SERVICE_DURATION).tag(MetricCatalog.SERVICE, service)
          .tag(MetricCatalog.ENDPOINT, endpoint).register(registry);
    }

    public void record(String outcome, long nanos) {
      duration.record(nanos, TimeUnit.NANOSECONDS);
      Counter counter;
      if (OK.equals(outcome)) {
        counter = ok;
        if (counter == null) ok = counter = counter(OK);
      } else {
        counter = others.computeIfAbsent(outcome, this::counter);
      }
      counter.increment();
    }

    private Counter counter(String outcome) {
      return MetricCatalog.SERVICE_REQUESTS.counter().tag(MetricCatalog.SERVICE, service)
          .tag(MetricCatalog.ENDPOINT, endpoint).tag(MetricCatalog.OUTCOME, outcome).register(registry);
    }
  }

  /** The outcome of an HTTP status. */
  public static String httpOutcome(int status) {
    return status >= 500 ? SERVER_ERROR : status >= 400 ? CLIENT_ERROR : OK;
  }

  /**
   * The outcome of a gRPC status name: the server's fault for INTERNAL, UNKNOWN, UNAVAILABLE, DATA_LOSS, ...; ok for
   * OK and CANCELLED.
   */
  public static String grpcOutcome(String status) {
    return switch (status) {
      // a client that ends its own call (a watcher leaving a stream) is normal use, not an error
      case "OK", "CANCELLED" -> OK;
      case "INTERNAL", "UNKNOWN", "UNAVAILABLE", "DATA_LOSS", "UNIMPLEMENTED", "DEADLINE_EXCEEDED" -> SERVER_ERROR;
      default -> CLIENT_ERROR;
    };
  }

  static String statementKind(String sql) {
    if (sql == null) return "other";
    String s = sql.stripLeading();
    int end = 0;
    while (end < s.length() && Character.isLetter(s.charAt(end))) end++;
    String word = s.substring(0, end).toLowerCase(java.util.Locale.ROOT);
    return switch (word) {
      case "select", "with" -> "select";
      case "insert" -> "insert";
      case "update" -> "update";
      case "delete" -> "delete";
      case "begin", "commit", "rollback", "savepoint", "release" -> "transaction";
      default -> "other";
    };
  }

  private static Timer.Builder histogram(MetricCatalog.Def def) {
    return def.timer().serviceLevelObjectives(BUCKETS);
  }
}
