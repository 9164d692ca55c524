package io.hodei.cost;

import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.JsonInput;
import io.hodei.common.Role;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * A validated cost question: the period (whole UTC hours: {@code from} is rounded down and {@code to} up, as the
 * ledger is kept per hour), the grouping and the scope. Tenant tokens are always scoped to their own tenant.
 */
record CostQuery(Instant from, Instant to, String groupBy, String tenantId, String poolId) {
  static final List<String> GROUPS = List.of("tenant", "pool", "day", "job");
  static final String FROM = "from";
  static final String TO = "to";
  static final String GROUP_BY = "group_by";
  static final String TENANT_ID = "tenant_id";
  static final String POOL_ID = "pool_id";

  /** True when only one tenant's job costs are visible (no pool or idle cost). */
  boolean tenantScoped() { return tenantId != null; }

  JsonObject toJson() {
    return new JsonObject().put(FROM, from.toString()).put(TO, to.toString()).put(GROUP_BY, groupBy)
        .put(TENANT_ID, tenantId).put(POOL_ID, poolId);
  }

  /**
   * Reads {@code from, to, group_by, tenant_id, pool_id} (strings, as a query string has them). Unknown fields and
   * unparsable times are 400; from >= to, a span above {@code maxDays}, or an unknown grouping are 422.
   */
  static CostQuery read(JsonObject input, Caller caller, CostSettings settings, int maxDays, boolean periodRequired,
                        Duration defaultSpan) {
    caller.requireRole(Role.VIEWER);
    JsonInput in = JsonInput.of(input, FROM, TO, GROUP_BY, TENANT_ID, POOL_ID);
    Instant from = instant(in, input, FROM, periodRequired);
    Instant to = instant(in, input, TO, periodRequired);
    String groupBy = in.oneOf(GROUP_BY, false, GROUPS);
    String tenantId = in.string(TENANT_ID, false, 63);
    String poolId = in.string(POOL_ID, false, 63);
    in.validate();
    if (to == null) to = Instant.now();
    if (from == null) from = to.minus(defaultSpan);
    Instant alignedFrom = from.truncatedTo(ChronoUnit.HOURS);
    Instant alignedTo = to.truncatedTo(ChronoUnit.HOURS).equals(to) ? to : to.truncatedTo(ChronoUnit.HOURS).plus(
        Duration.ofHours(1));
    if (!from.isBefore(to)) throw DomainException.unprocessable("from must be before to");
    if (Duration.between(alignedFrom, alignedTo).compareTo(Duration.ofDays(maxDays)) > 0) {
      throw DomainException.unprocessable("the period may span at most " + maxDays + " days");
    }
    if (groupBy == null) groupBy = "tenant";
    if ("tenant".equals(groupBy) && !settings.trackByTenant()) {
      throw DomainException.unprocessable("group_by=tenant needs cost_tracking.track_by_tenant=true");
    }
    if ("job".equals(groupBy) && !settings.trackByJob()) {
      throw DomainException.unprocessable("group_by=job needs cost_tracking.track_by_job=true");
    }
    String scope = tenantId;
    if (!caller.isAdmin()) {
      if (tenantId != null) caller.requireTenant(tenantId, Role.VIEWER);
      scope = caller.tenantId();
      if (scope == null) throw DomainException.forbidden("cost data needs a tenant-scoped or admin token");
    }
    return new CostQuery(alignedFrom, alignedTo, groupBy, scope, poolId);
  }

  private static Instant instant(JsonInput in, JsonObject input, String field, boolean required) {
    Object raw = input.getValue(field);
    if (raw == null) {
      if (required) in.rangeError(field, "is required");
      return null;
    }
    if (!(raw instanceof String text)) {
      in.typeError(field, "must be an RFC 3339 time such as 2026-01-31T00:00:00Z");
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      try {
        return java.time.OffsetDateTime.parse(text).toInstant();
      } catch (DateTimeParseException e2) {
        in.typeError(field, "must be an RFC 3339 time such as 2026-01-31T00:00:00Z");
        return null;
      }
    }
  }
}
