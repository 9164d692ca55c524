package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import io.hodei.grpc.v1.JobEvent;
import io.hodei.grpc.v1.JobServiceGrpcClient;
import io.hodei.grpc.v1.WatchJobsRequest;
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

  @Option(names = {"-w", "--watch"}, description = {"Print the table, then a line each time a job appears or changes state, "
      + "as the server streams its job events (Ctrl-C ends)."})
  boolean watch;

  @Option(names = "--watch-for", paramLabel = "DURATION", hidden = true, description = "Stop watching after this long.")
  String watchFor;

  @Override
  protected int run() throws Exception {
    // a watch starts its stream at an event read before the table: whatever changes after the table is in the stream
    long start = watch ? Watch.startSequence(this) : 0;
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
    return new Watch().run(page, start);
  }

  /**
   * {@code -w}: the table, then the job event stream (gRPC {@code WatchJobs}) from about where the table was read.
   * Each event updates its row; a row whose state changed is printed again, kubectl {@code get -w} style.
   */
  private final class Watch {
    /** The jobs shown, by id; {@code null} values are jobs seen and left out by the filters. */
    private final Map<String, JsonObject> rows = new HashMap<>();
    /** When each row last changed: its event times once events came. */
    private final Map<String, Instant> changes = new HashMap<>();
    private long last;

    int run(JsonObject page, long start) throws Exception {
      Instant end = watchFor == null ? null : Instant.now().plus(Duration.ofSeconds(Quantities.seconds(watchFor)));
      JsonArray listed = items(page);
      if (machine()) {
        for (Object o : reversed(listed)) print((JsonObject) o);
      } else {
        Output.Table t = table();
        for (Object o : listed) add(t, (JsonObject) o, now());
        t.print(out());
      }
      for (Object o : listed) rows.put(((JsonObject) o).getString("id"), (JsonObject) o);
      out().flush();
      last = start;
      WatchJobsRequest.Builder request = WatchJobsRequest.newBuilder();
      if (tenant != null) request.setTenantId(tenant);
      try {
        streams().follow(() -> streams().call(JobServiceGrpcClient.WatchJobs, request.setFromSequence(last).build()),
            this::apply, () -> end == null || Instant.now().isBefore(end), 200, err());
      } catch (InterruptedException stopped) {
        Thread.currentThread().interrupt(); // a watch ends by being stopped: that is its normal end
      }
      return ExitCodes.OK;
    }

    /**
     * Where the stream starts: the newest event of the job that changed last among the newest jobs (the log has no
     * cheaper "now"). Read before the table, so every change after the table comes after it; the older events
     * replayed are ignored by their rows (an event older than a row's last change changes nothing).
     */
    static long startSequence(JobsCommand command) {
      JsonObject newest = command.client().get("/api/v1/jobs", RestClient.params("tenant", command.tenant,
          "limit", 20));
      JsonObject probe = null;
      for (Object o : items(newest)) {
        JsonObject job = (JsonObject) o;
        if (probe == null || lastChange(job).isAfter(lastChange(probe))) probe = job;
      }
      if (probe == null) return 0;
      JsonObject events;
      try {
        events = command.client().get("/api/v1/jobs/" + encodePath(probe.getString("id")) + "/events");
      } catch (CliException gone) {
        return 0;
      }
      long sequence = 0;
      for (Object o : events.getJsonArray("items", new JsonArray())) {
        sequence = Math.max(sequence, ((JsonObject) o).getLong("seq", 0L));
      }
      return sequence;
    }

    private void apply(JobEvent event) {
      last = event.getSequence();
      String id = event.getJobId();
      if (!rows.containsKey(id)) {
        JsonObject job;
        try {
          job = admit(id);
        } catch (CliException unreadable) {
          return; // the server is away for a moment: the job's next event tries again
        }
        rows.put(id, job);
        if (job != null) print(job);
        return;
      }
      JsonObject job = rows.get(id);
      if (job == null) return;
      Instant at = Output.instant(event.getAt());
      Instant seen = changes.computeIfAbsent(id, k -> lastChange(job));
      // a replayed event the listed row already shows (or an older one): nothing to print
      if (at != null && at.isBefore(seen)) return;
      if (at != null) changes.put(id, at);
      boolean changed = !event.getState().equals(job.getString("state"));
      update(job, event);
      if (changed) print(job);
    }

    /** A job the table did not list: read it once, and keep it when it passes the filters (null: left out). */
    private JsonObject admit(String id) {
      JsonObject job;
      try {
        job = client().get("/api/v1/jobs/" + encodePath(id));
      } catch (CliException e) {
        if (e.exitCode() == ExitCodes.NOT_FOUND) return null;
        throw e;
      }
      if (state != null && !state.equals(job.getString("state"))) return null;
      if (pool != null && !pool.equals(job.getString("placed_pool_id")) && !pool.equals(job.getString("pool_id"))) {
        return null;
      }
      return job;
    }

    private void print(JsonObject job) {
      if (machine()) {
        if (format() == Output.Format.JSON) {
          out().println(job.copy().encode());
        } else {
          out().println("---");
          Output.machine(out(), format(), job);
        }
      } else {
        Output.Table t = table();
        add(t, job, now());
        out().println(t.lines().get(1));
      }
      out().flush();
    }
  }

  /** The job's row after {@code event}, from the event's state, time and detail. */
  static void update(JsonObject job, JobEvent event) {
    String state = event.getState();
    String at = event.getAt();
    JsonObject detail;
    try {
      detail = event.getDetail().isBlank() ? new JsonObject() : new JsonObject(event.getDetail());
    } catch (io.vertx.core.json.DecodeException e) {
      detail = new JsonObject();
    }
    job.put("state", state);
    switch (state) {
      case "admitted" -> job.put("admitted_at", at);
      case "running" -> {
        job.put("started_at", at).putNull("finished_at");
        copy(detail, job, "pool_id", "placed_pool_id");
        copy(detail, job, "worker_id", "worker_id");
        copy(detail, job, "attempt", "attempts");
      }
      case "queued" -> {
        if (job.getString("submitted_at") == null) job.put("submitted_at", at);
      }
      default -> {
        job.put("finished_at", at);
        copy(detail, job, "exit_code", "exit_code");
        copy(detail, job, "error_type", "error_type");
      }
    }
  }

  private static void copy(JsonObject from, JsonObject to, String key, String as) {
    if (from.getValue(key) != null) to.put(as, from.getValue(key));
  }

  /** When the job last changed state, as far as its row tells. */
  static Instant lastChange(JsonObject job) {
    Instant latest = Instant.EPOCH;
    for (String key : new String[] {"submitted_at", "admitted_at", "started_at", "finished_at"}) {
      Instant at = Output.instant(job.getString(key));
      if (at != null && at.isAfter(latest)) latest = at;
    }
    return latest;
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
    String pool = job.getString("placed_pool_id") != null ? job.getString("placed_pool_id") : job.getString("pool_id");
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
