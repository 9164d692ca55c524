package io.hodei.cli;

import io.hodei.grpc.v1.JobServiceGrpcClient;
import io.hodei.grpc.v1.StreamJobLogsRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", description = {"Print a job's output (the newest 64 KiB of each attempt).", "Example: hodei logs -f j-01a249af77beab8d7a64baed"})
final class LogsCommand extends ApiCommand {
  @Parameters(paramLabel = "ID")
  String id;

  @Option(names = {"-f", "--follow"}, description = {"Keep the stream open: print each attempt's output as the server "
      + "stores it (at the attempt's end) and exit when the job has ended."})
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
    // gRPC StreamJobLogs: one message per attempt as it is stored; the stream ends OK once the job is final
    Set<Integer> printed = new HashSet<>();
    StreamJobLogsRequest request = StreamJobLogsRequest.newBuilder().setId(id).setFollow(true).build();
    streams().follow(() -> streams().call(JobServiceGrpcClient.StreamJobLogs, request), log -> {
      if (!printed.add(log.getAttempt())) return;
      if (machine()) {
        JsonObject item = new JsonObject().put("job_id", log.getJobId()).put("attempt", log.getAttempt())
            .put("log", log.getLog()).put("at", log.getAt());
        if (format() == Output.Format.JSON) {
          out().println(item.encode());
        } else {
          out().println("---");
          Output.machine(out(), format(), item);
        }
      } else {
        if (printed.size() > 1) out().println("==> attempt " + log.getAttempt() + " <==");
        out().print(log.getLog());
      }
      out().flush();
    }, () -> true, 500, err());
    return ExitCodes.OK;
  }
}
