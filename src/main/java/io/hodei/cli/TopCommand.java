package io.hodei.cli;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "top", description = {"A live view of pools, queues and running jobs, redrawn as the server's events "
    + "arrive; q quits.", "Example: hodei top"})
final class TopCommand extends ApiCommand {
  private static final String CLEAR = "\033[H\033[2J";
  /** What changes the screen: jobs, workers, pools and tenants (docs/bridge.md lists every event). */
  static final List<String> EVENTS = List.of("job.submitted", "job.started", "job.finished", "job.retry",
      "worker.state", "pool.state", "pool.resized", "pool.scaled", "tenant.changed");
  private static final long TICK_MS = 100;
  /** The screen's clock and run times move on without the server: redrawn from the last snapshot this often. */
  private static final long REPAINT_MS = 1000;

  @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "1s",
      description = "Read the server at most once per DURATION while events arrive (default ${DEFAULT-VALUE}).")
  String interval;

  @Option(names = "--iterations", paramLabel = "N", hidden = true, description = "Stop after N snapshots.")
  Integer iterations;

  private Snapshot snapshot;
  private boolean dirty = true;
  private long lastRead;
  private long lastPaint;
  private int reads;
  private String readProblem;
  private final StringWriter streamNotes = new StringWriter();

  @Override
  protected int run() throws Exception {
    long minGapNanos = Duration.ofSeconds(Math.max(0, Quantities.seconds(interval))).toNanos();
    String saved = stty("-g");
    Thread restore = null;
    if (saved != null) {
      stty("-icanon -echo min 0");
      // Ctrl-C ends the JVM without running finally blocks: give the terminal back from a shutdown hook
      restore = new Thread(() -> stty(saved), "hodei-top-tty");
      Runtime.getRuntime().addShutdownHook(restore);
    }
    try {
      InputStream in = System.in;
      refresh();
      streams().follow(() -> {
        dirty = true; // a new connection may have missed events: read the server once it is open
        return streams().events(EVENTS);
      }, event -> dirty = true, () -> {
        if (quitPressed(in)) return false;
        long now = System.nanoTime();
        if (dirty && now - lastRead >= minGapNanos) {
          refresh();
          if (iterations != null && reads >= iterations) return false;
        } else if (now - lastPaint >= REPAINT_MS * 1_000_000) {
          paint();
        }
        return true;
      }, TICK_MS, new PrintWriter(streamNotes, true));
    } catch (InterruptedException stopped) {
      Thread.currentThread().interrupt(); // like q
    } finally {
      if (saved != null) {
        stty(saved);
        try {
          Runtime.getRuntime().removeShutdownHook(restore);
        } catch (IllegalStateException shuttingDown) {
          // the hook runs anyway
        }
      }
    }
    return ExitCodes.OK;
  }

  /** Reads the server; after the first screen a failed read keeps the last screen and says why on its first line. */
  private void refresh() {
    dirty = false;
    lastRead = System.nanoTime();
    reads++;
    try {
      snapshot = new Snapshot(client().get("/api/v1/pools", RestClient.params("limit", 500)),
          client().get("/api/v1/queues/status"),
          client().get("/api/v1/jobs", RestClient.params("state", "running", "limit", 20)));
      readProblem = null;
    } catch (CliException e) {
      if (snapshot == null) throw e;
      readProblem = e.getMessage();
      dirty = true; // read again (at most once per --interval) until the server answers
    }
    paint();
  }

  private void paint() {
    lastPaint = System.nanoTime();
    String screen = screen(snapshot, now());
    out().print(CLEAR);
    out().print(screen);
    out().flush();
  }

  private static boolean quitPressed(InputStream in) throws IOException {
    while (in.available() > 0) {
      int c = in.read();
      if (c == 'q' || c == 'Q' || c == -1) return true;
    }
    return false;
  }

  /** What the server answered at the last read. */
  record Snapshot(JsonObject pools, JsonObject queues, JsonObject running) {}

  /** One screen, built fully before it is printed so the terminal never shows half a refresh. */
  private String screen(Snapshot s, Instant now) {
    StringWriter buffer = new StringWriter();
    PrintWriter out = new PrintWriter(buffer);
    String note = streamNotes.toString().lines().reduce((a, b) -> b).orElse("");
    String live = readProblem != null ? "   [" + Output.truncate(readProblem, 80) + "]"
        : note.startsWith("hodei: lost") ? "   [reconnecting to the event stream]" : "";
    out.println("hodei top - " + client().server() + " - " + now.truncatedTo(ChronoUnit.SECONDS) + "   (q quits)" + live);
    out.println();
    Output.Table p = new Output.Table("POOL", "STATE", "SIZE", "IDLE", "BUSY", "PROVISIONING", "UNHEALTHY");
    for (Object o : items(s.pools())) {
      JsonObject pool = (JsonObject) o;
      JsonObject w = pool.getJsonObject("workers", new JsonObject());
      p.row(pool.getString("id"), pool.getString("state"), w.getInteger("total", 0) + "/" + pool.getInteger("target_size"),
          w.getValue("idle"), w.getValue("busy"), w.getValue("provisioning"), w.getValue("unhealthy"));
    }
    if (p.isEmpty()) out.println("no pools"); else p.print(out);
    out.println();
    QueuesCommand.print(out, s.queues(), false);
    out.println();
    Output.Table j = new Output.Table("RUNNING JOB", "TENANT", "POOL", "WORKER", "TIME", "COMMAND");
    for (Object o : items(s.running())) {
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
