package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "cost", description = {"Cost report over a period, grouped by tenant, pool, day or job.",
    "--from/--to take an instant (2026-12-01T00:00:00Z), a date (2026-12-01) or an age (7d = seven days ago).",
    "Example: hodei cost --from 7d --by pool"})
final class CostCommand extends ApiCommand {
  @Option(names = "--from", paramLabel = "WHEN", defaultValue = "7d", description = "Start (default ${DEFAULT-VALUE}).")
  String from;

  @Option(names = "--to", paramLabel = "WHEN", description = "End (default now).")
  String to;

  @Option(names = "--by", paramLabel = "GROUP", defaultValue = "tenant", description = "tenant (default), pool, day or job.")
  String by;

  @Option(names = "--tenant", paramLabel = "TENANT", description = "Only this tenant.")
  String tenant;

  @Option(names = "--pool", paramLabel = "POOL", description = "Only this pool.")
  String pool;

  @Override
  protected int run() {
    Instant now = now();
    Instant end = to == null ? now : when(to, now, "--to");
    // the server counts whole hours: round the end up so "now" includes the running hour
    if (to == null) end = end.plus(Duration.ofHours(1)).truncatedTo(java.time.temporal.ChronoUnit.HOURS);
    JsonObject report = client().get("/api/v1/cost-reports", RestClient.params("from", when(from, now, "--from").toString(),
        "to", end.toString(), "group_by", by, "tenant_id", tenant, "pool_id", pool));
    if (printedAsData(report)) return ExitCodes.OK;
    List<String> columns = new ArrayList<>();
    for (Object c : report.getJsonArray("columns", new JsonArray())) columns.add(String.valueOf(c));
    List<String> headers = new ArrayList<>();
    for (String c : columns) headers.add(c.toUpperCase(java.util.Locale.ROOT));
    Output.Table t = new Output.Table(headers);
    for (Object o : report.getJsonArray("rows", new JsonArray())) {
      JsonObject row = (JsonObject) o;
      t.row(columns.stream().map(row::getValue).toArray());
    }
    JsonObject totals = report.getJsonObject("totals");
    if (totals != null) t.row(columns.stream().map(c -> totals.containsKey(c) ? totals.getValue(c) : (c.equals(columns.get(0)) ? "TOTAL" : "")).toArray());
    out().println("Cost from " + report.getString("from") + " to " + report.getString("to") + " by " + report.getString("group_by", by));
    t.print(out());
    return ExitCodes.OK;
  }

  static Instant when(String text, Instant now, String option) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException notInstant) {
      try {
        return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeParseException notDate) {
        try {
          return now.minusSeconds(Quantities.seconds(text));
        } catch (CliException notAge) {
          throw CliException.usage(option + " '" + text + "': give an instant (2026-12-01T00:00:00Z), a date (2026-12-01) or an age (7d)");
        }
      }
    }
  }
}
