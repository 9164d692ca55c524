package io.hodei.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.hodei.store.ConnectionSource;
import io.hodei.support.Fixtures;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A job's events live in its row (V22): what the API returns is what was logged, the log of all events reads in
 * order past other tenants' events, and events stored by the former job_event table survive the upgrade.
 */
class JobEventStorageTest {
  private static TestServer server;
  private static Fixtures fx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of());
    fx = new Fixtures(server);
    fx.pool(Fixtures.simulatedPool("events-pool", 2, 0), 2);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void aJobsEventsCarryTheirWholeDetails() {
    String token = fx.tenant("events-a", null, 1, "submitter");
    String id = fx.submitted(token, Fixtures.spec("events-pool", "noop")
        .put("payload", new JsonObject().put("exit_code", 3).put("output", "")));
    JsonObject job = fx.awaitState(token, id, "failed");
    JsonArray items = server.get("/api/v1/jobs/" + id + "/events", token).json().getJsonArray("items");
    List<String> states = new ArrayList<>();
    items.forEach(e -> states.add(((JsonObject) e).getString("state")));
    assertThat(states).containsExactly("queued", "admitted", "running", "failed");
    JsonObject queued = items.getJsonObject(0);
    assertThat(queued.getJsonObject("detail")).isEqualTo(new JsonObject().put("reason", "submitted"));
    assertThat(items.getJsonObject(1).getJsonObject("detail")).isEqualTo(new JsonObject().put("attempt", 1));
    JsonObject running = items.getJsonObject(2).getJsonObject("detail");
    assertThat(running.getString("pool_id")).isEqualTo("events-pool");
    assertThat(running.getString("worker_id")).isEqualTo(job.getString("worker_id"));
    assertThat(running.getInteger("attempt")).isEqualTo(1);
    assertThat(running.fieldNames()).contains("pid", "process_started_at");
    JsonObject end = items.getJsonObject(3).getJsonObject("detail");
    assertThat(end.getInteger("exit_code")).isEqualTo(3);
    assertThat(end.getString("worker_id")).isEqualTo(job.getString("worker_id"));
    assertThat(end.getString("pool_id")).isEqualTo("events-pool");
    assertThat(end.containsKey("outcome")).isTrue();
    assertThat(end.containsKey("error_type")).isTrue();
    long previous = 0;
    for (Object e : items) {
      assertThat(((JsonObject) e).getLong("seq")).isGreaterThan(previous);
      previous = ((JsonObject) e).getLong("seq");
    }
    // no job_log row for an empty output, but the attempt is listed
    JsonArray attempts = server.get("/api/v1/jobs/" + id + "/logs", token).json().getJsonArray("attempts");
    assertThat(attempts).hasSize(1);
    assertThat(attempts.getJsonObject(0).getInteger("attempt")).isEqualTo(1);
    assertThat(attempts.getJsonObject(0).getString("log")).isEmpty();
  }

  @Test
  void theLogReadsPastOtherTenantsEventsInOrder() {
    String mine = fx.tenant("events-mine", null, 1, "submitter");
    String other = fx.tenant("events-other", null, 1, "submitter");
    long start = maxSequence();
    List<String> others = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      others.add(fx.submitted(other, Fixtures.spec("events-pool", "noop").put("payload",
          new JsonObject().put("output", ""))));
    }
    String id = fx.submitted(mine, Fixtures.spec("events-pool", "noop"));
    fx.awaitState(mine, id, "succeeded");
    for (String o : others) fx.awaitState(other, o, "succeeded");
    JobStore store = new JobStore(server.server().vertx(), server.server().database().pool(),
        ConnectionSource.of(server.server().database().pool()));
    // pages of two log rows: the first pages hold only the other tenant's events
    List<JsonObject> seen = new ArrayList<>();
    long after = start;
    int reads = 0;
    while (true) {
      JsonObject page = store.eventsSince(after, "events-mine", null, 2).await();
      reads++;
      page.getJsonArray("items").forEach(e -> seen.add((JsonObject) e));
      assertThat(page.getLong("last_sequence")).isGreaterThanOrEqualTo(after);
      after = page.getLong("last_sequence");
      if (!page.getBoolean("more")) break;
      assertThat(reads).isLessThan(100);
    }
    assertThat(reads).isGreaterThan(1);
    assertThat(seen).extracting(e -> e.getString("job_id")).containsOnly(id);
    assertThat(seen).extracting(e -> e.getString("state"))
        .containsExactly("queued", "admitted", "running", "succeeded");
    // the unfiltered log holds every event of both tenants after the start, each once, in order
    JsonObject all = store.eventsSince(start, null, null, 1000).await();
    List<Long> sequences = new ArrayList<>();
    all.getJsonArray("items").forEach(e -> sequences.add(((JsonObject) e).getLong("sequence")));
    assertThat(sequences).hasSize(7 * 4).isSorted().doesNotHaveDuplicates();
    // one job: read from its row
    JsonObject one = store.eventsSince(start, null, id, 1000).await();
    assertThat(one.getJsonArray("items")).hasSize(4);
  }

  @Test
  void theWritersPlansLookJobsUpByKey() {
    // a generic plan (the writer's) must not answer the writes' guards through the BRIN index on finished_at: it
    // would read every block range holding an open job for each statement
    io.vertx.sqlclient.SqlConnection conn = server.server().database().pool().getConnection().await();
    try {
      conn.query("SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off").execute().await();
      for (String sql : List.of(JobStore.MARK_RUNNING, JobStore.MARK_FINISHED, JobStore.MARK_REQUEUED)) {
        StringBuilder plan = new StringBuilder();
        conn.query("EXPLAIN (GENERIC_PLAN) " + sql).execute().await()
            .forEach(r -> plan.append(r.getString(0)).append('\n'));
        assertThat(plan.toString()).contains("job_pkey").doesNotContain("brin").doesNotContain("Seq Scan on job ");
      }
    } finally {
      conn.close().await();
    }
  }

  private static long maxSequence() {
    return server.server().database().pool().query("SELECT coalesce(max(last_seq), 0) FROM job_event_log")
        .execute().await().iterator().next().getLong(0);
  }

  @Test
  void eventsOfTheFormerEventTableSurviveTheUpgrade() throws Exception {
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setRegisterShutdownHook(false).start();
         Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      Flyway.configure().dataSource(url, "postgres", "postgres").locations("classpath:db/migration").target("21")
          .load().migrate();
      s.execute("INSERT INTO tenant (id, name) VALUES ('t', 'T')");
      s.execute("INSERT INTO job (id, tenant_id, state, priority, cpu_m, memory_mb, command, timeout_s, max_attempts, "
          + "attempts, max_queue_seconds, submitted_at, started_at, finished_at, worker_id, placed_pool_id) VALUES "
          + "('done', 't', 'succeeded', 50, 100, 64, '[\"true\"]', 60, 2, 2, 60, '2026-01-01T00:00:00Z', "
          + "'2026-01-01T00:00:05Z', '2026-01-01T00:00:06Z', 'w1', 'p'), "
          + "('open', 't', 'running', 50, 100, 64, '[\"true\"]', 60, 1, 1, 60, '2026-01-01T00:00:00Z', "
          + "'2026-01-01T00:00:01Z', NULL, 'w2', 'p')");
      s.execute("INSERT INTO job_event (job_id, tenant_id, state, detail, at) VALUES "
          + "('done', 't', 'queued', '{\"reason\":\"submitted\"}', '2026-01-01T00:00:00Z'), "
          + "('open', 't', 'queued', '{\"reason\":\"submitted\"}', '2026-01-01T00:00:00Z'), "
          + "('done', 't', 'running', '{\"attempt\":1,\"worker_id\":\"w0\"}', '2026-01-01T00:00:01Z'), "
          + "('open', 't', 'running', '{\"attempt\":1,\"worker_id\":\"w2\"}', '2026-01-01T00:00:01Z'), "
          + "('done', 't', 'queued', '{\"reason\":\"retry\"}', '2026-01-01T00:00:02Z'), "
          + "('done', 't', 'running', '{\"attempt\":2,\"worker_id\":\"w1\"}', '2026-01-01T00:00:05Z'), "
          + "('done', 't', 'succeeded', '{\"exit_code\":0}', '2026-01-01T00:00:06Z')");
      List<String> before = events(s);
      Flyway.configure().dataSource(url, "postgres", "postgres").locations("classpath:db/migration").load().migrate();
      assertThat(events(s)).isEqualTo(before).hasSize(7);
      try (ResultSet r = s.executeQuery("SELECT event_id, id FROM cost_job_end WHERE event_id > 0 AND log_seq > 0")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getLong(1)).isEqualTo(7);
        assertThat(r.getString(2)).isEqualTo("done");
        assertThat(r.next()).isFalse();
      }
      try (ResultSet r = s.executeQuery("SELECT nextval('job_event_id_seq')")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getLong(1)).isGreaterThan(7);
      }
      try (ResultSet r = s.executeQuery("SELECT last_seq FROM job WHERE id = 'open'")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getLong(1)).isEqualTo(4);
      }
    }
  }

  /**
   * The statistics refresh that follows bursts of submissions names only the columns reads are planned by: every one
   * of them exists and gets statistics, the wide ones are left to autovacuum. It samples at its own statistics
   * target: a unique column's histogram has that many buckets (at the default target it would list every job here).
   */
  @Test
  void theStatisticsRefreshCoversThePlannedColumnsOnly() {
    String token = fx.tenant("events-stats", null, 1, "submitter");
    for (int i = 0; i < 2 * JobStore.STATISTICS_TARGET; i++) fx.submitted(token, Fixtures.spec("events-pool", "noop"));
    fx.awaitState(token, fx.submitted(token, Fixtures.spec("events-pool", "noop")), "succeeded");
    io.vertx.sqlclient.Pool db = server.server().database().pool();
    JobStore.refreshStatistics(db).await();
    int buckets = db.query("SELECT cardinality(histogram_bounds::text::text[]) FROM pg_stats WHERE schemaname = "
        + "current_schema() AND tablename = 'job' AND attname = 'id'").execute().await().iterator().next().getInteger(0);
    assertThat(buckets).isEqualTo(JobStore.STATISTICS_TARGET + 1);
    List<String> analyzed = new ArrayList<>();
    db.query("SELECT attname FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'job'").execute()
        .await().forEach(r -> analyzed.add(r.getString(0)));
    assertThat(analyzed).containsAll(JobStore.PLANNED_COLUMNS);
    long autoAnalyzed = db.query("SELECT autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'job'").execute()
        .await().iterator().next().getLong(0);
    // a handful of jobs is below autovacuum's threshold (50 rows): no statistics of the other columns yet
    if (autoAnalyzed == 0) assertThat(analyzed).doesNotContain("command", "payload", "env", "history");
  }

  private static List<String> events(Statement s) throws Exception {
    List<String> rows = new ArrayList<>();
    try (ResultSet r = s.executeQuery("SELECT id, job_id, tenant_id, state, detail::text, at FROM job_event "
        + "ORDER BY id")) {
      while (r.next()) {
        rows.add(r.getLong(1) + " " + r.getString(2) + " " + r.getString(3) + " " + r.getString(4) + " "
            + r.getString(5) + " " + r.getObject(6, java.time.OffsetDateTime.class).toInstant());
      }
    }
    return rows;
  }
}
