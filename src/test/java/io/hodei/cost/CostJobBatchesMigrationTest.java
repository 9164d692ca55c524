package io.hodei.cost;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Job rows written in the old layout (one cost_record row per attempt and bucket) move into batch rows when
 * {@code V23__cost_job_batches.sql} runs, and the ledger view shows them exactly as they were; a job end logged before
 * {@code V24__cost_reads_end_rows.sql} is still read by the ledger.
 */
class CostJobBatchesMigrationTest {
  @TempDir
  Path dir;

  private static final String LEDGER_ROWS = "SELECT kind, job_id, bucket_start, pool_id, tenant_id, "
      + "attempt_started_at, burst_grant_id, segment_start, segment_end, share, cpu_m, memory_mb, amount, "
      + "burst_fraction, CASE WHEN kind = 'worker' THEN source_id END AS worker FROM %s ORDER BY kind, job_id, "
      + "bucket_start, worker";

  @Test
  void oldJobRowsMoveIntoBatchRowsAndReadTheSame() throws Exception {
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(true)
        .setRegisterShutdownHook(false).start()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      Flyway.configure().dataSource(url, "postgres", "postgres").locations("classpath:db/migration").target("22")
          .load().migrate();
      List<List<String>> before;
      try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
        s.execute("INSERT INTO cost_job_cursor (id, last_event_id) VALUES (1, 42)");
        // a worker row, a job across two buckets, a burst job and another tenant's job in the same bucket
        s.execute("INSERT INTO cost_record (kind, source_id, bucket_start, pool_id, worker_id, job_id, "
            + "attempt_started_at, tenant_id, burst_grant_id, segment_start, segment_end, share, cpu_m, memory_mb, "
            + "amount, burst_fraction) VALUES "
            + "('worker', 'w1', '2026-11-01T10:00Z', 'p', 'w1', NULL, NULL, NULL, NULL, '2026-11-01T10:00Z', "
            + "'2026-11-01T11:00Z', 1, 4000, 8192, 3.6, 0), "
            + "('job', 'j1@2026-11-01T10:30:00.000001Z', '2026-11-01T10:00Z', 'p', 'w1', 'j1', "
            + "'2026-11-01T10:30:00.000001Z', 'a', NULL, '2026-11-01T10:30:00.000001Z', '2026-11-01T11:00Z', 0.5, "
            + "2000, 1024, 0.8999999990, 0), "
            + "('job', 'j1@2026-11-01T10:30:00.000001Z', '2026-11-01T11:00Z', 'p', 'w1', 'j1', "
            + "'2026-11-01T10:30:00.000001Z', 'a', NULL, '2026-11-01T11:00Z', '2026-11-01T11:10Z', 0.5, 2000, 1024, "
            + "0.3, 0), "
            + "('job', 'j2@2026-11-01T10:05:00Z', '2026-11-01T10:00Z', 'p', 'w1', 'j2', '2026-11-01T10:05:00Z', "
            + "'a', 'bg-1', '2026-11-01T10:05:00Z', '2026-11-01T10:06:00Z', 0.25, 1000, 512, 0.015, 0.5), "
            + "('job', 'j3@2026-11-01T10:07:00Z', '2026-11-01T10:00Z', 'p', 'w1', 'j3', '2026-11-01T10:07:00Z', "
            + "'b', NULL, '2026-11-01T10:07:00Z', '2026-11-01T10:07:00Z', 1, 4000, 8192, 0, 0)");
        before = rows(s, String.format(LEDGER_ROWS, "cost_record"));
        // a job end logged before the log said which rows end jobs (V24): the ledger still reads it
        s.execute("INSERT INTO job (id, tenant_id, state, priority, cpu_m, memory_mb, pool_id, command, timeout_s, "
            + "max_attempts, attempts, max_queue_seconds, submitted_at, started_at, finished_at, placed_pool_id, "
            + "worker_id, run_ms, end_seq, last_seq) VALUES ('j9', 'a', 'succeeded', 50, 1000, 512, 'p', "
            + "'[\"true\"]', 60, 1, 1, 60, '2026-11-01T10:00Z', '2026-11-01T10:01Z', '2026-11-01T10:02Z', 'p', "
            + "'w1', 60000, 50, 50)");
        s.execute("INSERT INTO job_event_log (last_seq, first_seq, job_ids) VALUES (50, 50, ARRAY['j9'])");
      }

      Flyway.configure().dataSource(url, "postgres", "postgres").locations("classpath:db/migration").load()
          .migrate();

      try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
        assertThat(rows(s, String.format(LEDGER_ROWS, "cost_ledger"))).isEqualTo(before);
        assertThat(rows(s, "SELECT kind, count(*) FROM cost_record GROUP BY kind"))
            .containsExactly(List.of("worker", "1"));
        // one batch row per bucket and tenant, as of the job cursor, with the exact sums of its attempts
        assertThat(rows(s, "SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'HH24:MI'), tenant_id, last_event_id, "
            + "jobs, trim_scale(amount), trim_scale(burst_amount) FROM cost_job_batch ORDER BY 1, 2")).containsExactly(
            List.of("10:00", "a", "42", "2", "0.914999999", "0.0075"),
            List.of("10:00", "b", "42", "1", "0", "0"),
            List.of("11:00", "a", "42", "1", "0.3", "0"));
        assertThat(rows(s, "SELECT id, event_id, log_seq FROM cost_job_end WHERE event_id > 42"))
            .containsExactly(List.of("j9", "50", "50"));
      }
    }
  }

  private static List<List<String>> rows(Statement s, String sql) throws SQLException {
    List<List<String>> out = new ArrayList<>();
    try (ResultSet rs = s.executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= columns; i++) row.add(rs.getString(i));
        out.add(row);
      }
    }
    return out;
  }
}
