package io.hodei.tenant;

import io.hodei.common.DomainException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

import static io.hodei.store.Timestamps.iso;

/** Tenants and quotas in PostgreSQL. Every multi-statement change runs in one transaction. */
final class TenantStore {
  private static final String TENANT_COLUMNS = "t.id, t.name, t.weight, t.status, t.labels, t.created_at, "
      + "t.updated_at, t.version, q.cpu_m, q.memory_mb, q.max_concurrent_jobs, q.max_queued_jobs, "
      + "q.updated_at AS quota_updated_at, q.version AS quota_version, b.id AS burst_id, b.max_overage_pct, "
      + "b.starts_at AS burst_starts_at, b.ends_at AS burst_ends_at, b.consumed_cpu_m_seconds, "
      + "b.consumed_memory_mb_seconds, b.burst_jobs";
  /** The tenant, its quota and its active burst grant (if any). */
  private static final String FROM = " FROM tenant t JOIN quota q ON q.tenant_id = t.id LEFT JOIN LATERAL "
      + "(SELECT * FROM burst_grant g WHERE g.tenant_id = t.id AND g.revoked_at IS NULL AND g.ends_at > now() "
      + "ORDER BY g.ends_at DESC LIMIT 1) b ON true";
  private static final String SELECT_TENANT = "SELECT " + TENANT_COLUMNS + FROM + " WHERE t.id = $1";
  private static final String SELECT_TENANT_FOR_UPDATE = SELECT_TENANT + " FOR UPDATE OF t, q";
  private static final String LIST_TENANTS = "SELECT " + TENANT_COLUMNS + FROM
      + " WHERE ($1::text IS NULL OR t.id > $1)"
      + " AND ($2::text IS NULL OR t.id = $2) ORDER BY t.id LIMIT $3";
  private static final String INSERT_TENANT =
      "INSERT INTO tenant (id, name, weight, status, labels) VALUES ($1, $2, $3, $4, $5)";
  private static final String INSERT_QUOTA = "INSERT INTO quota (tenant_id, cpu_m, memory_mb, max_concurrent_jobs, "
      + "max_queued_jobs) VALUES ($1, $2, $3, $4, $5)";
  private static final String UPDATE_TENANT = "UPDATE tenant SET name = $2, weight = $3, status = $4, labels = $5, "
      + "updated_at = now(), version = version + 1 WHERE id = $1";
  private static final String UPDATE_QUOTA = "UPDATE quota SET cpu_m = $2, memory_mb = $3, max_concurrent_jobs = $4, "
      + "max_queued_jobs = $5, updated_at = now(), version = version + 1 WHERE tenant_id = $1";
  /**
   * Deletes a tenant without jobs (their history and cost stay attributable). Runs after the tenant's row lock, which
   * waits for job inserts holding the tenant (FOR KEY SHARE, see V12) to commit, so this statement sees their jobs.
   */
  private static final String DELETE_TENANT = "DELETE FROM tenant WHERE id = $1 "
      + "AND NOT EXISTS (SELECT 1 FROM job WHERE tenant_id = $1)";

  private static final String INSERT_GRANT = "INSERT INTO burst_grant (id, tenant_id, max_overage_pct, ends_at, "
      + "reason, created_by) VALUES ($1, $2, $3, now() + make_interval(mins => $4), $5, $6)";
  private static final String REVOKE_GRANTS = "UPDATE burst_grant SET revoked_at = now() WHERE tenant_id = $1 "
      + "AND revoked_at IS NULL AND ends_at > now()";
  private static final String CONSUME = "UPDATE burst_grant SET consumed_cpu_m_seconds = consumed_cpu_m_seconds + $2, "
      + "consumed_memory_mb_seconds = consumed_memory_mb_seconds + $3, burst_jobs = burst_jobs + $4 WHERE id = $1";
  private static final String GRANTS = "SELECT id, max_overage_pct, starts_at, ends_at, revoked_at, reason, "
      + "created_by, consumed_cpu_m_seconds, consumed_memory_mb_seconds, burst_jobs FROM burst_grant "
      + "WHERE tenant_id = $1 ORDER BY starts_at DESC LIMIT 50";

  private final Pool pool;

  TenantStore(Pool pool) { this.pool = pool; }

