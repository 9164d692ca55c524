package io.hodei.tenant;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** Tenants, quotas and tokens through REST against real PostgreSQL. */
class TenantApiTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.QUOTA_CPU, 3000, ConfigSchema.QUOTA_QUEUED, 500));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject createTenant(String name) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject().put("name", name));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json();
  }

  private static String issueToken(String tenantId, String role, String as) {
    Response r = server.send(HttpMethod.POST, "/api/v1/tenants/" + tenantId + "/tokens", as,
        new JsonObject().put("role", role));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    assertThat(r.json().getString("token")).startsWith("hodei_");
    return r.json().getString("token");
  }

  @Test
  void createAppliesConfiguredQuotaDefaults() {
    Response r = server.admin(HttpMethod.POST, "/api/v1/tenants",
        new JsonObject().put("name", "Defaults Inc").put("labels", new JsonObject().put("team", "data")));
    assertThat(r.status()).isEqualTo(201);
    JsonObject tenant = r.json();
    assertThat(tenant.getString("id")).startsWith("tn-");
    assertThat(tenant.getInteger("weight")).isEqualTo(1);
    assertThat(tenant.getString("status")).isEqualTo("active");
    assertThat(tenant.getJsonObject("labels").getString("team")).isEqualTo("data");
    JsonObject quota = tenant.getJsonObject("quota");
    assertThat(quota.getLong("cpu_m")).isEqualTo(3000);
    assertThat(quota.getLong("memory_mb")).isEqualTo(8192);
    assertThat(quota.getLong("max_concurrent_jobs")).isEqualTo(10);
    assertThat(quota.getLong("max_queued_jobs")).isEqualTo(500);
    assertThat(r.header("ETag")).isEqualTo("\"1\"");
    assertThat(r.header("Location")).isEqualTo("/api/v1/tenants/" + tenant.getString("id"));
    assertThat(tenant.getString("trace_id")).isEqualTo(r.header("X-Trace-Id"));

    Response fetched = server.get("/api/v1/tenants/" + tenant.getString("id"), TestServer.ADMIN_TOKEN);
    assertThat(fetched.status()).isEqualTo(200);
    assertThat(fetched.json().getString("name")).isEqualTo("Defaults Inc");
  }

  @Test
  void explicitIdWeightAndQuotaAreKept() {
    JsonObject body = new JsonObject().put("id", "acme").put("name", "Acme").put("weight", 5)
        .put("quota", new JsonObject().put("cpu_m", 16000).put("memory_mb", 65536));
    Response r = server.admin(HttpMethod.POST, "/api/v1/tenants", body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    assertThat(r.json().getString("id")).isEqualTo("acme");
    assertThat(r.json().getInteger("weight")).isEqualTo(5);
    assertThat(r.json().getJsonObject("quota").getLong("cpu_m")).isEqualTo(16000);
    assertThat(r.json().getJsonObject("quota").getLong("max_concurrent_jobs")).isEqualTo(10);

    assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject().put("id", "acme")
        .put("name", "Another")), 409);
    JsonObject dup = assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants",
        new JsonObject().put("name", "ACME")), 409);
    assertThat(dup.getString("detail")).contains("name");
  }

  @Test
  void badInputIsRejectedWithFieldErrorsAndNothingWritten() {
    JsonObject unknown = assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants",
        new JsonObject().put("name", "U").put("colour", "red")), 400);
    assertThat(unknown.getJsonArray("errors").getJsonObject(0).getString("field")).isEqualTo("colour");
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject().put("name", 42)), 400);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject()), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants",
        new JsonObject().put("name", "W").put("weight", 0)), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants",
        new JsonObject().put("name", "W").put("weight", 1.5)), 400);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants",
        new JsonObject().put("name", "S").put("status", "deleted")), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants",
        new JsonObject().put("id", "Not Valid!").put("name", "I")), 422);

    JsonObject half = assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject()
        .put("name", "Half Written").put("quota", new JsonObject().put("cpu_m", -1).put("gpus", 2))), 400);
    JsonArray errors = half.getJsonArray("errors");
    assertThat(errors.stream().map(e -> ((JsonObject) e).getString("field")))
        .containsExactlyInAnyOrder("quota.cpu_m", "quota.gpus");
    Response list = server.get("/api/v1/tenants?limit=500", TestServer.ADMIN_TOKEN);
    assertThat(list.json().getJsonArray("items").stream().map(t -> ((JsonObject) t).getString("name")))
        .doesNotContain("Half Written");
  }

  @Test
  void unknownTenantsAre404() {
    assertProblem(server.get("/api/v1/tenants/nope", TestServer.ADMIN_TOKEN), 404);
    assertProblem(server.get("/api/v1/tenants/nope/quotas", TestServer.ADMIN_TOKEN), 404);
    assertProblem(server.admin(HttpMethod.PATCH, "/api/v1/tenants/nope", new JsonObject().put("name", "x")), 404);
    assertProblem(server.admin(HttpMethod.DELETE, "/api/v1/tenants/nope", null), 404);
  }

  @Test
  void patchUsesOptimisticLocking() {
    JsonObject tenant = createTenant("Locking Ltd");
    String path = "/api/v1/tenants/" + tenant.getString("id");
    Response first = server.send(server.request(HttpMethod.PATCH, path, TestServer.ADMIN_TOKEN)
        .putHeader("If-Match", "\"1\""), new JsonObject().put("weight", 3));
    assertThat(first.status()).as(first.toString()).isEqualTo(200);
    assertThat(first.json().getInteger("weight")).isEqualTo(3);
    assertThat(first.header("ETag")).isEqualTo("\"2\"");

    Response stale = server.send(server.request(HttpMethod.PATCH, path, TestServer.ADMIN_TOKEN)
        .putHeader("If-Match", "\"1\""), new JsonObject().put("weight", 7));
    assertProblem(stale, 412);
    assertThat(server.get(path, TestServer.ADMIN_TOKEN).json().getInteger("weight")).isEqualTo(3);

    assertProblem(server.admin(HttpMethod.PATCH, path, new JsonObject()), 422);
    assertProblem(server.send(server.request(HttpMethod.PATCH, path, TestServer.ADMIN_TOKEN)
        .putHeader("If-Match", "garbage"), new JsonObject().put("weight", 7)), 412);
  }

  @Test
  void quotasCanBeReadAndReplaced() {
    JsonObject tenant = createTenant("Quota Corp");
    String path = "/api/v1/tenants/" + tenant.getString("id") + "/quotas";
    Response get = server.get(path, TestServer.ADMIN_TOKEN);
    assertThat(get.status()).isEqualTo(200);
    assertThat(get.json().getLong("cpu_m")).isEqualTo(3000);
    assertThat(get.header("ETag")).isEqualTo("\"1\"");

    JsonObject quota = new JsonObject().put("cpu_m", 8000).put("memory_mb", 16384).put("max_concurrent_jobs", 20)
        .put("max_queued_jobs", 2000);
    Response put = server.send(server.request(HttpMethod.PUT, path, TestServer.ADMIN_TOKEN)
        .putHeader("If-Match", "\"1\""), quota);
    assertThat(put.status()).as(put.toString()).isEqualTo(200);
    assertThat(put.json().getLong("max_concurrent_jobs")).isEqualTo(20);
    assertThat(put.json().getLong("version")).isEqualTo(2);
    assertProblem(server.send(server.request(HttpMethod.PUT, path, TestServer.ADMIN_TOKEN)
        .putHeader("If-Match", "\"1\""), quota), 412);

    assertProblem(server.admin(HttpMethod.PUT, path, quota.copy().put("cpu_m", -5)), 422);
    assertProblem(server.admin(HttpMethod.PUT, path, quota.copy().put("memory_mb", 1_000_000_000_000L)), 422);
    assertProblem(server.admin(HttpMethod.PUT, path, quota.copy().put("cpu_m", "lots")), 400);
    JsonObject missing = quota.copy();
    missing.remove("max_queued_jobs");
    assertProblem(server.admin(HttpMethod.PUT, path, missing), 422);
    assertThat(server.get(path, TestServer.ADMIN_TOKEN).json().getLong("cpu_m")).isEqualTo(8000);
  }

  @Test
  void listIsPaged() {
    for (int i = 0; i < 3; i++) createTenant("Paged " + i);
    Response first = server.get("/api/v1/tenants?limit=2", TestServer.ADMIN_TOKEN);
    assertThat(first.json().getJsonArray("items")).hasSize(2);
    String cursor = first.json().getString("next_cursor");
    assertThat(cursor).isNotNull();
    Response second = server.get("/api/v1/tenants?limit=2&cursor=" + cursor, TestServer.ADMIN_TOKEN);
    assertThat(second.json().getJsonArray("items").getJsonObject(0).getString("id")).isGreaterThan(cursor);
    assertProblem(server.get("/api/v1/tenants?limit=0", TestServer.ADMIN_TOKEN), 422);
    assertProblem(server.get("/api/v1/tenants?limit=abc", TestServer.ADMIN_TOKEN), 400);
  }

  @Test
  void tenantTokensSeeOnlyTheirOwnTenantAndRespectRoles() {
    String a = createTenant("Tenant A").getString("id");
    String b = createTenant("Tenant B").getString("id");
    String aAdmin = issueToken(a, "tenant-admin", TestServer.ADMIN_TOKEN);
    String aViewer = issueToken(a, "viewer", aAdmin);
    String bAdmin = issueToken(b, "tenant-admin", TestServer.ADMIN_TOKEN);

    assertThat(server.get("/api/v1/tenants/" + a, aViewer).status()).isEqualTo(200);
    assertProblem(server.get("/api/v1/tenants/" + b, aViewer), 404);
    assertProblem(server.get("/api/v1/tenants/" + b + "/quotas", aAdmin), 404);
    assertProblem(server.get("/api/v1/tenants/" + a, bAdmin), 404);
    JsonArray visible = server.get("/api/v1/tenants", aViewer).json().getJsonArray("items");
    assertThat(visible).hasSize(1);
    assertThat(visible.getJsonObject(0).getString("id")).isEqualTo(a);

    assertProblem(server.send(HttpMethod.PATCH, "/api/v1/tenants/" + a, aViewer,
        new JsonObject().put("name", "Renamed A")), 403);
    Response renamed = server.send(HttpMethod.PATCH, "/api/v1/tenants/" + a, aAdmin,
        new JsonObject().put("name", "Renamed A"));
    assertThat(renamed.status()).as(renamed.toString()).isEqualTo(200);
    assertProblem(server.send(HttpMethod.PATCH, "/api/v1/tenants/" + a, aAdmin,
        new JsonObject().put("weight", 100)), 403);
    assertProblem(server.send(HttpMethod.PUT, "/api/v1/tenants/" + a + "/quotas", aAdmin,
        new JsonObject().put("cpu_m", 1).put("memory_mb", 1).put("max_concurrent_jobs", 1)
            .put("max_queued_jobs", 1)), 403);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/tenants", aAdmin, new JsonObject().put("name", "Mine")), 403);
    assertProblem(server.send(HttpMethod.DELETE, "/api/v1/tenants/" + a, aAdmin, null), 403);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/tenants/" + b + "/tokens", aAdmin,
        new JsonObject().put("role", "viewer")), 404);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/tenants/" + a + "/tokens", aViewer,
        new JsonObject().put("role", "viewer")), 403);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/tenants/" + a + "/tokens", aAdmin,
        new JsonObject().put("role", "admin")), 422);
  }

  @Test
  void revokedTokensStopWorking() {
    String id = createTenant("Revoking").getString("id");
    Response issued = server.admin(HttpMethod.POST, "/api/v1/tenants/" + id + "/tokens",
        new JsonObject().put("role", "viewer").put("name", "ci"));
    String token = issued.json().getString("token");
    String tokenId = issued.json().getString("id");
    assertThat(server.get("/api/v1/tenants/" + id, token).status()).isEqualTo(200);

    Response listed = server.get("/api/v1/tenants/" + id + "/tokens", TestServer.ADMIN_TOKEN);
    assertThat(listed.body()).doesNotContain(token);
    assertThat(listed.json().getJsonArray("items").getJsonObject(0).getString("name")).isEqualTo("ci");

    assertThat(server.admin(HttpMethod.DELETE, "/api/v1/tenants/" + id + "/tokens/" + tokenId, null).status())
        .isEqualTo(204);
    assertProblem(server.get("/api/v1/tenants/" + id, token), 401);
    assertProblem(server.admin(HttpMethod.DELETE, "/api/v1/tenants/" + id + "/tokens/" + tokenId, null), 404);
  }

  @Test
  void deleteRemovesTheTenantAndItsTokens() {
    String id = createTenant("Short Lived").getString("id");
    String token = issueToken(id, "viewer", TestServer.ADMIN_TOKEN);
    assertThat(server.admin(HttpMethod.DELETE, "/api/v1/tenants/" + id, null).status()).isEqualTo(204);
    assertProblem(server.get("/api/v1/tenants/" + id, TestServer.ADMIN_TOKEN), 404);
    assertProblem(server.get("/api/v1/tenants/" + id, token), 401);
  }
}
