package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "pool", description = {"Show a pool (workers by state, health, the scaling ledger's tail), or drain, pause, resume it.",
    "Examples: hodei pool sim    hodei pool pause sim"},
    subcommands = {PoolCommand.Drain.class, PoolCommand.Pause.class, PoolCommand.Resume.class})
final class PoolCommand extends ApiCommand {
  @Parameters(paramLabel = "ID", arity = "0..1", description = "The pool to show.")
  String id;

  @Override
  protected int run() {
    if (id == null) throw CliException.usage("give a pool ID (hodei pool ID), or drain|pause|resume ID");
    String base = "/api/v1/pools/" + encodePath(id);
    JsonObject pool = client().get(base);
    JsonObject workers = client().get(base + "/workers", RestClient.params("limit", 500));
    JsonObject health = metrics(base);
    JsonObject ledger = client().get(base + "/scaling/history", RestClient.params("limit", 5));
    if (machine()) {
      Output.machine(out(), format(), pool.copy().put("worker_list", items(workers)).put("metrics", health)
          .put("scaling_history", items(ledger)));
      return ExitCodes.OK;
    }
    Instant now = now();
    PrintWriter out = out();
    out.println("Pool " + pool.getString("id") + " (" + pool.getString("kind") + ", " + pool.getString("provider") + "): "
        + pool.getString("state"));
    out.println("Size: " + pool.getJsonObject("workers", new JsonObject()).getInteger("total", 0) + " workers, target "
        + pool.getInteger("target_size") + " (min " + pool.getInteger("min_size") + ", max " + pool.getInteger("max_size")
        + ")" + (pool.getBoolean("auto_scaling_enabled", false) ? ", autoscaling on" : ""));
    out.println("Worker: " + Output.cpu(pool.getInteger("worker_cpu_m")) + " CPU, " + Output.mem(pool.getInteger("worker_memory_mb"))
        + ", " + pool.getValue("price_per_worker_hour") + " per hour");
    JsonArray actions = pool.getJsonArray("allowed_actions");
    if (actions != null) out.println("Allowed actions: " + Output.str(actions));
    if (health != null) {
      JsonObject h = health.getJsonObject("health", new JsonObject());
      JsonArray reasons = h.getJsonArray("reasons", new JsonArray());
      out.println("Health: " + h.getString("status", "unknown") + (reasons.isEmpty() ? "" : " (" + Output.str(reasons).replace(" ", ", ") + ")"));
    } else {
      out.println("Health: unknown (metrics collector off)");
    }
    out.println();
    Map<String, Integer> byState = new TreeMap<>();
    JsonArray list = items(workers);
    for (Object o : list) byState.merge(((JsonObject) o).getString("state"), 1, Integer::sum);
    StringBuilder states = new StringBuilder("Workers by state:");
    if (byState.isEmpty()) states.append(" none");
    byState.forEach((s, n) -> states.append(' ').append(s).append('=').append(n));
    out.println(states);
    if (!list.isEmpty()) {
      Output.Table t = new Output.Table("WORKER", "STATE", "HEALTH", "JOB", "STARTED", "LAST HEARTBEAT");
      for (Object o : list) {
        JsonObject w = (JsonObject) o;
        t.row(w.getString("id"), w.getString("state") + (w.getBoolean("draining", false) ? " (draining)" : ""),
            w.getString("health"), w.getString("current_job_id"), Output.ago(w.getString("started_at"), now),
            Output.ago(w.getString("last_heartbeat_at"), now));
      }
      t.print(out);
    }
    out.println();
    JsonArray decisions = items(ledger);
    if (decisions.isEmpty()) {
      out.println("Scaling ledger: no decisions yet");
    } else {
      out.println("Scaling ledger (newest first):");
      Output.Table t = new Output.Table("WHEN", "DIRECTION", "SIZE", "SOURCE", "REASON");
      for (Object o : decisions) {
        JsonObject d = (JsonObject) o;
        t.row(Output.ago(d.getString("at"), now), d.getString("direction"),
            d.getValue("size_before", "-") + "->" + d.getValue("size_after", "-"), d.getString("source"),
            Output.truncate(String.valueOf(first(d, "reason", "reason_code")), 80));
      }
      t.print(out);
    }
    return ExitCodes.OK;
  }

  private static String first(JsonObject o, String... keys) {
    for (String k : keys) if (o.getValue(k) != null) return String.valueOf(o.getValue(k));
    return null;
  }

  /** The collector's view of the pool, or null when metrics are off (503). */
  private JsonObject metrics(String base) {
    try {
      return client().get(base + "/metrics");
    } catch (CliException e) {
      if (e.exitCode() == ExitCodes.NOT_FOUND) throw e;
      return null;
    }
  }

  abstract static class Lifecycle extends ApiCommand {
    @Parameters(paramLabel = "ID")
    String id;

    abstract String action();

    @Override
    protected int run() {
      JsonObject pool = client().post("/api/v1/pools/" + encodePath(id) + "/lifecycle", new JsonObject().put("action", action()));
      if (!printedAsData(pool)) out().println("pool " + id + " " + pool.getString("state"));
      return ExitCodes.OK;
    }
  }

  @Command(name = "drain", description = "Take no new jobs; running jobs finish, then workers stop.")
  static final class Drain extends Lifecycle {
    @Override
    String action() { return "drain"; }
  }

  @Command(name = "pause", description = "Take no new jobs until resumed; workers stay.")
  static final class Pause extends Lifecycle {
    @Override
    String action() { return "pause"; }
  }

  @Command(name = "resume", description = "Take jobs again after pause.")
  static final class Resume extends Lifecycle {
    @Override
    String action() { return "resume"; }
  }
}