  Future<JsonObject> create(JsonObject tenant, JsonObject quota) {
    return pool.withTransaction(conn -> conn.preparedQuery(INSERT_TENANT)
        .execute(Tuple.of(tenant.getString("id"), tenant.getString("name"), tenant.getInteger("weight"),
            tenant.getString("status"), tenant.getJsonObject("labels")))
        .compose(r -> conn.preparedQuery(INSERT_QUOTA).execute(Tuple.of(tenant.getString("id"),
            quota.getLong("cpu_m"), quota.getLong("memory_mb"), quota.getLong("max_concurrent_jobs"),
            quota.getLong("max_queued_jobs"))))
        .compose(r -> fetch(conn, SELECT_TENANT, tenant.getString("id"))));
  }

  Future<JsonObject> get(String id) {
    return pool.withConnection(conn -> fetch(conn, SELECT_TENANT, id));
  }

  /** One page ordered by id; {@code onlyId} restricts the listing to one tenant (tenant-scoped callers). */
  Future<List<JsonObject>> list(String afterId, String onlyId, int limit) {
    return pool.preparedQuery(LIST_TENANTS).execute(Tuple.of(afterId, onlyId, limit)).map(rows -> {
      List<JsonObject> result = new ArrayList<>();
      rows.forEach(row -> result.add(toJson(row)));
      return result;
    });
  }

  /** Applies {@code change} to the locked current tenant; returns {before, after}. */
  Future<JsonObject[]> update(String id, Long ifMatch, java.util.function.UnaryOperator<JsonObject> change) {
    return pool.withTransaction(conn -> lock(conn, id, ifMatch, "version").compose(before -> {
      JsonObject after = change.apply(before.copy());
      return conn.preparedQuery(UPDATE_TENANT).execute(Tuple.of(id, after.getString("name"),
              after.getInteger("weight"), after.getString("status"), after.getJsonObject("labels")))
          .compose(r -> fetch(conn, SELECT_TENANT, id))
          .map(updated -> new JsonObject[] {before, updated});
    }));
  }

  Future<JsonObject[]> setQuota(String id, Long ifMatch, JsonObject quota) {
    return pool.withTransaction(conn -> lock(conn, id, ifMatch, "quota_version").compose(before ->
        conn.preparedQuery(UPDATE_QUOTA).execute(Tuple.of(id, quota.getLong("cpu_m"), quota.getLong("memory_mb"),
                quota.getLong("max_concurrent_jobs"), quota.getLong("max_queued_jobs")))
            .compose(r -> fetch(conn, SELECT_TENANT, id))
            .map(updated -> new JsonObject[] {before, updated})));
  }

  Future<JsonObject> delete(String id, Long ifMatch) {
    return pool.withTransaction(conn -> lock(conn, id, ifMatch, "version")
        .compose(before -> conn.preparedQuery(DELETE_TENANT).execute(Tuple.of(id)).compose(r -> r.rowCount() == 1
            ? Future.succeededFuture(before)
            : Future.failedFuture(DomainException.conflict("tenant '" + id + "' has jobs and cannot be deleted; "
                + "suspend it instead (status: suspended)")))));
  }

  private Future<JsonObject> lock(SqlConnection conn, String id, Long ifMatch, String versionField) {
    return fetch(conn, SELECT_TENANT_FOR_UPDATE, id).compose(current -> {
      long version = versionField.equals("version") ? current.getLong("version")
          : current.getJsonObject("quota").getLong("version");
      if (ifMatch != null && ifMatch != version) {
        return Future.failedFuture(DomainException.preconditionFailed(
            "tenant '" + id + "' is at version " + version + ", not " + ifMatch + "; fetch it again and retry"));
      }
      return Future.succeededFuture(current);
    });
  }

  private Future<JsonObject> fetch(SqlConnection conn, String sql, String id) {
    return conn.preparedQuery(sql).execute(Tuple.of(id)).compose(rows -> {
      RowSet<Row> set = rows;
      if (set.size() == 0) return Future.failedFuture(DomainException.notFound("tenant", id));
      return Future.succeededFuture(toJson(set.iterator().next()));
    });
  }

