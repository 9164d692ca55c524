package io.hodei.http;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.ValidatableResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every response the server sends validates against the OpenAPI document it serves: each operation is called on its
 * happy path, and with the errors any client can cause (no token, a viewer's token, an unknown id, a hostile query, a
 * body that is not JSON, too large or of unknown fields, a URI or a header too long, a stale If-Match, a job that
 * already ended, and the 429 that repeated bad tokens earn). Status codes must be documented for the
 * operation and bodies must match their schema, checked by Vert.x's OpenAPI response validator. That validator knows
 * a fixed set of media types: the copy it gets names {@code application/problem+json} as {@code application/json}
 * and {@code text/csv} as {@code text/plain} (same schemas), and the test checks the real types itself.
 */
class OpenApiConformanceTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestServer server;
  private static Vertx vertx;
  private static OpenAPIContract contract;
  private static ResponseValidator validator;
  private static String viewer;
  private static String submitter;

  /** One call of an operation: the path with its parameters filled in. */
  private record Call(String operationId, HttpMethod method, String path, String token, Object body,
                      Map<String, String> headers) {
    Call(String operationId, HttpMethod method, String path, String token, Object body) {
      this(operationId, method, path, token, body, Map.of());
    }
  }

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1, ConfigSchema.SERVER_GRPC_PORT, 0,
        ConfigSchema.COST_SWEEP_INTERVAL, 1, ConfigSchema.SERVER_BODY_LIMIT, 65_536));
    vertx = Vertx.vertx();
    JsonObject document = server.get("/api/v1/openapi", null).json();
    // the document names its server relative ("/"); the validator wants an absolute URL
    document.put("servers", new JsonArray().add(new JsonObject().put("url", "http://127.0.0.1:" + server.port())));
    contract = OpenAPIContract.from(vertx, supportedMediaTypes(document)).await();
    validator = ResponseValidator.create(vertx, contract);
    Fixtures fx = new Fixtures(server);
    submitter = fx.tenant("acme", null, 1, "submitter");
    viewer = server.admin(HttpMethod.POST, "/api/v1/tenants/acme/tokens", new JsonObject().put("role", "viewer"))
        .json().getString("token");
    fx.pool(Fixtures.simulatedPool("sim", 2, 20), 2);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
    if (vertx != null) vertx.close().await();
  }

  @Test
  void everyOperationsHappyPathAnswersAsDocumented() {
    happyPaths();
    Set<String> all = new TreeSet<>();
    contract.operations().forEach(op -> all.add(op.getOperationId()));
    assertThat(covered).as("a happy path for every operation").containsAll(all);
    assertThat(mismatches).isEmpty();
  }

  private final List<String> mismatches = new ArrayList<>();
  private final Set<String> covered = new LinkedHashSet<>();

  /** Sends a call that must succeed, checks its answer against the document. */
  private Response run(Call call) {
    Response r = send(call);
    covered.add(call.operationId());
    assertThat(r.status()).as("%s %s: %s", call.method(), call.path(), r).isLessThan(300);
    check(call, r, mismatches);
    return r;
  }

  @Test
  void everyErrorAClientCanCauseIsDocumentedAndValid() {
    List<String> mismatches = new ArrayList<>();
    String jobId = new Fixtures(server).submitted(submitter, Fixtures.spec("sim", "true"));
    for (Operation op : contract.operations()) {
      String path = fill(op.getOpenAPIPath(), "no-such-id");
      HttpMethod method = op.getHttpMethod();
      boolean secured = op.getSecurityRequirements() == null || !op.getSecurityRequirements().isEmpty();
      boolean hasBody = op.getRequestBody() != null;
      List<Call> calls = new ArrayList<>();
      if (secured) {
        calls.add(new Call(op.getOperationId(), method, path, null, hasBody ? new JsonObject() : null));
        calls.add(new Call(op.getOperationId(), method, path, "not-a-token", hasBody ? new JsonObject() : null));
      }
      // a NUL in the query is refused before any route runs
      calls.add(new Call(op.getOperationId(), method, path + "?x=%00", TestServer.ADMIN_TOKEN, null));
      if (path.contains("no-such-id") && method != HttpMethod.POST && method != HttpMethod.PUT
          && method != HttpMethod.PATCH) {
        calls.add(new Call(op.getOperationId(), method, path, TestServer.ADMIN_TOKEN, null));
      }
      if (hasBody) {
        String real = fill(op.getOpenAPIPath(), "acme");
        calls.add(new Call(op.getOperationId(), method, real, TestServer.ADMIN_TOKEN, "{\"zz_unknown\": 1}"));
        calls.add(new Call(op.getOperationId(), method, real, TestServer.ADMIN_TOKEN, "not json"));
        calls.add(new Call(op.getOperationId(), method, real, TestServer.ADMIN_TOKEN, "name=x",
            Map.of("Content-Type", "application/x-www-form-urlencoded")));
        calls.add(new Call(op.getOperationId(), method, real, TestServer.ADMIN_TOKEN,
            "{\"name\": \"" + "x".repeat(70_000) + "\"}"));
      }
      if (secured && method != HttpMethod.GET) {
        // a viewer may read (a quota check, a cost report), not change: whatever it gets is documented
        Call asViewer = new Call(op.getOperationId(), method, fill(op.getOpenAPIPath(), "acme"), viewer,
            hasBody ? new JsonObject() : null);
        check(asViewer, send(asViewer), mismatches);
      }
      for (Call call : calls) {
        Response r = send(call);
        assertThat(r.status()).as("%s %s: %s", call.method(), call.path(), r).isGreaterThanOrEqualTo(400);
        check(call, r, mismatches);
      }
    }
    Call longUri = new Call("listJobs", HttpMethod.GET, "/api/v1/jobs?tenant=" + "a".repeat(20_000),
        TestServer.ADMIN_TOKEN, null);
    Response r = send(longUri);
    assertThat(r.status()).isEqualTo(414);
    check(longUri, r, mismatches);
    Call bigHeader = new Call("listJobs", HttpMethod.GET, "/api/v1/jobs", TestServer.ADMIN_TOKEN, null,
        Map.of("X-Padding", "p".repeat(20_000)));
    Response tooLarge = send(bigHeader);
    assertThat(tooLarge.status()).isEqualTo(431);
    check(bigHeader, tooLarge, mismatches);
    // a stale If-Match on the operations that take one
    for (Call stale : List.of(
        new Call("updateTenant", HttpMethod.PATCH, "/api/v1/tenants/acme", TestServer.ADMIN_TOKEN,
            new JsonObject().put("name", "Acme"), Map.of("If-Match", "\"999\"")),
        new Call("replaceTenantQuota", HttpMethod.PUT, "/api/v1/tenants/acme/quotas", TestServer.ADMIN_TOKEN,
            new JsonObject().put("cpu_m", 4000).put("memory_mb", 8192).put("max_concurrent_jobs", 10)
                .put("max_queued_jobs", 1000), Map.of("If-Match", "\"999\"")),
        new Call("updatePool", HttpMethod.PATCH, "/api/v1/pools/sim", TestServer.ADMIN_TOKEN,
            new JsonObject().put("name", "Sim"), Map.of("If-Match", "\"999\"")))) {
      Response r412 = send(stale);
      assertThat(r412.status()).as(r412.toString()).isEqualTo(412);
      check(stale, r412, mismatches);
    }
    Call conflict = new Call("cancelJob", HttpMethod.POST, "/api/v1/jobs/" + jobId + "/cancel", submitter, null);
    Poll.until(() -> new Fixtures(server).job(submitter, jobId).getString("state"),
        state -> Set.of("succeeded", "failed").contains(state), WAIT, "job done");
    Response cancelled = send(conflict);
    assertThat(cancelled.status()).isEqualTo(409);
    check(conflict, cancelled, mismatches);
    assertThat(mismatches).isEmpty();
  }

  /** The document with the media types the validator does not know renamed to ones it does (same schemas). */
  private static JsonObject supportedMediaTypes(JsonObject document) {
    String text = document.encode().replace("\"application/problem+json\"", "\"application/json\"")
        .replace("\"text/csv\"", "\"text/plain\"");
    return new JsonObject(text);
  }

  private static String fill(String template, String value) {
    return template.replaceAll("\\{[a-z_]+}", value);
  }

  private static Response send(Call call) {
    HttpRequest<Buffer> request = server.request(call.method(), call.path(), call.token());
    call.headers().forEach(request::putHeader);
    return server.send(request, call.body());
  }

  /** The status must be documented for the operation and the body must validate against it. */
  private static void check(Call call, Response r, List<String> mismatches) {
    String where = call.operationId() + " " + call.method() + " " + call.path().substring(0,
        Math.min(call.path().length(), 120)) + " -> " + r.status();
    Operation op = contract.operation(call.operationId());
    if (op.getDefaultResponse() == null && op.getResponse(r.status()) == null) {
      mismatches.add(where + ": status not documented");
      return;
    }
    Map<String, String> headers = new HashMap<>();
    r.headers().forEach(h -> headers.putIfAbsent(h.getKey(), h.getValue()));
    String type = r.contentType() == null ? null : r.contentType().split(";")[0].trim();
    if (r.status() >= 400 && !"application/problem+json".equals(type)) {
      mismatches.add(where + ": an error answered as " + type + ", not application/problem+json");
    }
    if ("application/problem+json".equals(type)) type = "application/json";
    if ("text/csv".equals(type)) type = "text/plain";
    if (type != null && type.startsWith("text/")) {
      // the validator cannot read text bodies (the Prometheus exposition, CSV): their media type must be documented
      io.vertx.openapi.contract.Response documented = op.getResponse(r.status()) != null
          ? op.getResponse(r.status()) : op.getDefaultResponse();
      if (!documented.getContent().containsKey(type)) mismatches.add(where + ": " + type + " not documented");
      return;
    }
    ValidatableResponse response = r.body().isEmpty() || type == null
        ? ValidatableResponse.create(r.status(), headers)
        : ValidatableResponse.create(r.status(), headers, Buffer.buffer(r.body()), type);
    try {
      validator.validate(response, call.operationId()).await();
    } catch (RuntimeException e) {
      mismatches.add(where + ": " + e.getMessage() + " body " + r.body().substring(0, Math.min(300,
          r.body().length())));
    }
  }

  /** Each operation once, in an order where what it needs exists. */
  private void happyPaths() {
    String a = TestServer.ADMIN_TOKEN;
    Fixtures fx = new Fixtures(server);
    String jobId = fx.submitted(submitter, Fixtures.spec("sim", "echo", "hello"));
    Poll.until(() -> fx.job(submitter, jobId).getString("state"), "succeeded"::equals, WAIT, "job done");
    String from = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
    String to = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
    String period = "from=" + from + "&to=" + to;
    String worker = server.get("/api/v1/pools/sim/workers", a).json().getJsonArray("items").getJsonObject(0)
        .getString("id");

    run(new Call("getLiveness", HttpMethod.GET, "/health/live", null, null));
    run(new Call("getReadiness", HttpMethod.GET, "/health/ready", null, null));
    run(new Call("scrapeMetrics", HttpMethod.GET, "/metrics", null, null));
    run(new Call("scrapeMetricsV1", HttpMethod.GET, "/api/v1/metrics", null, null));
    run(new Call("pushPoolMetrics", HttpMethod.POST, "/api/v1/metrics", submitter, new JsonObject()
        .put("samples", new JsonArray().add(new JsonObject().put("name", "hodei_model_workers").put("labels",
            new JsonObject().put("pool", "sim").put("model", "m")).put("value", 1)))));
    run(new Call("getOpenApiDocument", HttpMethod.GET, "/api/v1/openapi", null, null));
    run(new Call("createTenant", HttpMethod.POST, "/api/v1/tenants", a, new JsonObject().put("id", "beta")
        .put("name", "Beta").put("weight", 2).put("labels", new JsonObject().put("team", "b"))));
    run(new Call("listTenants", HttpMethod.GET, "/api/v1/tenants?limit=10", a, null));
    run(new Call("getTenant", HttpMethod.GET, "/api/v1/tenants/beta", a, null));
    run(new Call("updateTenant", HttpMethod.PATCH, "/api/v1/tenants/beta", a,
        new JsonObject().put("name", "Beta 2")));
    run(new Call("getTenantQuota", HttpMethod.GET, "/api/v1/tenants/beta/quotas", a, null));
    run(new Call("replaceTenantQuota", HttpMethod.PUT, "/api/v1/tenants/beta/quotas", a, new JsonObject()
        .put("cpu_m", 4000).put("memory_mb", 8192).put("max_concurrent_jobs", 5).put("max_queued_jobs", 100)));
    run(new Call("issueTenantToken", HttpMethod.POST, "/api/v1/tenants/beta/tokens", a,
        new JsonObject().put("role", "viewer").put("name", "ci")));
    run(new Call("listTenantTokens", HttpMethod.GET, "/api/v1/tenants/beta/tokens", a, null));
    String tokenId = server.admin(HttpMethod.POST, "/api/v1/tenants/beta/tokens", new JsonObject().put("role",
        "viewer")).json().getString("id");
    run(new Call("revokeTenantToken", HttpMethod.DELETE, "/api/v1/tenants/beta/tokens/" + tokenId, a, null));
    run(new Call("grantBurst", HttpMethod.POST, "/api/v1/tenants/beta/burst", a,
        new JsonObject().put("max_overage_percentage", 120).put("duration_minutes", 5).put("reason", "release")));
    run(new Call("getBurst", HttpMethod.GET, "/api/v1/tenants/beta/burst", a, null));
    run(new Call("revokeBurst", HttpMethod.DELETE, "/api/v1/tenants/beta/burst", a, null));
    run(new Call("getTenantMetrics", HttpMethod.GET, "/api/v1/tenants/acme/metrics", a, null));

    run(new Call("createPool", HttpMethod.POST, "/api/v1/pools", a, Fixtures.simulatedPool("extra", 1, 10)
        .put("labels", new JsonObject().put("gpu", "none")).put("price_per_worker_hour", "0.50")));
    run(new Call("listPools", HttpMethod.GET, "/api/v1/pools?limit=10", a, null));
    run(new Call("getPool", HttpMethod.GET, "/api/v1/pools/sim", a, null));
    run(new Call("updatePool", HttpMethod.PATCH, "/api/v1/pools/extra", a,
        new JsonObject().put("name", "Extra")));
    run(new Call("setStaticPoolSize", HttpMethod.PUT, "/api/v1/pools/extra/static", a,
        new JsonObject().put("size", 2)));
    run(new Call("listWorkers", HttpMethod.GET, "/api/v1/pools/sim/workers", a, null));
    run(new Call("addWorkers", HttpMethod.POST, "/api/v1/pools/extra/workers", a,
        new JsonObject().put("count", 1)));
    run(new Call("crashWorker", HttpMethod.POST, "/api/v1/pools/sim/workers/" + worker + "/crash", a, null));
    run(new Call("getPoolMetrics", HttpMethod.GET, "/api/v1/pools/sim/metrics", a, null));
    run(new Call("createPool", HttpMethod.POST, "/api/v1/pools", a, new JsonObject().put("id", "agents")
        .put("kind", "static").put("provider", "agent").put("size", 0)));
    String agentToken = run(new Call("issueAgentToken", HttpMethod.POST, "/api/v1/pools/agents/agent-tokens", a,
        new JsonObject().put("name", "build-hosts"))).json().getString("id");
    run(new Call("listAgentTokens", HttpMethod.GET, "/api/v1/pools/agents/agent-tokens", a, null));
    run(new Call("revokeAgentToken", HttpMethod.DELETE, "/api/v1/pools/agents/agent-tokens/" + agentToken, a, null));
    JsonObject dynamic = Fixtures.simulatedPool("dyn", 0, 10).put("kind", "dynamic").put("min_size", 0)
        .put("max_size", 3).put("target_size", 0);
    dynamic.remove("size");
    run(new Call("createPool", HttpMethod.POST, "/api/v1/pools", a, dynamic));

    run(new Call("submitJob", HttpMethod.POST, "/api/v1/jobs", submitter, Fixtures.spec("sim", "true")
        .put("name", "one").put("priority", 5).put("sla_deadline", to)));
    run(new Call("submitJob", HttpMethod.POST, "/api/v1/jobs", submitter, Fixtures.spec("sim", "true"),
        Map.of("Idempotency-Key", "conformance-1")));
    run(new Call("submitJobBatch", HttpMethod.POST, "/api/v1/jobs:batch", submitter, new JsonObject()
        .put("jobs", new JsonArray().add(Fixtures.spec("sim", "true")).add(Fixtures.spec("sim", "true")))));
    run(new Call("listJobs", HttpMethod.GET, "/api/v1/jobs?state=succeeded&limit=5", submitter, null));
    run(new Call("getJob", HttpMethod.GET, "/api/v1/jobs/" + jobId, submitter, null));
    run(new Call("listJobEvents", HttpMethod.GET, "/api/v1/jobs/" + jobId + "/events", submitter, null));
    run(new Call("getJobLogs", HttpMethod.GET, "/api/v1/jobs/" + jobId + "/logs", submitter, null));
    run(new Call("getJobSla", HttpMethod.GET, "/api/v1/jobs/" + jobId + "/sla", submitter, null));
    String queued = fx.submitted(submitter, Fixtures.spec("dyn", "true"));
    run(new Call("getJob", HttpMethod.GET, "/api/v1/jobs/" + queued, submitter, null));
    run(new Call("cancelJob", HttpMethod.POST, "/api/v1/jobs/" + queued + "/cancel", submitter, null));
    run(new Call("getQueueStatus", HttpMethod.GET, "/api/v1/queues/status", a, null));
    run(new Call("checkQuota", HttpMethod.POST, "/api/v1/quotas/enforce", submitter,
        new JsonObject().put("cpu_m", 500).put("memory_mb", 256)));

    run(new Call("getHealth", HttpMethod.GET, "/health", null, null));
    run(new Call("getObservabilityHealth", HttpMethod.GET, "/api/v1/observability/health", null, null));
    run(new Call("getCollectorStatus", HttpMethod.GET, "/api/v1/observability/collector", a, null));
    run(new Call("listFiringAlerts", HttpMethod.GET, "/api/v1/observability/alerts", a, null));
    run(new Call("getMetricHistory", HttpMethod.GET, "/api/v1/metrics/historical?metric=hodei_pool_size&"
        + period, a, null));
    run(new Call("getServicePerformance", HttpMethod.GET, "/api/v1/metrics/performance/rest", a, null));
    run(new Call("getServiceResources", HttpMethod.GET, "/api/v1/metrics/resources/all", a, null));
    run(new Call("getApplicationMetrics", HttpMethod.GET, "/api/v1/metrics/application/jobs", a, null));

    run(new Call("sweepCostLedger", HttpMethod.POST, "/api/v1/cost/sweep", a, null));
    run(new Call("getCostReport", HttpMethod.GET, "/api/v1/cost-reports?" + period + "&group_by=tenant", a,
        null));
    String report = run(new Call("startCostReport", HttpMethod.POST, "/api/v1/cost-reports", a,
        new JsonObject().put("from", from).put("to", to).put("group_by", "pool"))).json().getString("id");
    run(new Call("getCostBreakdown", HttpMethod.GET, "/api/v1/cost-optimization/breakdown?" + period, a,
        null));
    run(new Call("getCostRecommendations", HttpMethod.GET,
        "/api/v1/cost-optimization/recommendations?window_hours=1", a, null));
    run(new Call("setPoolPrice", HttpMethod.POST, "/api/v1/cost/prices", a,
        new JsonObject().put("pool_id", "sim").put("price_per_worker_hour", "0.25")));
    run(new Call("listPoolPrices", HttpMethod.GET, "/api/v1/cost/prices?pool_id=sim", a, null));

    String policyId = run(new Call("createScalingPolicy", HttpMethod.POST, "/api/v1/pools/dyn/scaling/policies", a,
        new JsonObject().put("type", "queue_depth_per_worker").put("target", 1).put("max_step", 1))).json()
        .getString("id");
    run(new Call("listScalingPolicies", HttpMethod.GET, "/api/v1/pools/dyn/scaling/policies", a, null));
    String triggerId = run(new Call("createScalingTrigger", HttpMethod.POST, "/api/v1/pools/dyn/scaling/triggers",
        a, new JsonObject().put("metric", "queue_depth").put("comparison", "gt").put("threshold", 5)
            .put("action", "scale_out").put("step", 1))).json().getString("id");
    run(new Call("listScalingTriggers", HttpMethod.GET, "/api/v1/pools/dyn/scaling/triggers", a, null));
    run(new Call("getScalingCooldown", HttpMethod.GET, "/api/v1/pools/dyn/scaling/cooldown", a, null));
    run(new Call("updateScalingCooldown", HttpMethod.PUT, "/api/v1/pools/dyn/scaling/cooldown", a,
        new JsonObject().put("scale_out_cooldown_s", 30)));
    run(new Call("listScalingDecisions", HttpMethod.GET, "/api/v1/pools/dyn/scaling/history", a, null));
    run(new Call("setDynamicPoolBounds", HttpMethod.PUT, "/api/v1/pools/dyn/dynamic", a,
        new JsonObject().put("min_size", 0).put("max_size", 4)));

    String policy = "/api/v1/pools/dyn/scaling/policies/" + policyId;
    String trigger = "/api/v1/pools/dyn/scaling/triggers/" + triggerId;
    JsonObject policyBody = new JsonObject().put("type", "queue_depth_per_worker").put("target", 2)
        .put("max_step", 1);
    JsonObject triggerBody = new JsonObject().put("metric", "queue_depth").put("comparison", "gt")
        .put("threshold", 9).put("action", "scale_out").put("step", 1);
    Poll.until(() -> server.get("/api/v1/cost-reports/" + report, a).json().getString("status"),
        s -> "done".equals(s) || "failed".equals(s), WAIT, "stored cost report finished");
    run(new Call("getStoredCostReport", HttpMethod.GET, "/api/v1/cost-reports/" + report, a,
        null));
    run(new Call("getScalingPolicy", HttpMethod.GET, policy, a, null));
    run(new Call("replaceScalingPolicy", HttpMethod.PUT, policy, a, policyBody));
    run(new Call("getScalingTrigger", HttpMethod.GET, trigger, a, null));
    run(new Call("replaceScalingTrigger", HttpMethod.PUT, trigger, a, triggerBody));
    run(new Call("deleteScalingPolicy", HttpMethod.DELETE, policy, a, null));
    run(new Call("deleteScalingTrigger", HttpMethod.DELETE, trigger, a, null));
    String extraWorker = Poll.until(() -> server.get("/api/v1/pools/extra/workers", a).json().getJsonArray("items"),
        items -> !items.isEmpty(), WAIT, "a worker in pool extra").getJsonObject(0).getString("id");
    run(new Call("terminateWorker", HttpMethod.DELETE, "/api/v1/pools/extra/workers/" + extraWorker, a, null));
    run(new Call("changePoolLifecycle", HttpMethod.POST, "/api/v1/pools/dyn/lifecycle", a,
        new JsonObject().put("action", "stop")));
    Poll.until(() -> server.get("/api/v1/pools/dyn", a).json().getString("state"), "stopped"::equals, WAIT,
        "pool dyn stopped");
    run(new Call("deleteTenant", HttpMethod.DELETE, "/api/v1/tenants/beta", a, null));
    run(new Call("deletePool", HttpMethod.DELETE, "/api/v1/pools/dyn", a, null));
  }
}
