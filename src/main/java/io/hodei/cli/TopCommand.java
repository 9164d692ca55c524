package io.hodei.cli;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "top", description = {"A live view of pools, queues and running jobs, refreshed every 2 s; q quits.", "Example: hodei top"})
final class TopCommand extends ApiCommand {
  private static final String CLEAR = "\033[H\033[2J";

  @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "2s", description = "Refresh period (default ${DEFAULT-VALUE}).")
  String interval;

  @Option(names = "--iterations", paramLabel = "N", hidden = true, description = "Stop after N screens.")
  Integer iterations;

  @Override
  protected int run() throws Exception {
    long periodMs = Math.max(200, Quantities.seconds(interval) * 1000);
    String saved = stty("-g");
    if (saved != null) stty("-icanon -echo min 0");
    try {
      InputStream in = System.in;
      for (int n = 0; iterations == null || n < iterations; n++) {
        String screen = screen();
        out().print(CLEAR);
        out().print(screen);
        out().flush();
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(periodMs);
        while (System.nanoTime() < until) {
          if (quitPressed(in)) return ExitCodes.OK;
          pause(50);
        }
      }
    } finally {
      if (saved != null) stty(saved);
    }
    return ExitCodes.OK;
  }

  private static boolean quitPressed(InputStream in) throws IOException {
    while (in.available() > 0) {
      int c = in.read();
      if (c == 'q' || c == 'Q' || c == -1) return true;
    }
    return false;
  }

  /** One screen, built fully before it is printed so the terminal never shows half a refresh. */
  private String screen() {
    Instant now = now();
    StringWriter buffer = new StringWriter();
    PrintWriter out = new PrintWriter(buffer);
    out.println("hodei top - " + client().server() + " - " + now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "   (q quits)");
    out.println();
    JsonObject pools = client().get("/api/v1/pools", RestClient.params("limit", 500));
    Output.Table p = new Output.Table("POOL", "STATE", "SIZE", "IDLE", "BUSY", "PROVISIONING", "UNHEALTHY");
    for (Object o : items(pools)) {
      JsonObject pool = (JsonObject) o;
      JsonObject w = pool.getJsonObject("workers", new JsonObject());
      p.row(pool.getString("id"), pool.getString("state"), w.getInteger("total", 0) + "/" + pool.getInteger("target_size"),
          w.getValue("idle"), w.getValue("busy"), w.getValue("provisioning"), w.getValue("unhealthy"));
    }
    if (p.isEmpty()) out.println("no pools"); else p.print(out);
    out.println();
    QueuesCommand.print(out, client().get("/api/v1/queues/status"), false);
    out.println();
    JsonObject running = client().get("/api/v1/jobs", RestClient.params("state", "running", "limit", 20));
    Output.Table j = new Output.Table("RUNNING JOB", "TENANT", "POOL", "WORKER", "TIME", "COMMAND");
    for (Object o : items(running)) {
      JsonObject job = (JsonObject) o;
      j.row(job.getString("id"), job.getString("tenant_id"), job.getString("placed_pool_id"), job.getString("worker_id"),
          JobsCommand.runTime(job, now), Output.truncate(Output.str(job.getJsonArray("command")), 40));
    }
    if (j.isEmpty()) out.println("no running jobs"); else j.print(out);
    out.flush();
    return buffer.toString();
  }

  /** Runs stty on the controlling terminal; null when there is none (output piped, tests). */
  private static String stty(String args) {
    if (System.console() == null) return null;
    try {
      Process p = new ProcessBuilder("sh", "-c", "stty " + args + " < /dev/tty").redirectErrorStream(true).start();
      String text = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor() == 0 ? text : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
