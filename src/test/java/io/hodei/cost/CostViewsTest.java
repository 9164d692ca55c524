package io.hodei.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hodei.store.Database;
import io.hodei.store.DatabaseConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ledger reads the job and worker tables through views, so a schema change to a column it reads shows its
 * dependents instead of breaking a cost query at run time.
 */
class CostViewsTest {
  private static Vertx vertx;
  private static Database db;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    db = Database.start(vertx, new DatabaseConfig(null, null, true, 2, 0, true)).await();
  }

  @AfterAll
  static void stop() {
    db.close(vertx).await();
    vertx.close().await();
  }

  @Test
  void theViewsTheLedgerReadsDependOnTheJobAndWorkerTables() {
    List<String> dependents = new ArrayList<>();
    for (Row row : db.pool().query("SELECT DISTINCT v.relname AS view, t.relname AS tbl FROM pg_depend d "
        + "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class "
        + "JOIN pg_class t ON t.oid = d.refobjid WHERE t.relname IN ('job', 'worker', 'job_event_log') "
        + "AND v.relname LIKE 'cost_%' ORDER BY 1, 2").execute().await()) {
      dependents.add(row.getString("view") + "->" + row.getString("tbl"));
    }
    assertThat(dependents).contains("cost_job->job", "cost_worker->worker", "cost_job_end->job_event_log");
  }

  /**
   * The read of ended jobs looks each job up by key (its own lookup, kept apart) and joins the workers to the read's
   * rows as a whole: inside the per-job lookup, the planner could scan every worker for every job.
   */
  @Test
  void theReadOfEndedJobsJoinsTheWorkersOutsideThePerJobLookup() {
    JsonArray plan = new JsonArray(db.pool().query("EXPLAIN (FORMAT JSON) SELECT * FROM cost_job_end WHERE "
        + "event_id > 10 AND log_seq > 10 AND log_seq <= 1000 ORDER BY event_id LIMIT 500").execute().await()
        .iterator().next().getValue(0).toString());
    List<String> path = pathTo(plan.getJsonObject(0).getJsonObject("Plan"), "worker", new ArrayList<>());
    assertThat(path).as("plan nodes above the worker scan").isNotNull().isNotEmpty()
        .doesNotContain("Subquery Scan x");
    assertThat(pathTo(plan.getJsonObject(0).getJsonObject("Plan"), "job", new ArrayList<>()))
        .as("plan nodes above the job lookup").contains("Subquery Scan x");
  }

  /** The node types (with aliases) from {@code node} down to the scan of {@code relation}; null: none. */
  private static List<String> pathTo(JsonObject node, String relation, List<String> above) {
    if (relation.equals(node.getString("Relation Name"))) return above;
    List<String> here = new ArrayList<>(above);
    here.add(node.getString("Node Type") + (node.containsKey("Alias") ? " " + node.getString("Alias") : ""));
    JsonArray children = node.getJsonArray("Plans", new JsonArray());
    for (int i = 0; i < children.size(); i++) {
      List<String> found = pathTo(children.getJsonObject(i), relation, here);
      if (found != null) return found;
    }
    return null;
  }

  @Test
  void droppingAColumnTheLedgerReadsIsRefusedAndNamesTheView() {
    assertThatThrownBy(() -> db.pool().query("ALTER TABLE worker DROP COLUMN terminated_at").execute().await())
        .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.getDetail()).contains("view cost_worker"));
    assertThatThrownBy(() -> db.pool().query("ALTER TABLE job ALTER COLUMN burst_seconds TYPE text").execute()
        .await())
        .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.getDetail()).contains("view cost_job"));
  }
}
