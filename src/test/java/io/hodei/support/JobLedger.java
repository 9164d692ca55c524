package io.hodei.support;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What must hold of the jobs in the database after a fault, read straight from PostgreSQL: every accepted job
 * exists and ends, and none ran after it ended or twice at once.
 */
public final class JobLedger {
  public static final String TERMINAL = "('succeeded', 'failed', 'cancelled', 'timed_out', 'abandoned')";

  private final FaultyDatabase db;

  public JobLedger(FaultyDatabase db) { this.db = db; }

  /** Every accepted job is in the database and reaches a final state within {@code timeout}. */
  public void allEnd(Collection<String> accepted, Duration timeout) throws SQLException {
    String ids = idArray(accepted);
    assertThat(db.count("SELECT count(*) FROM job WHERE id = ANY(" + ids + ")")).as("accepted jobs stored")
        .isEqualTo(accepted.size());
    Poll.until(() -> count("SELECT count(*) FROM job WHERE id = ANY(" + ids + ") AND state NOT IN " + TERMINAL),
        open -> open == 0, timeout, "every accepted job in a final state");
  }

  /**
   * No job has an event after its first final event, none has two final events, and each attempt started once:
   * as many running events as attempts.
   */
  public void nothingRanTwice() throws SQLException {
    List<String> afterEnd = db.column("SELECT DISTINCT e.job_id FROM job_event e JOIN job_event t "
        + "ON t.job_id = e.job_id AND t.state IN " + TERMINAL + " AND t.id < e.id LIMIT 10");
    assertThat(afterEnd).as("jobs with events after their end").isEmpty();
    List<String> twoEnds = db.column("SELECT job_id FROM job_event WHERE state IN " + TERMINAL
        + " GROUP BY job_id HAVING count(*) > 1 LIMIT 10");
    assertThat(twoEnds).as("jobs that ended twice").isEmpty();
    List<String> extraStarts = db.column("SELECT j.id FROM job j JOIN (SELECT job_id, count(*) AS n FROM job_event "
        + "WHERE state = 'running' GROUP BY job_id) r ON r.job_id = j.id WHERE r.n <> j.attempts LIMIT 10");
    assertThat(extraStarts).as("jobs whose running events differ from their attempts").isEmpty();
  }

  /** The job counters a scrape shows agree with the rows: completions with succeeded jobs. */
  public void countersAgree(String metricsText) throws SQLException {
    List<Prometheus.Sample> samples = Prometheus.parse(metricsText);
    double completed = samples.stream().filter(s -> s.name().equals("hodei_jobs_completed_total"))
        .mapToDouble(Prometheus.Sample::value).sum();
    assertThat(completed).as("hodei_jobs_completed_total against succeeded rows")
        .isEqualTo((double) db.count("SELECT count(*) FROM job WHERE state = 'succeeded'"));
  }

  private long count(String sql) {
    try {
      return db.count(sql);
    } catch (SQLException e) {
      return -1;
    }
  }

  private static String idArray(Collection<String> ids) {
    StringBuilder sb = new StringBuilder("ARRAY[");
    boolean first = true;
    for (String id : ids) {
      if (!first) sb.append(',');
      sb.append('\'').append(id.replace("'", "")).append('\'');
      first = false;
    }
    return sb.append("]::text[]").toString();
  }
}
