package io.hodei.scheduler;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.Events;
import io.hodei.tenant.TenantAddresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/** Tenants' weights, status and quotas, loaded at start and kept current from {@code tenant.changed} events. */
final class TenantCache {
  /** What the scheduler needs of a tenant. */
  record Tenant(String id, int weight, boolean active, long cpuM, long memoryMb, long maxConcurrent, long maxQueued) {
    static Tenant from(JsonObject json) {
      JsonObject q = json.getJsonObject("quota");
      return new Tenant(json.getString("id"), json.getInteger("weight", 1), "active".equals(json.getString("status")),
          q.getLong("cpu_m"), q.getLong("memory_mb"), q.getLong("max_concurrent_jobs"), q.getLong("max_queued_jobs"));
    }
  }

  private final Vertx vertx;
  private final Map<String, Tenant> tenants = new HashMap<>();
  private MessageConsumer<JsonObject> consumer;

  TenantCache(Vertx vertx) { this.vertx = vertx; }

  Tenant get(String id) { return tenants.get(id); }

  Future<Void> start() {
    consumer = vertx.eventBus().consumer(Events.address(Events.TENANT_CHANGED), msg -> apply(msg.body()));
    return consumer.completion().compose(v -> loadPage(null));
  }

  Future<Void> stop() { return consumer == null ? Future.succeededFuture() : consumer.unregister(); }

  private void apply(JsonObject event) {
    String id = event.getString("tenant_id");
    if (event.getBoolean("deleted", false)) tenants.remove(id);
    else if (event.getJsonObject("tenant") != null) tenants.put(id, Tenant.from(event.getJsonObject("tenant")));
  }

  private Future<Void> loadPage(String cursor) {
    JsonObject query = new JsonObject().put("limit", "500");
    if (cursor != null) query.put("cursor", cursor);
    return Bus.request(vertx, TenantAddresses.LIST, BusRequest.envelope(new JsonObject(), query, new JsonObject(), null),
        Caller.system(), null).compose(page -> {
          page.getJsonArray("items").forEach(t -> {
            Tenant tenant = Tenant.from((JsonObject) t);
            tenants.putIfAbsent(tenant.id(), tenant);
          });
          String next = page.getString("next_cursor");
          return next == null ? Future.succeededFuture() : loadPage(next);
        });
  }
}
