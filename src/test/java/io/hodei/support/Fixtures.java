package io.hodei.support;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Common set-up through the public API: tenants with tokens, pools, jobs. */
public final class Fixtures {
  private final TestServer server;

  public Fixtures(TestServer server) { this.server = server; }

  /** Creates a tenant and returns a token of the given role for it. */
  public String tenant(String id, JsonObject quota, int weight, String role) {
    JsonObject body = new JsonObject().put("id", id).put("name", id).put("weight", weight);
    if (quota != null) body.put("quota", quota);
    Response created = server.admin(HttpMethod.POST, "/api/v1/tenants", body);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    Response token = server.admin(HttpMethod.POST, "/api/v1/tenants/" + id + "/tokens",
        new JsonObject().put("role", role));
    assertThat(token.status()).as(token.toString()).isEqualTo(201);
    return token.json().getString("token");
  }

  public void pool(JsonObject body, int readyWorkers) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/pools", body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    String id = r.json().getString("id");
    Poll.until(() -> server.get("/api/v1/pools/" + id, TestServer.ADMIN_TOKEN).json(),
        p -> p.getJsonObject("workers").getInteger("idle") >= readyWorkers && "active".equals(p.getString("state")),
        Duration.ofSeconds(30), "pool " + id + " ready");
  }

  public static JsonObject simulatedPool(String id, int size, long jobMs) {
    return new JsonObject().put("id", id).put("provider", "simulated").put("size", size).put("worker_cpu_m", 4000)
        .put("worker_memory_mb", 8192).put("provider_config", new JsonObject().put("provision_delay_ms", 1)
            .put("job_duration_ms", jobMs));
  }

  public static JsonObject spec(String poolId, String... argv) {
    JsonArray command = new JsonArray();
    for (String a : argv) command.add(a);
    return new JsonObject().put("pool_id", poolId).put("command", command).put("cpu_m", 500).put("memory_mb", 256);
  }

  public Response submit(String token, JsonObject job) {
    return server.send(HttpMethod.POST, "/api/v1/jobs", token, job);
  }

  public String submitted(String token, JsonObject job) {
    Response r = submit(token, job);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  public JsonObject job(String token, String id) {
    Response r = server.get("/api/v1/jobs/" + id, token);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  public JsonObject awaitState(String token, String id, String state) {
    return Poll.until(() -> job(token, id), j -> state.equals(j.getString("state")), Duration.ofSeconds(30),
        "job " + id + " " + state);
  }
}
