package io.hodei.cli;

import io.hodei.grpc.v1.JobServiceGrpcClient;
import io.hodei.grpc.v1.StreamJobLogsRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", description = {"Print a job's output (the newest 64 KiB of each attempt).", "Example: hodei logs -f j-01a249af77beab8d7a64baed"})
final class LogsCommand extends ApiCommand {
  @Parameters(paramLabel = "ID")
  String id;

  @Option(names = {"-f", "--follow"}, description = {"Keep the stream open: print a running attempt's output as it "
      + "comes, and exit when the job has ended."})
  boolean follow;

  @Override
  protected int run() throws Exception {
    if (!follow) {
      JsonObject logs = client().get("/api/v1/jobs/" + encodePath(id) + "/logs");
      if (printedAsData(logs)) return ExitCodes.OK;
      JsonArray attempts = logs.getJsonArray("attempts", new JsonArray());
      for (Object o : attempts) {
        JsonObject a = (JsonObject) o;
        if (attempts.size() > 1) out().println("==> attempt " + a.getInteger("attempt") + " <==");
        out().print(a.getString("log", ""));
      }
      return ExitCodes.OK;
    }
    client().get("/api/v1/jobs/" + encodePath(id)); // a job that does not exist (or a server that is down) ends here
    // gRPC StreamJobLogs with follow: the running attempt's output so far, again each time it grew, then each
    // attempt's stored log; every message repeats what came before, so only the new text is printed
    Map<Integer, String> shown = new HashMap<>();
    StreamJobLogsRequest request = StreamJobLogsRequest.newBuilder().setId(id).setFollow(true).build();
    streams().follow(() -> streams().call(JobServiceGrpcClient.StreamJobLogs, request), log -> {
      String before = shown.get(log.getAttempt());
      String added = newText(before, log.getLog());
      shown.put(log.getAttempt(), log.getLog());
      if (added.isEmpty() && before != null) return;
      if (machine()) {
        JsonObject item = new JsonObject().put("job_id", log.getJobId()).put("attempt", log.getAttempt())
            .put("log", added).put("at", log.getAt());
        if (format() == Output.Format.JSON) {
          out().println(item.encode());
        } else {
          out().println("---");
          Output.machine(out(), format(), item);
        }
      } else {
        if (before == null && shown.size() > 1) out().println("==> attempt " + log.getAttempt() + " <==");
        out().print(added);
      }
      out().flush();
    }, () -> true, 500, err());
    return ExitCodes.OK;
  }

  /**
   * What {@code now} adds to {@code before}, two views of one attempt's output. Both are its newest 64 KiB, so a
   * long run's window may have slid: the new text starts after the longest end of {@code before} that {@code now}
   * starts with. When they share nothing (a window that slid past all of it), all of {@code now} is new.
   */
  static String newText(String before, String now) {
    if (before == null || before.isEmpty()) return now;
    if (now.startsWith(before)) return now.substring(before.length());
    // the slid window: now begins inside before; the earliest such start is the longest overlap
    int probe = Math.min(now.length(), 64);
    if (probe == 0) return "";
    String head = now.substring(0, probe);
    int last = before.length() - probe;
    for (int from = before.indexOf(head, 1); from >= 0 && from <= last; from = before.indexOf(head, from + 1)) {
      int overlap = before.length() - from;
      if (overlap <= now.length() && before.regionMatches(from, now, 0, overlap)) return now.substring(overlap);
    }
    // an overlap shorter than the probe
    for (int from = Math.max(1, last + 1); from < before.length(); from++) {
      int overlap = before.length() - from;
      if (before.regionMatches(from, now, 0, overlap)) return now.substring(overlap);
    }
    return now;
  }
}
