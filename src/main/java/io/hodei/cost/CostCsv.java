package io.hodei.cost;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** A report's rows as RFC 4180 CSV: a header of the report's columns, then one line per row (CRLF line ends). */
public final class CostCsv {
  public static final String CONTENT_TYPE = "text/csv; charset=utf-8";

  private CostCsv() {}

  /** {@code report} is a report JSON as the cost domain returns it ({@code columns}, {@code rows}). */
  public static String render(JsonObject report) {
    JsonArray columns = report.getJsonArray("columns", new JsonArray());
    StringBuilder out = new StringBuilder();
    line(out, columns, null);
    for (Object row : report.getJsonArray("rows", new JsonArray())) line(out, columns, (JsonObject) row);
    return out.toString();
  }

  private static void line(StringBuilder out, JsonArray columns, JsonObject row) {
    for (int i = 0; i < columns.size(); i++) {
      if (i > 0) out.append(',');
      String column = columns.getString(i);
      Object value = row == null ? column : row.getValue(column);
      out.append(field(value == null ? "" : value.toString()));
    }
    out.append("\r\n");
  }

  private static String field(String value) {
    if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0) {
      return value;
    }
    return '"' + value.replace("\"", "\"\"") + '"';
  }
}
