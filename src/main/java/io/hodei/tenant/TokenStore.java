package io.hodei.tenant;

import io.hodei.common.Ids;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Role;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** API tokens: stored as SHA-256 hashes, never in the clear. */
final class TokenStore {
  private static final String INSERT = "INSERT INTO api_token (id, token_hash, name, role, tenant_id, created_by) "
      + "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, name, role, tenant_id, created_by, created_at, revoked_at";
  private static final String FIND_ACTIVE = "SELECT id, role, tenant_id FROM api_token "
      + "WHERE token_hash = $1 AND revoked_at IS NULL AND role <> 'agent'";
  private static final String LIST = "SELECT id, name, role, tenant_id, created_by, created_at, revoked_at "
      + "FROM api_token WHERE tenant_id = $1 ORDER BY created_at, id";
  private static final String REVOKE = "UPDATE api_token SET revoked_at = now() WHERE id = $1 AND tenant_id = $2 "
      + "AND revoked_at IS NULL RETURNING id, name, role, tenant_id, created_by, created_at, revoked_at";
  private static final String COUNT_ADMINS = "SELECT count(*) FROM api_token WHERE role = 'admin' AND revoked_at IS NULL";
  private static final String UPSERT_BOOTSTRAP = "INSERT INTO api_token (id, token_hash, name, role, tenant_id, "
      + "created_by) VALUES ($1, $2, 'bootstrap-admin', 'admin', NULL, 'HODEI_ADMIN_TOKEN') "
      + "ON CONFLICT (token_hash) DO UPDATE SET revoked_at = NULL";

  private static final String INSERT_AGENT = "INSERT INTO api_token (id, token_hash, name, role, pool_id, created_by) "
      + "VALUES ($1, $2, $3, 'agent', $4, $5) RETURNING id, name, role, pool_id, created_by, created_at, revoked_at";
  private static final String FIND_AGENT = "SELECT id, pool_id FROM api_token "
      + "WHERE token_hash = $1 AND revoked_at IS NULL AND role = 'agent'";
  private static final String LIST_AGENT = "SELECT id, name, role, pool_id, created_by, created_at, revoked_at "
      + "FROM api_token WHERE pool_id = $1 AND role = 'agent' ORDER BY created_at, id";
  private static final String REVOKE_AGENT = "UPDATE api_token SET revoked_at = now() WHERE id = $1 AND pool_id = $2 "
      + "AND role = 'agent' AND revoked_at IS NULL "
      + "RETURNING id, name, role, pool_id, created_by, created_at, revoked_at";

  private final Pool pool;

  TokenStore(Pool pool) { this.pool = pool; }

  Future<JsonObject> insert(String id, String hash, String name, Role role, String tenantId, String createdBy) {
    return pool.preparedQuery(INSERT).execute(Tuple.of(id, hash, name, role.wire(), tenantId, createdBy))
        .map(rows -> toJson(rows.iterator().next()));
  }

  Future<Optional<Caller>> authenticate(String hash) {
    return pool.preparedQuery(FIND_ACTIVE).execute(Tuple.of(hash)).map(rows -> {
      if (rows.size() == 0) return Optional.empty();
      Row row = rows.iterator().next();
      return Optional.of(new Caller(row.getString("id"), Role.parse(row.getString("role")).orElseThrow(),
          row.getString("tenant_id")));
    });
  }

  Future<List<JsonObject>> list(String tenantId) { return tokens(LIST, tenantId); }

  Future<JsonObject> revoke(String tenantId, String tokenId) {
    return revoke(REVOKE, "active token", tokenId, tenantId);
  }

  /** An agent token for one pool (the secret is hashed by the caller). */
  Future<JsonObject> insertAgent(String id, String hash, String name, String poolId, String createdBy) {
    return pool.preparedQuery(INSERT_AGENT).execute(Tuple.of(id, hash, name, poolId, createdBy))
        .map(rows -> toJson(rows.iterator().next()));
  }

  /** The token id and pool of an active agent token, or empty. */
  Future<Optional<JsonObject>> authenticateAgent(String hash) {
    return pool.preparedQuery(FIND_AGENT).execute(Tuple.of(hash)).map(rows -> rows.size() == 0 ? Optional.empty()
        : Optional.of(new JsonObject().put("token_id", rows.iterator().next().getString("id"))
            .put("pool_id", rows.iterator().next().getString("pool_id"))));
  }

  Future<List<JsonObject>> listAgent(String poolId) { return tokens(LIST_AGENT, poolId); }

  Future<JsonObject> revokeAgent(String poolId, String tokenId) {
    return revoke(REVOKE_AGENT, "active agent token", tokenId, poolId);
  }

  /** The tokens of one tenant or pool ({@code sql} takes its id as $1). */
  private Future<List<JsonObject>> tokens(String sql, String ownerId) {
    return pool.preparedQuery(sql).execute(Tuple.of(ownerId)).map(rows -> {
      List<JsonObject> result = new ArrayList<>();
      rows.forEach(r -> result.add(toJson(r)));
      return result;
    });
  }

  /** Revokes an active token of one tenant or pool ({@code sql}: $1 token id, $2 owner id); 404 when none. */
  private Future<JsonObject> revoke(String sql, String what, String tokenId, String ownerId) {
    return pool.preparedQuery(sql).execute(Tuple.of(tokenId, ownerId)).compose(rows -> rows.size() == 0
        ? Future.failedFuture(DomainException.notFound(what, tokenId))
        : Future.succeededFuture(toJson(rows.iterator().next())));
  }

  /**
   * Makes sure an admin can log in: registers HODEI_ADMIN_TOKEN when given, else generates a token when no admin
   * token exists yet. Returns the generated token (to be shown once), or empty.
   */
  Future<Optional<String>> bootstrapAdmin(String configuredToken) {
    if (configuredToken != null) {
      return pool.preparedQuery(UPSERT_BOOTSTRAP)
          .execute(Tuple.of(Ids.generate("tok-"), Tokens.hash(configuredToken)))
          .map(r -> Optional.empty());
    }
    return pool.query(COUNT_ADMINS).execute().compose(rows -> {
      if (rows.iterator().next().getLong(0) > 0) return Future.succeededFuture(Optional.<String>empty());
      String token = Tokens.generate();
      return insert(Ids.generate("tok-"), Tokens.hash(token), "generated-admin", Role.ADMIN, null, "first-start")
          .map(r -> Optional.of(token));
    });
  }

  /** A token as the API shows it: scoped to its tenant, or for agent tokens to its pool. */
  private static JsonObject toJson(Row row) {
    JsonObject json = new JsonObject()
        .put("id", row.getString("id"))
        .put("name", row.getString("name"))
        .put("role", row.getString("role"));
    if ("agent".equals(row.getString("role"))) json.put("pool_id", row.getString("pool_id"));
    else json.put("tenant_id", row.getString("tenant_id"));
    return json
        .put("created_by", row.getString("created_by"))
        .put("created_at", io.hodei.store.Timestamps.iso(row.getOffsetDateTime("created_at")))
        .put("revoked_at", io.hodei.store.Timestamps.iso(row.getOffsetDateTime("revoked_at")));
  }
}
