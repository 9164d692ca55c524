package io.hodei.cli;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "events", description = {"A job's lifecycle log: queued, admitted, running, ended, with details.", "Example: hodei events j-01a249af77beab8d7a64baed"})
final class EventsCommand extends ApiCommand {
  @Parameters(paramLabel = "ID")
  String id;

  @Override
  protected int run() {
    JsonObject events = client().get("/api/v1/jobs/" + encodePath(id) + "/events");
    if (printedAsData(events)) return ExitCodes.OK;
    Instant now = now();
    Output.Table t = new Output.Table("SEQ", "WHEN", "STATE", "DETAIL");
    for (Object o : items(events)) {
      JsonObject e = (JsonObject) o;
      t.row(e.getValue("seq"), wide() ? e.getString("at") : Output.ago(e.getString("at"), now), e.getString("state"),
          detail(e.getJsonObject("detail")));
    }
    t.print(out());
    return ExitCodes.OK;
  }

  private static String detail(JsonObject detail) {
    if (detail == null || detail.isEmpty()) return "-";
    StringBuilder sb = new StringBuilder();
    for (String k : detail.fieldNames()) {
      Object v = detail.getValue(k);
      if (v == null) continue;
      if (sb.length() > 0) sb.append(' ');
      sb.append(k).append('=').append(v instanceof JsonObject || v instanceof io.vertx.core.json.JsonArray ? Output.str(v) : v);
    }
    return sb.length() == 0 ? "-" : sb.toString();
  }
}
