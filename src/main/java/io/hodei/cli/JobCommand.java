package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "job", description = {"Show one job; a waiting job says why, its position and when it should start.",
    "Example: hodei job j-01a249af77beab8d7a64baed"})
final class JobCommand extends ApiCommand {
  @Parameters(paramLabel = "ID")
  String id;

  @Override
  protected int run() {
    JsonObject job = client().get("/api/v1/jobs/" + encodePath(id));
    if (printedAsData(job)) return ExitCodes.OK;
    Instant now = now();
    PrintWriter out = out();
    Output.Table t = new Output.Table("FIELD", "VALUE");
    t.row("ID:", job.getString("id"));
    if (job.getString("name") != null) t.row("Name:", job.getString("name"));
    t.row("Tenant:", job.getString("tenant_id"));
    t.row("State:", job.getString("state") + (job.getBoolean("cancel_requested", false) ? " (cancel requested)" : ""));
    t.row("Command:", Output.str(job.getJsonArray("command")));
    String pool = job.getString("pool_id");
    if (pool == null && job.getJsonObject("pool_labels") != null) pool = "labels " + job.getJsonObject("pool_labels").encode();
    t.row("Pool:", pool + (job.getString("placed_pool_id") != null && !job.getString("placed_pool_id").equals(pool)
        ? " (placed on " + job.getString("placed_pool_id") + ")" : ""));
    t.row("Resources:", Output.cpu(job.getInteger("cpu_m")) + " CPU, " + Output.mem(job.getInteger("memory_mb")) + " memory");
    t.row("Priority:", job.getInteger("priority"));
    t.row("Attempts:", job.getInteger("attempts") + " of " + job.getInteger("max_attempts"));
    t.row("Timeout:", Output.seconds(job.getLong("timeout_s")));
    if (job.getString("sla_deadline") != null) t.row("SLA deadline:", when(job.getString("sla_deadline"), now));
    t.row("Submitted:", when(job.getString("submitted_at"), now));
    if (job.getString("started_at") != null) t.row("Started:", when(job.getString("started_at"), now));
    if (job.getString("finished_at") != null) t.row("Finished:", when(job.getString("finished_at"), now));
    if (job.getString("started_at") != null) t.row("Run time:", JobsCommand.runTime(job, now));
    if (job.getString("worker_id") != null) t.row("Worker:", job.getString("worker_id"));
    if (job.getValue("exit_code") != null) t.row("Exit code:", job.getValue("exit_code"));
    if (job.getString("error_type") != null) t.row("Error:", job.getString("error_type"));
    if (job.getString("next_attempt_at") != null) t.row("Next attempt:", when(job.getString("next_attempt_at"), now));
    JsonObject env = job.getJsonObject("env");
    if (env != null && !env.isEmpty()) t.row("Env:", String.join(" ", env.fieldNames()));
    JsonObject labels = job.getJsonObject("labels");
    if (labels != null && !labels.isEmpty()) t.row("Labels:", labels.encode());
    t.lines().stream().skip(1).forEach(out::println);
    JsonObject waiting = job.getJsonObject("waiting");
    if (waiting != null) printWaiting(out, waiting, now);
    return ExitCodes.OK;
  }

  private static String when(String iso, Instant now) {
    return iso + " (" + Output.ago(iso, now) + ")";
  }

  /** The why-pending view: reasons, position, expected start, in words. */
  static void printWaiting(PrintWriter out, JsonObject waiting, Instant now) {
    out.println();
    Integer position = waiting.getInteger("position");
    Integer inTenant = waiting.getInteger("position_in_tenant_queue");
    out.println("Waiting" + (position == null ? "" : ": number " + position + " in the queue")
        + (inTenant == null ? "" : " (" + ordinal(inTenant) + " of its tenant)") + ".");
    JsonArray reasons = waiting.getJsonArray("reasons", new JsonArray());
    if (reasons.isEmpty()) out.println("  Why: nothing holds it back; it should be placed on the next scheduling pass.");
    for (Object o : reasons) {
      JsonObject r = (JsonObject) o;
      out.println("  Why: " + r.getString("detail", r.getString("code")) + " [" + r.getString("code") + "]");
    }
    String eta = waiting.getString("estimated_start_at");
    String basis = waiting.getString("estimate_basis");
    if (eta == null) {
      out.println("  Expected start: unknown" + (basis == null ? "" : " (" + basis + ")"));
    } else {
      String ago = Output.ago(eta, now);
      out.println("  Expected start: " + (ago.startsWith("in ") ? "in about " + ago.substring(3) : "any moment now")
          + ", at " + eta + (basis == null ? "" : " (" + basis + ")"));
    }
  }

  private static String ordinal(int n) {
    int mod100 = n % 100;
    String suffix = mod100 >= 11 && mod100 <= 13 ? "th" : switch (n % 10) {
      case 1 -> "st";
      case 2 -> "nd";
      case 3 -> "rd";
      default -> "th";
    };
    return n + suffix;
  }
}
