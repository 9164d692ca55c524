package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "jobs", description = {"List jobs, newest first (like squeue).", "Example: hodei jobs --state running --pool sim"})
final class JobsCommand extends ApiCommand {
  @Option(names = "--state", paramLabel = "STATE", description = "queued, admitted, running, succeeded, failed, cancelled, timed_out, abandoned.")
  String state;

  @Option(names = "--tenant", paramLabel = "TENANT", description = "Only this tenant's jobs (admin tokens).")
  String tenant;

  @Option(names = "--pool", paramLabel = "POOL", description = "Only jobs of this pool.")
  String pool;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "At most N jobs (default ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = {"-w", "--watch"}, description = "Keep watching: print a line each time a job appears or changes state (Ctrl-C ends).")
  boolean watch;

  @Option(names = "--watch-for", paramLabel = "DURATION", hidden = true, description = "Stop watching after this long.")
  String watchFor;

  @Option(names = "--poll-ms", defaultValue = "1000", hidden = true)
  long pollMillis;

  @Override
  protected int run() throws InterruptedException {
    JsonObject page = fetch();
    if (!watch) {
      if (printedAsData(page)) return ExitCodes.OK;
      Output.Table t = table();
      for (Object o : items(page)) add(t, (JsonObject) o, now());
      if (t.isEmpty()) {
        out().println("no jobs");
      } else {
        t.print(out());
      }
      return ExitCodes.OK;
    }
    return watch(page);
  }

  /** Polls the list and prints each job whose state is new since the last poll, kubectl get -w style. */
  private int watch(JsonObject first) throws InterruptedException {
    Instant end = watchFor == null ? null : Instant.now().plus(Duration.ofSeconds(Quantities.seconds(watchFor)));
    Map<String, String> seen = new HashMap<>();
    if (!machine()) out().println(table().lines().get(0));
    JsonObject page = first;
    while (!Thread.currentThread().isInterrupted()) {
      Output.Table changes = table();
      for (Object o : reversed(items(page))) {
        JsonObject job = (JsonObject) o;
        String key = job.getString("id");
        if (job.getString("state").equals(seen.put(key, job.getString("state")))) continue;
        if (machine()) {
          Output.Format f = format();
          out().println(f == Output.Format.JSON ? job.copy().encode() : "---");
          if (f == Output.Format.YAML) Output.machine(out(), f, job);
        } else {
          add(changes, job, now());
        }
      }
      if (!machine() && !changes.isEmpty()) {
        changes.lines().stream().skip(1).forEach(out()::println);
      }
      out().flush();
      if (end != null && Instant.now().isAfter(end)) break;
      pause(pollMillis);
      page = fetch();
    }
    return ExitCodes.OK;
  }

  private static JsonArray reversed(JsonArray a) {
    JsonArray r = new JsonArray();
    for (int i = a.size() - 1; i >= 0; i--) r.add(a.getValue(i));
    return r;
  }

  private JsonObject fetch() {
    return client().get("/api/v1/jobs", RestClient.params("state", state, "tenant", tenant, "pool", pool, "limit", limit));
  }

  private Output.Table table() {
    // watch mode prints the header once and rows as they change: fixed widths keep them under their headers
    if (watch) return plainTable().minWidths(26, 10, 14, 10, 4, 5, 6, 10, 6, 8, 4, 20);
    return plainTable();
  }

  private Output.Table plainTable() {
    return wide()
        ? new Output.Table("ID", "TENANT", "POOL", "STATE", "PRIO", "CPU", "MEM", "SUBMITTED", "TIME", "ATTEMPTS", "EXIT", "WORKER", "COMMAND")
        : new Output.Table("ID", "TENANT", "POOL", "STATE", "PRIO", "CPU", "MEM", "SUBMITTED", "TIME");
  }

  private void add(Output.Table t, JsonObject job, Instant now) {
    String pool = job.getString("placed_pool_id", job.getString("pool_id"));
    if (pool == null && job.getJsonObject("pool_labels") != null) pool = job.getJsonObject("pool_labels").encode();
    if (wide()) {
      t.row(job.getString("id"), job.getString("tenant_id"), pool, job.getString("state"), job.getInteger("priority"),
          Output.cpu(job.getInteger("cpu_m")), Output.mem(job.getInteger("memory_mb")),
          Output.ago(job.getString("submitted_at"), now), runTime(job, now),
          job.getInteger("attempts") + "/" + job.getInteger("max_attempts"), job.getValue("exit_code"),
          job.getString("worker_id"), Output.truncate(Output.str(job.getJsonArray("command")), 40));
    } else {
      t.row(job.getString("id"), job.getString("tenant_id"), pool, job.getString("state"), job.getInteger("priority"),
          Output.cpu(job.getInteger("cpu_m")), Output.mem(job.getInteger("memory_mb")),
          Output.ago(job.getString("submitted_at"), now), runTime(job, now));
    }
  }

  /** Run time so far (running) or in total (ended), like squeue's TIME. */
  static String runTime(JsonObject job, Instant now) {
    Instant started = Output.instant(job.getString("started_at"));
    if (started == null) return "-";
    Instant finished = Output.instant(job.getString("finished_at"));
    return Output.span(Duration.between(started, finished == null ? now : finished));
  }
}
