package io.hodei.cli;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "tokens", description = "Create or list a tenant's API tokens.",
    subcommands = {TokensCommand.Create.class, TokensCommand.ListTokens.class})
final class TokensCommand extends CliCommand {
  @Override
  protected int run() {
    spec.commandLine().usage(out());
    return ExitCodes.USAGE;
  }

  @Command(name = "create", description = {"Issue a token; its secret is printed once.",
      "Example: hodei tokens create --tenant acme --role submitter --name ci"})
  static final class Create extends ApiCommand {
    @Option(names = "--tenant", required = true, paramLabel = "TENANT")
    String tenant;

    @Option(names = "--role", paramLabel = "ROLE", defaultValue = "submitter", description = "tenant-admin, submitter (default) or viewer.")
    String role;

    @Option(names = "--name", paramLabel = "NAME", description = "A name to recognise it by.")
    String name;

    @Override
    protected int run() {
      JsonObject body = new JsonObject().put("role", role);
      if (name != null) body.put("name", name);
      JsonObject token = client().post("/api/v1/tenants/" + encodePath(tenant) + "/tokens", body);
      if (printedAsData(token)) return ExitCodes.OK;
      out().println(token.getString("token"));
      err().println("token " + token.getString("id") + " (" + role + " of " + tenant + "): the secret above is shown only once");
      return ExitCodes.OK;
    }
  }

  @Command(name = "list", aliases = "ls", description = {"List a tenant's tokens (never their secrets).", "Example: hodei tokens list --tenant acme"})
  static final class ListTokens extends ApiCommand {
    @Option(names = "--tenant", required = true, paramLabel = "TENANT")
    String tenant;

    @Override
    protected int run() {
      JsonObject page = client().get("/api/v1/tenants/" + encodePath(tenant) + "/tokens");
      if (printedAsData(page)) return ExitCodes.OK;
      Instant now = now();
      Output.Table t = new Output.Table("ID", "NAME", "ROLE", "CREATED", "REVOKED");
      for (Object o : items(page)) {
        JsonObject tok = (JsonObject) o;
        t.row(tok.getString("id"), tok.getString("name"), tok.getString("role"), Output.ago(tok.getString("created_at"), now),
            tok.getString("revoked_at") == null ? "-" : Output.ago(tok.getString("revoked_at"), now));
      }
      t.print(out());
      return ExitCodes.OK;
    }
  }
}
