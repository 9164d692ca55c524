package io.hodei.store;

import io.vertx.sqlclient.Tuple;
import java.lang.reflect.Array;
import java.util.List;

/**
 * Parameters of a multi-row statement over column arrays ({@code unnest($1::text[], $2::int[], ...)}): parameter
 * n+1 is the array of every row's value n, of element type {@code columns[n]}.
 */
public final class ColumnArrays {
  private ColumnArrays() {}

  public static Tuple of(Class<?>[] columns, List<Object[]> rows) {
    Tuple arrays = Tuple.tuple();
    for (int c = 0; c < columns.length; c++) {
      Object column = Array.newInstance(columns[c], rows.size());
      for (int r = 0; r < rows.size(); r++) Array.set(column, r, rows.get(r)[c]);
      arrays.addValue(column);
    }
    return arrays;
  }
}