  /** Replaces any active grant with a new one (one grant is active at a time). */
  Future<JsonObject> grantBurst(String tenantId, String grantId, int pct, int minutes, String reason, String by) {
    return pool.withTransaction(conn -> fetch(conn, SELECT_TENANT_FOR_UPDATE, tenantId)
        .compose(t -> conn.preparedQuery(REVOKE_GRANTS).execute(Tuple.of(tenantId)))
        .compose(r -> conn.preparedQuery(INSERT_GRANT).execute(Tuple.of(grantId, tenantId, pct, minutes, reason, by)))
        .compose(r -> fetch(conn, SELECT_TENANT, tenantId)));
  }

  Future<JsonObject> revokeBurst(String tenantId) {
    return pool.withTransaction(conn -> fetch(conn, SELECT_TENANT_FOR_UPDATE, tenantId).compose(t -> {
      if (t.getValue("burst") == null) {
        return Future.failedFuture(DomainException.notFound("active burst grant of tenant", tenantId));
      }
      return conn.preparedQuery(REVOKE_GRANTS).execute(Tuple.of(tenantId)).compose(r -> fetch(conn, SELECT_TENANT, tenantId));
    }));
  }

  Future<Void> consumeBurst(String grantId, double cpuMSeconds, double memoryMbSeconds, int burstJobs) {
    return pool.preparedQuery(CONSUME).execute(Tuple.of(grantId, java.math.BigDecimal.valueOf(cpuMSeconds),
        java.math.BigDecimal.valueOf(memoryMbSeconds), burstJobs)).mapEmpty();
  }

  Future<JsonArray> grants(String tenantId) {
    return pool.preparedQuery(GRANTS).execute(Tuple.of(tenantId)).map(rows -> {
      JsonArray result = new JsonArray();
      rows.forEach(r -> result.add(new JsonObject().put("id", r.getString("id"))
          .put("max_overage_percentage", r.getInteger("max_overage_pct"))
          .put("starts_at", iso(r.getOffsetDateTime("starts_at"))).put("ends_at", iso(r.getOffsetDateTime("ends_at")))
          .put("revoked_at", iso(r.getOffsetDateTime("revoked_at"))).put("reason", r.getString("reason"))
          .put("created_by", r.getString("created_by"))
          .put("consumed_cpu_m_seconds", r.getBigDecimal("consumed_cpu_m_seconds"))
          .put("consumed_memory_mb_seconds", r.getBigDecimal("consumed_memory_mb_seconds"))
          .put("burst_jobs", r.getLong("burst_jobs"))));
      return result;
    });
  }

  static JsonObject toJson(Row row) {
    JsonObject quota = new JsonObject()
        .put("cpu_m", row.getLong("cpu_m"))
        .put("memory_mb", row.getLong("memory_mb"))
        .put("max_concurrent_jobs", row.getLong("max_concurrent_jobs"))
        .put("max_queued_jobs", row.getLong("max_queued_jobs"))
        .put("updated_at", iso(row.getOffsetDateTime("quota_updated_at")))
        .put("version", row.getLong("quota_version"));
    Object labels = row.getValue("labels");
    String burstId = row.getString("burst_id");
    JsonObject burst = burstId == null ? null : new JsonObject()
        .put("id", burstId)
        .put("max_overage_percentage", row.getInteger("max_overage_pct"))
        .put("starts_at", iso(row.getOffsetDateTime("burst_starts_at")))
        .put("ends_at", iso(row.getOffsetDateTime("burst_ends_at")))
        .put("consumed_cpu_m_seconds", row.getBigDecimal("consumed_cpu_m_seconds"))
        .put("consumed_memory_mb_seconds", row.getBigDecimal("consumed_memory_mb_seconds"))
        .put("burst_jobs", row.getLong("burst_jobs"));
    return new JsonObject()
        .put("id", row.getString("id"))
        .put("name", row.getString("name"))
        .put("weight", row.getInteger("weight"))
        .put("status", row.getString("status"))
        .put("labels", labels instanceof JsonObject j ? j : new JsonObject())
        .put("quota", quota)
        .put("burst", burst)
        .put("created_at", iso(row.getOffsetDateTime("created_at")))
        .put("updated_at", iso(row.getOffsetDateTime("updated_at")))
        .put("version", row.getLong("version"));
  }


  static JsonArray array(List<JsonObject> items) { return new JsonArray(new ArrayList<>(items)); }
}
