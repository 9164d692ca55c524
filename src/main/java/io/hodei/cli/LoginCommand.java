package io.hodei.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "login", description = {"Check a server URL and token, and store them as a context (the current one).",
    "The config file is ~/.config/hodei/config.yaml (mode 0600), or HODEI_CONFIG."})
final class LoginCommand extends CliCommand {
  @Option(names = "--server", required = true, paramLabel = "URL", description = "Server URL, e.g. http://localhost:8080.")
  String server;

  @Option(names = "--token", required = true, paramLabel = "TOKEN", description = "API token (admin or a tenant's).")
  String token;

  @Option(names = "--context", paramLabel = "NAME", defaultValue = CliConfig.DEFAULT_CONTEXT,
      description = "Context name (default: ${DEFAULT-VALUE}).")
  String context;

  @Option(names = "--no-verify", description = "Store without calling the server.")
  boolean noVerify;

  @Override
  protected int run() {
    RestClient.serverUri(server);
    if (!noVerify) new RestClient(server, token).get("/api/v1/jobs?limit=1");
    CliConfig config = root().config();
    config.put(new CliConfig.Context(context, server, token));
    config.use(context);
    config.save();
    out().println("logged in to " + server + " as context '" + context + "' (" + config.file() + ")");
    return ExitCodes.OK;
  }
}
