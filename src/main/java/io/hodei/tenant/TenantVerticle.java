package io.hodei.tenant;

import io.hodei.common.Ids;
import io.hodei.common.Audit;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.JsonInput;
import io.hodei.common.Paging;
import io.hodei.common.Role;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The tenant domain: tenants, quotas and API tokens. Decides who may do what; the HTTP and gRPC layers only
 * translate to the requests on {@link TenantAddresses}.
 */
public final class TenantVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TenantVerticle.class);
  static final String ID_HINT = "lower-case letters, digits and dashes, at most 63, starting with a letter or digit";
  static final long MAX_CPU_M = 10_000_000;
  static final long MAX_MEMORY_MB = 100_000_000;
  static final long MAX_CONCURRENT = 1_000_000;
  static final long MAX_QUEUED = 10_000_000;
  private static final List<String> QUOTA_FIELDS = List.of("cpu_m", "memory_mb", "max_concurrent_jobs", "max_queued_jobs");
  private static final List<String> STATUSES = List.of("active", "suspended");
  private static final List<String> TENANT_TOKEN_ROLES =
      List.of(Role.TENANT_ADMIN.wire(), Role.SUBMITTER.wire(), Role.VIEWER.wire());

  private final Pool pool;
  private final QuotaDefaults defaults;
  private final String configuredAdminToken;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private TenantStore tenants;
  private TokenStore tokens;

  private final io.micrometer.core.instrument.MeterRegistry registry;
  private io.hodei.common.Events events;

  private final BurstPolicy burst;

  public TenantVerticle(Pool pool, QuotaDefaults defaults, BurstPolicy burst, String configuredAdminToken,
                        io.micrometer.core.instrument.MeterRegistry registry) {
    this.burst = burst;
    this.pool = pool;
    this.defaults = defaults;
    this.configuredAdminToken = configuredAdminToken;
    this.registry = registry;
  }

  /** Tells other domains (the scheduler caches weights and quotas) that a tenant changed or is gone. */
  private void changed(JsonObject tenant, String tenantId, boolean deleted) {
    JsonObject event = new JsonObject().put("tenant_id", tenantId).put("deleted", deleted);
    // the event is shared by its consumers once published; the caller goes on to answer with the tenant
    if (tenant != null) event.put("tenant", tenant.copy());
    events.publish(io.hodei.common.Events.TENANT_CHANGED, event);
  }

  @Override
  public Future<?> start() {
    tenants = new TenantStore(pool);
    events = new io.hodei.common.Events(vertx, registry);
    tokens = new TokenStore(pool);
    serve(TenantAddresses.CREATE, this::create);
    serve(TenantAddresses.LIST, this::list);
    serve(TenantAddresses.GET, this::get);
    serve(TenantAddresses.UPDATE, this::update);
    serve(TenantAddresses.DELETE, this::delete);
    serve(TenantAddresses.QUOTA_GET, this::getQuota);
    serve(TenantAddresses.QUOTA_SET, this::setQuota);
    serve(TenantAddresses.TOKEN_ISSUE, this::issueToken);
    serve(TenantAddresses.TOKEN_LIST, this::listTokens);
    serve(TenantAddresses.TOKEN_REVOKE, this::revokeToken);
    serve(TenantAddresses.AUTHENTICATE, this::authenticate);
    AgentTokens agentTokens = new AgentTokens(vertx, tokens);
    serve(TenantAddresses.AGENT_TOKEN_ISSUE, agentTokens::issue);
    serve(TenantAddresses.AGENT_TOKEN_LIST, agentTokens::list);
    serve(TenantAddresses.AGENT_TOKEN_REVOKE, agentTokens::revoke);
    serve(TenantAddresses.AUTHENTICATE_AGENT, agentTokens::authenticate);
    serve(TenantAddresses.BURST_GRANT, this::grantBurst);
    serve(TenantAddresses.BURST_GET, this::getBurst);
    serve(TenantAddresses.BURST_REVOKE, this::revokeBurst);
    serve(TenantAddresses.BURST_CONSUME, req -> {
      req.caller().requireAdmin();
      JsonObject b = req.payload();
      return tenants.consumeBurst(b.getString("grant_id"), b.getDouble("cpu_m_seconds", 0.0),
          b.getDouble("memory_mb_seconds", 0.0), b.getInteger("burst_jobs", 0))
          .map(v -> new JsonObject().put("metered", true));
    });
    return tokens.bootstrapAdmin(configuredAdminToken).map(generated -> {
      generated.ifPresent(token -> LOG.warn("no admin token existed: generated one; it is shown only now, store it",
          kv("admin_token", token)));
      return null;
    }).compose(v -> Future.all(consumers.stream().map(MessageConsumer::completion).toList()));
  }

  @Override
  public Future<?> stop() {
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList());
  }

  private void serve(String address, Function<BusRequest, Future<JsonObject>> handler) {
    consumers.add(Bus.serve(vertx, address, handler));
  }

  private Future<JsonObject> create(BusRequest req) {
    req.caller().requireAdmin();
    JsonInput in = JsonInput.of(req.payload(), "id", "name", "weight", "status", "labels", "quota");
    String id = in.string("id", false, Ids.MAX_LENGTH, Ids.TENANT, ID_HINT);
    String name = in.string("name", true, 128);
    Long weight = in.integer("weight", false, 1, 1000);
    String status = in.oneOf("status", false, STATUSES);
    JsonObject labels = in.labels("labels");
    JsonObject quota = readQuota(in.object("quota", QUOTA_FIELDS.toArray(String[]::new)), false);
    in.validate();
    JsonObject tenant = new JsonObject()
        .put("id", id != null ? id : Ids.generate("tn-"))
        .put("name", name.trim())
        .put("weight", weight == null ? 1 : weight.intValue())
        .put("status", status == null ? "active" : status)
        .put("labels", labels == null ? new JsonObject() : labels);
    return tenants.create(tenant, quota).onSuccess(created -> {
      Audit.record(req, "tenant.create", "tenant/" + created.getString("id"), null, created);
      changed(created, created.getString("id"), false);
    });
  }

  private Future<JsonObject> list(BusRequest req) {
    Paging paging = Paging.from(req);
    Caller caller = req.caller();
    String only = caller.isAdmin() ? null : caller.tenantId();
    return tenants.list(paging.cursor(), only, paging.limit() + 1).map(items -> paging.page(items, "id"));
  }

  private Future<JsonObject> get(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.VIEWER);
    return tenants.get(id);
  }

  private Future<JsonObject> update(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.TENANT_ADMIN);
    JsonInput in = JsonInput.of(req.payload(), "name", "weight", "status", "labels");
    String name = in.string("name", false, 128);
    Long weight = in.integer("weight", false, 1, 1000);
    String status = in.oneOf("status", false, STATUSES);
    JsonObject labels = in.labels("labels");
    in.validate();
    if (name == null && weight == null && status == null && labels == null) {
      throw DomainException.unprocessable("the patch changes nothing; send at least one of name, weight, status, labels");
    }
    if ((weight != null || status != null) && !req.caller().isAdmin()) {
      throw DomainException.forbidden("weight and status are set by an admin");
    }
    return tenants.update(id, req.ifMatch(), current -> {
      if (name != null) current.put("name", name.trim());
      if (weight != null) current.put("weight", weight.intValue());
      if (status != null) current.put("status", status);
      if (labels != null) current.put("labels", labels);
      return current;
    }).map(change -> {
      Audit.record(req, "tenant.update", "tenant/" + id, change[0], change[1]);
      changed(change[1], id, false);
      return change[1];
    });
  }

  private Future<JsonObject> delete(BusRequest req) {
    req.caller().requireAdmin();
    String id = req.param("id");
    return tenants.delete(id, req.ifMatch()).map(before -> {
      Audit.record(req, "tenant.delete", "tenant/" + id, before, null);
      changed(null, id, true);
      return new JsonObject().put("id", id).put("deleted", true);
    });
  }

  private Future<JsonObject> getQuota(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.VIEWER);
    return tenants.get(id).map(TenantVerticle::quotaView);
  }

  private Future<JsonObject> setQuota(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.VIEWER);
    req.caller().requireAdmin();
    JsonInput in = JsonInput.of(req.payload(), QUOTA_FIELDS.toArray(String[]::new));
    JsonObject quota = readQuota(in, true);
    in.validate();
    return tenants.setQuota(id, req.ifMatch(), quota).map(change -> {
      JsonObject before = quotaView(change[0]);
      JsonObject after = quotaView(change[1]);
      Audit.record(req, "quota.set", "tenant/" + id + "/quotas", before, after);
      changed(change[1], id, false);
      return after;
    });
  }

  private JsonObject readQuota(JsonInput in, boolean required) {
    JsonObject quota = new JsonObject()
        .put("cpu_m", defaults.cpuM())
        .put("memory_mb", defaults.memoryMb())
        .put("max_concurrent_jobs", defaults.maxConcurrentJobs())
        .put("max_queued_jobs", defaults.maxQueuedJobs());
    if (in == null) return quota;
    Long cpu = in.integer("cpu_m", required, 0, MAX_CPU_M);
    Long memory = in.integer("memory_mb", required, 0, MAX_MEMORY_MB);
    Long concurrent = in.integer("max_concurrent_jobs", required, 0, MAX_CONCURRENT);
    Long queued = in.integer("max_queued_jobs", required, 0, MAX_QUEUED);
    if (cpu != null) quota.put("cpu_m", cpu);
    if (memory != null) quota.put("memory_mb", memory);
    if (concurrent != null) quota.put("max_concurrent_jobs", concurrent);
    if (queued != null) quota.put("max_queued_jobs", queued);
    return quota;
  }

  private static JsonObject quotaView(JsonObject tenant) {
    return tenant.getJsonObject("quota").copy().put("tenant_id", tenant.getString("id"));
  }

  private Future<JsonObject> issueToken(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.TENANT_ADMIN);
    JsonInput in = JsonInput.of(req.payload(), "role", "name");
    String role = in.oneOf("role", true, TENANT_TOKEN_ROLES);
    String name = in.string("name", false, 128);
    in.validate();
    String secret = Tokens.generate();
    return tenants.get(id)
        .compose(t -> tokens.insert(Ids.generate("tok-"), Tokens.hash(secret), name == null ? role : name,
            Role.parse(role).orElseThrow(), id, req.caller().tokenId()))
        .map(token -> {
          Audit.record(req, "token.issue", "tenant/" + id + "/tokens/" + token.getString("id"), null, token);
          return token.copy().put("token", secret);
        });
  }

  private Future<JsonObject> listTokens(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.TENANT_ADMIN);
    return tenants.get(id).compose(t -> tokens.list(id))
        .map(items -> new JsonObject().put("items", new JsonArray(new ArrayList<>(items))).putNull("next_cursor"));
  }

  private Future<JsonObject> revokeToken(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.TENANT_ADMIN);
    String tokenId = req.param("token_id");
    return tokens.revoke(id, tokenId).map(token -> {
      Audit.record(req, "token.revoke", "tenant/" + id + "/tokens/" + tokenId, null, token);
      return token;
    });
  }

  /**
   * Grants a time-boxed overage: quotas are multiplied by {@code max_overage_percentage}/100 until it ends. A
   * tenant-admin may request one for its own tenant within burst_capacity limits; a new grant replaces the active one.
   */
  private Future<JsonObject> grantBurst(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.TENANT_ADMIN);
    if (!burst.enabled()) throw DomainException.conflict("burst capacity is disabled (burst_capacity.enabled)");
    JsonInput in = JsonInput.of(req.payload(), "max_overage_percentage", "duration_minutes", "reason");
    Long pct = in.integer("max_overage_percentage", false, 101, burst.maxOveragePercentage());
    Long minutes = in.integer("duration_minutes", false, 1, BurstPolicy.MAX_DURATION_MINUTES);
    String reason = in.string("reason", false, 500);
    in.validate();
    int effectivePct = pct == null ? burst.maxOveragePercentage() : pct.intValue();
    int effectiveMinutes = minutes == null ? burst.defaultDurationMinutes() : minutes.intValue();
    return tenants.grantBurst(id, Ids.generate("burst-"), effectivePct, effectiveMinutes, reason,
        req.caller().tokenId()).map(tenant -> {
          Audit.record(req, "burst.grant", "tenant/" + id + "/burst", null, tenant.getJsonObject("burst"));
          changed(tenant, id, false);
          return burstView(tenant);
        });
  }

  private Future<JsonObject> getBurst(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.VIEWER);
    return tenants.get(id).compose(tenant -> tenants.grants(id).map(history -> burstView(tenant)
        .put("history", history)));
  }

  private Future<JsonObject> revokeBurst(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.VIEWER);
    req.caller().requireAdmin();
    return tenants.revokeBurst(id).map(tenant -> {
      Audit.record(req, "burst.revoke", "tenant/" + id + "/burst", null, null);
      changed(tenant, id, false);
      return burstView(tenant);
    });
  }

  private static JsonObject burstView(JsonObject tenant) {
    JsonObject active = tenant.getJsonObject("burst");
    JsonObject quota = tenant.getJsonObject("quota");
    JsonObject view = new JsonObject().put("tenant_id", tenant.getString("id")).put("active", active);
    if (active != null) {
      double factor = active.getInteger("max_overage_percentage") / 100.0;
      view.put("effective_quota", new JsonObject()
          .put("cpu_m", (long) (quota.getLong("cpu_m") * factor))
          .put("memory_mb", (long) (quota.getLong("memory_mb") * factor))
          .put("max_concurrent_jobs", (long) (quota.getLong("max_concurrent_jobs") * factor)));
    }
    return view;
  }

  private Future<JsonObject> authenticate(BusRequest req) {
    req.caller().requireAdmin();
    String hash = req.payload().getString("token_hash");
    if (hash == null) throw DomainException.unauthorized("no token");
    return tokens.authenticate(hash).map(caller -> caller
        .orElseThrow(() -> DomainException.unauthorized("the bearer token is not valid or was revoked"))
        .toJson());
  }
}
