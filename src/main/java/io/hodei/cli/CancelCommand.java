package io.hodei.cli;

import io.vertx.core.json.JsonObject;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "cancel", description = {"Cancel queued or running jobs (a running job's process tree is killed).", "Example: hodei cancel j-1 j-2"})
final class CancelCommand extends ApiCommand {
  @Parameters(paramLabel = "ID", arity = "1..*")
  List<String> ids;

  @Override
  protected int run() {
    int code = ExitCodes.OK;
    for (String id : ids) {
      try {
        JsonObject job = client().post("/api/v1/jobs/" + encodePath(id) + "/cancel", new JsonObject());
        if (!printedAsData(job)) {
          String state = job.getString("state", "cancelled");
          // a running job's process is being killed: it ends as cancelled in a moment
          out().println("cancelled".equals(state) ? id + " cancelled" : id + " cancel requested (" + state + ")");
        }
      } catch (CliException e) {
        err().println("error: " + id + ": " + e.getMessage());
        // any other failure outranks "not found": a script learns that something besides a typo went wrong
        code = e.exitCode() == ExitCodes.NOT_FOUND && code != ExitCodes.ERROR ? ExitCodes.NOT_FOUND : ExitCodes.ERROR;
      }
    }
    return code;
  }
}
