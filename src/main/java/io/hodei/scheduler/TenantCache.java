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
import java.util.function.Consumer;

/** Tenants' weights, status and quotas, loaded at start and kept current from {@code tenant.changed} events. */
final class TenantCache {
  /** What the scheduler needs of a tenant. */
  record Tenant(String id, int weight, boolean active, long cpuM, long memoryMb, long maxConcurrent, long maxQueued,
                String burstGrantId, int burstPercentage, java.time.Instant burstEndsAt) {
    static Tenant from(JsonObject json) {
      JsonObject q = json.getJsonObject("quota");
      JsonObject b = json.getJsonObject("burst");
      return new Tenant(json.getString("id"), json.getInteger("weight", 1), "active".equals(json.getString("status")),
          q.getLong("cpu_m"), q.getLong("memory_mb"), q.getLong("max_concurrent_jobs"), q.getLong("max_queued_jobs"),
          b == null ? null : b.getString("id"), b == null ? 100 : b.getInteger("max_overage_percentage"),
          b == null ? null : java.time.Instant.parse(b.getString("ends_at")));
    }

    /** True while a burst grant is in force (expiry stops new burst admissions; running jobs go on). */
    boolean bursting(java.time.Instant now) { return burstEndsAt != null && now.isBefore(burstEndsAt); }

    /** A quota value as it stands now: multiplied by the burst percentage while a grant is in force. */
    long effective(long base, java.time.Instant now) {
      return bursting(now) ? base * burstPercentage / 100 : base;
    }
  }

  private final Vertx vertx;
  private final Map<String, Tenant> tenants = new HashMap<>();
  private MessageConsumer<JsonObject> consumer;
  private Consumer<String> known = id -> { };
  private Consumer<String> gone = id -> { };

  TenantCache(Vertx vertx) { this.vertx = vertx; }

  Tenant get(String id) { return tenants.get(id); }

  /** Tells {@code known} of every tenant loaded or created and {@code gone} of every tenant deleted. */
  void watch(Consumer<String> known, Consumer<String> gone) {
    this.known = known;
    this.gone = gone;
  }

  Future<Void> start() {
    consumer = vertx.eventBus().consumer(Events.address(Events.TENANT_CHANGED), msg -> apply(msg.body()));
    return consumer.completion().compose(v -> loadPage(null));
  }

  Future<Void> stop() { return consumer == null ? Future.succeededFuture() : consumer.unregister(); }

  /** A tenant as listed by the tenant domain; a change event that came first is newer and stays. */
  void listed(Tenant tenant) {
    if (tenants.putIfAbsent(tenant.id(), tenant) == null) known.accept(tenant.id());
  }

  private void apply(JsonObject event) {
    String id = event.getString("tenant_id");
    if (event.getBoolean("deleted", false)) {
      if (tenants.remove(id) != null) gone.accept(id);
    } else if (event.getJsonObject("tenant") != null) {
      if (tenants.put(id, Tenant.from(event.getJsonObject("tenant"))) == null) known.accept(id);
    }
  }

  private Future<Void> loadPage(String cursor) {
    JsonObject query = new JsonObject().put("limit", "500");
    if (cursor != null) query.put("cursor", cursor);
    return Bus.request(vertx, TenantAddresses.LIST, BusRequest.envelope(new JsonObject(), query, new JsonObject(), null),
        Caller.system(), null).compose(page -> {
          page.getJsonArray("items").forEach(t -> listed(Tenant.from((JsonObject) t)));
          String next = page.getString("next_cursor");
          return next == null ? Future.succeededFuture() : loadPage(next);
        });
  }
}
