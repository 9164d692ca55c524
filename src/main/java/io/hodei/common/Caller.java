package io.hodei.common;

import io.vertx.core.json.JsonObject;

/**
 * Who is calling: the authenticated token, its role and, for tenant-scoped tokens, its tenant. Domains decide with
 * it; the HTTP layer only authenticates and passes it along in the {@value BusHeaders#CALLER} header.
 */
public record Caller(String tokenId, Role role, String tenantId) {

  public static Caller system() { return new Caller("system", Role.ADMIN, null); }

  public boolean isAdmin() { return role == Role.ADMIN; }

  /** Requires the platform admin role. */
  public void requireAdmin() {
    if (!isAdmin()) throw DomainException.forbidden("this operation needs the admin role");
  }

  /**
   * Requires access to a tenant's resources with at least {@code minimum}. A tenant-scoped token that names another
   * tenant is told the tenant does not exist (404), so tenants cannot probe each other's ids.
   */
  public void requireTenant(String tenant, Role minimum) {
    requireOwner("tenant", tenant, tenant, minimum);
  }

  /**
   * Requires access to the {@code what} called {@code id}, owned by {@code ownerTenant}, with at least
   * {@code minimum}. A resource of another tenant is answered exactly as one that does not exist (404, the same
   * detail, naming only {@code what} and {@code id}), so ids cannot be probed and owners are never named; the role is
   * checked only once the caller may know the resource exists.
   */
  public void requireOwner(String what, String id, String ownerTenant, Role minimum) {
    if (!mayAccess(ownerTenant)) throw DomainException.notFound(what, id);
    requireRole(minimum);
  }

  /** Whether the caller may see what {@code ownerTenant} owns (admins see everything; null owner: only admins). */
  public boolean mayAccess(String ownerTenant) {
    return isAdmin() || (tenantId != null && tenantId.equals(ownerTenant));
  }

  /** Requires at least the given role, whatever the tenant. */
  public void requireRole(Role minimum) {
    if (!role.atLeast(minimum)) {
      throw DomainException.forbidden("this operation needs the " + minimum.wire() + " role or higher");
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("token_id", tokenId).put("role", role.wire()).put("tenant_id", tenantId);
  }

  public static Caller fromJson(JsonObject json) {
    return new Caller(json.getString("token_id"), Role.parse(json.getString("role")).orElse(Role.VIEWER),
        json.getString("tenant_id"));
  }
}
