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
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** Tenants and quotas in PostgreSQL. Every multi-statement change runs in one transaction. */
final class TenantStore {
  private static final String TENANT_COLUMNS = "t.id, t.name, t.weight, t.status, t.labels, t.created_at, "
      + "t.updated_at, t.version, q.cpu_m, q.memory_mb, q.max_concurrent_jobs, q.max_queued_jobs, "
      + "q.updated_at AS quota_updated_at, q.version AS quota_version";
  private static final String SELECT_TENANT = "SELECT " + TENANT_COLUMNS
      + " FROM tenant t JOIN quota q ON q.tenant_id = t.id WHERE t.id = $1";
  private static final String SELECT_TENANT_FOR_UPDATE = SELECT_TENANT + " FOR UPDATE OF t, q";
  private static final String LIST_TENANTS = "SELECT " + TENANT_COLUMNS
      + " FROM tenant t JOIN quota q ON q.tenant_id = t.id WHERE ($1::text IS NULL OR t.id > $1)"
      + " AND ($2::text IS NULL OR t.id = $2) ORDER BY t.id LIMIT $3";
  private static final String INSERT_TENANT =
      "INSERT INTO tenant (id, name, weight, status, labels) VALUES ($1, $2, $3, $4, $5)";
  private static final String INSERT_QUOTA = "INSERT INTO quota (tenant_id, cpu_m, memory_mb, max_concurrent_jobs, "
      + "max_queued_jobs) VALUES ($1, $2, $3, $4, $5)";
  private static final String UPDATE_TENANT = "UPDATE tenant SET name = $2, weight = $3, status = $4, labels = $5, "
      + "updated_at = now(), version = version + 1 WHERE id = $1";
  private static final String UPDATE_QUOTA = "UPDATE quota SET cpu_m = $2, memory_mb = $3, max_concurrent_jobs = $4, "
      + "max_queued_jobs = $5, updated_at = now(), version = version + 1 WHERE tenant_id = $1";
  private static final String DELETE_TENANT = "DELETE FROM tenant WHERE id = $1";

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
        .compose(before -> conn.preparedQuery(DELETE_TENANT).execute(Tuple.of(id)).map(r -> before)));
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

  static JsonObject toJson(Row row) {
    JsonObject quota = new JsonObject()
        .put("cpu_m", row.getLong("cpu_m"))
        .put("memory_mb", row.getLong("memory_mb"))
        .put("max_concurrent_jobs", row.getLong("max_concurrent_jobs"))
        .put("max_queued_jobs", row.getLong("max_queued_jobs"))
        .put("updated_at", iso(row.getOffsetDateTime("quota_updated_at")))
        .put("version", row.getLong("quota_version"));
    Object labels = row.getValue("labels");
    return new JsonObject()
        .put("id", row.getString("id"))
        .put("name", row.getString("name"))
        .put("weight", row.getInteger("weight"))
        .put("status", row.getString("status"))
        .put("labels", labels instanceof JsonObject j ? j : new JsonObject())
        .put("quota", quota)
        .put("created_at", iso(row.getOffsetDateTime("created_at")))
        .put("updated_at", iso(row.getOffsetDateTime("updated_at")))
        .put("version", row.getLong("version"));
  }

  static String iso(OffsetDateTime time) { return time == null ? null : time.toInstant().toString(); }

  static JsonArray array(List<JsonObject> items) { return new JsonArray(new ArrayList<>(items)); }
}
