package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", description = {"Print a job's output (the newest 64 KiB of each attempt).", "Example: hodei logs -f j-01a249af77beab8d7a64baed"})
final class LogsCommand extends ApiCommand {
  @Parameters(paramLabel = "ID")
  String id;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new output until the job ends.")
  boolean follow;

  @Option(names = "--poll-ms", defaultValue = "1000", hidden = true)
  long pollMillis;

  @Override
  protected int run() throws InterruptedException {
    String path = "/api/v1/jobs/" + encodePath(id);
    JsonObject logs = client().get(path + "/logs");
    if (!follow) {
      if (printedAsData(logs)) return ExitCodes.OK;
      JsonArray attempts = logs.getJsonArray("attempts", new JsonArray());
      for (Object o : attempts) {
        JsonObject a = (JsonObject) o;
        if (attempts.size() > 1) out().println("==> attempt " + a.getInteger("attempt") + " <==");
        out().print(a.getString("log", ""));
      }
      return ExitCodes.OK;
    }
    int attempt = -1;
    int printed = 0;
    while (!Thread.currentThread().isInterrupted()) {
      for (Object o : logs.getJsonArray("attempts", new JsonArray())) {
        JsonObject a = (JsonObject) o;
        int n = a.getInteger("attempt", 0);
        String text = a.getString("log", "");
        if (n < attempt) continue;
        if (n > attempt) {
          if (attempt != -1) out().println("==> attempt " + n + " <==");
          attempt = n;
          printed = 0;
        }
        // the server keeps the newest 64 KiB: when the text slid, print what is new after the overlap
        if (text.length() < printed) printed = 0;
        out().print(text.substring(printed));
        printed = text.length();
      }
      out().flush();
      String state = client().get(path).getString("state");
      if (SubmitCommand.TERMINAL.contains(state)) {
        JsonObject last = client().get(path + "/logs");
        // trace_id differs on every answer: compare the output only
        if (!last.getJsonArray("attempts", new JsonArray()).equals(logs.getJsonArray("attempts", new JsonArray()))) {
          logs = last;
          continue;
        }
        break;
      }
      pause(pollMillis);
      logs = client().get(path + "/logs");
    }
    return ExitCodes.OK;
  }
}
