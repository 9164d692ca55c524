package io.hodei.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.hodei.store.GroupCommit.Statement;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a transaction's statements are arranged into executions (no database: what goes out, in which order). */
class PipelineTest {
  private static final String INSERT = "INSERT INTO t VALUES ($1)";
  private static final String UPDATE = "UPDATE t SET v = $1";
  private static final String ROWS = "INSERT INTO t SELECT * FROM unnest($1::text[], $2::int[])";
  private static final Class<?>[] COLUMNS = {String.class, Integer.class};

  private static Statement of(String key, String sql) {
    return Statement.of(key, sql, Tuple.of(key));
  }

  private static Statement row(String key, int value) {
    return Statement.row(key, ROWS, COLUMNS, new Object[] {key, value}, null);
  }

  @Test
  void anEntitysStatementsGoInLayersInQueueOrderAndOtherEntitiesShareALayerBySql() {
    Statement a1 = of("a", INSERT);
    Statement b1 = of("b", INSERT);
    Statement a2 = of("a", INSERT);
    Statement c1 = of("c", UPDATE);
    Statement b2 = of("b", UPDATE);
    Statement a3 = of("a", UPDATE);
    List<Pipeline.Execution> executions = Pipeline.executions(List.of(a1, b1, a2, c1, b2, a3));
    // layer 0: a1 b1 c1; layer 1: a2 b2; layer 2: a3; within a layer one execution per SQL, first seen first
    assertThat(executions).containsExactly(
        new Pipeline.Execution(INSERT, List.of(a1, b1)),
        new Pipeline.Execution(UPDATE, List.of(c1)),
        new Pipeline.Execution(INSERT, List.of(a2)),
        new Pipeline.Execution(UPDATE, List.of(b2)),
        new Pipeline.Execution(UPDATE, List.of(a3)));
  }

  @Test
  void rowStatementsOfALayerWithTheSameSqlCombineIntoColumnArrays() {
    List<Pipeline.Execution> executions = Pipeline.executions(List.of(row("x", 1), row("y", 2), row("x", 3),
        of("z", INSERT)));
    assertThat(executions).extracting(Pipeline.Execution::sql).containsExactly(ROWS, INSERT, ROWS);
    Pipeline.Execution first = executions.get(0);
    assertThat(first.rows()).isTrue();
    Tuple arrays = first.columnArrays();
    assertThat(arrays.size()).isEqualTo(2);
    assertThat((String[]) arrays.getValue(0)).containsExactly("x", "y");
    assertThat((Integer[]) arrays.getValue(1)).containsExactly(1, 2);
    assertThat((String[]) executions.get(2).columnArrays().getValue(0)).containsExactly("x");
    assertThat(executions.get(1).rows()).isFalse();
  }
}
