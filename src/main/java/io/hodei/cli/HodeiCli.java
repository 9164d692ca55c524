package io.hodei.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

/**
 * The {@code hodei} command line: {@code java -jar hodei-pools.jar <command>} or {@code bin/hodei <command>}.
 * Every command is documented in docs/cli.md; exit codes are in {@link ExitCodes}.
 */
@Command(name = "hodei", scope = ScopeType.INHERIT, mixinStandardHelpOptions = true,
    versionProvider = HodeiCli.Version.class,
    description = "Submit and follow jobs, inspect pools, queues, tenants and cost on a Hodei Pools server.",
    subcommands = {
        LoginCommand.class, ContextCommand.class,
        SubmitCommand.class, JobsCommand.class, JobCommand.class, LogsCommand.class, CancelCommand.class,
        EventsCommand.class,
        PoolsCommand.class, PoolCommand.class, QueuesCommand.class, TenantsCommand.class, TokensCommand.class,
        CostCommand.class, TopCommand.class, CompletionCommand.class
    },
    footer = {"", "Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 job failed (submit --wait).",
        "The same jar without arguments runs the server; 'agent --help' describes running an agent."})
public final class HodeiCli implements Runnable {
  public static final String DEFAULT_SERVER = "http://localhost:8080";

  private final Map<String, String> env;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public HodeiCli() { this(System.getenv()); }

  /** {@code env} stands for the process environment (HOME, HODEI_CONFIG, HODEI_SERVER, HODEI_TOKEN). */
  public HodeiCli(Map<String, String> env) { this.env = Map.copyOf(env); }

  /**
   * Runs the command line in this process ({@code Main} with arguments): the server's JSON logs are silenced, as the
   * CLI's output is its stdout and one line per error on stderr. Returns the exit code.
   */
  public static int execute(String... args) {
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(ch.qos.logback.classic.Level.OFF);
    return commandLine(new HodeiCli()).execute(args);
  }

  /**
   * A picocli CommandLine ready to execute: a usage error is one line naming the help to read (exit 2), and any
   * failure outside a command's own handling one line too (exit 1), never the usage text or a stack trace.
   */
  public static CommandLine commandLine(HodeiCli cli) {
    CommandLine cl = new CommandLine(cli);
    cl.setParameterExceptionHandler((e, args) -> {
      CommandLine failed = e.getCommandLine();
      failed.getErr().println("hodei: " + usageProblem(e) + "; see '" + failed.getCommandSpec().qualifiedName()
          + " --help'");
      failed.getErr().flush();
      return ExitCodes.USAGE;
    });
    cl.setExecutionExceptionHandler((e, failed, parsed) -> {
      String m = e.getMessage();
      failed.getErr().println("error: " + (m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m)));
      failed.getErr().flush();
      return e instanceof CliException c ? c.exitCode() : ExitCodes.ERROR;
    });
    return cl;
  }

  /** picocli's complaint in one line, in lower case like the rest of the CLI's messages. */
  static String usageProblem(CommandLine.ParameterException e) {
    if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      String first = u.getUnmatched().get(0);
      boolean option = first.startsWith("-");
      boolean command = !option && !u.getCommandLine().getSubcommands().isEmpty()
          && u.getCommandLine().getCommandSpec().positionalParameters().isEmpty();
      String what = option ? "unknown option " + first : command ? "unknown command '" + first + "'"
          : "unexpected argument '" + first + "'";
      List<String> suggestions = u.getSuggestions();
      return suggestions.isEmpty() ? what : what + " (did you mean " + String.join(" or ", suggestions) + "?)";
    }
    String m = e.getMessage() == null ? "bad arguments" : e.getMessage().lines().findFirst().orElse("bad arguments");
    return m.isEmpty() ? m : Character.toLowerCase(m.charAt(0)) + m.substring(1);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public Map<String, String> env() { return env; }

  public Path configFile() { return CliConfig.location(env); }

  public CliConfig config() { return CliConfig.load(configFile()); }

  /** Server and token: the flag, then HODEI_SERVER / HODEI_TOKEN, then the chosen or current context. */
  RestClient client(String serverFlag, String tokenFlag, String contextFlag) {
    Target t = target(serverFlag, tokenFlag, contextFlag);
    return new RestClient(t.server(), t.token());
  }

  /** Where a command goes: the server URL and the token. */
  record Target(String server, String token) {}

  Target target(String serverFlag, String tokenFlag, String contextFlag) {
    CliConfig config = config();
    String contextName = contextFlag != null ? contextFlag : config.currentName();
    CliConfig.Context context = contextName == null ? null : config.context(contextName);
    if (contextFlag != null && context == null) {
      throw new CliException(ExitCodes.NOT_FOUND, "no context '" + contextFlag + "' in " + config.file());
    }
    String server = first(serverFlag, env.get("HODEI_SERVER"), context == null ? null : context.server(), DEFAULT_SERVER);
    String token = first(tokenFlag, env.get("HODEI_TOKEN"), context == null ? null : context.token(), null);
    RestClient.serverUri(server);
    if (token == null) {
      throw CliException.error("no token: run 'hodei login --server URL --token TOKEN' or set HODEI_TOKEN");
    }
    return new Target(server, token);
  }

  private static String first(String... values) {
    for (String v : values) if (v != null && !v.isBlank()) return v;
    return null;
  }

  /** The jar's implementation version when packaged. */
  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = HodeiCli.class.getPackage().getImplementationVersion();
      return new String[] {"hodei " + (v == null ? "(development build)" : v)};
    }
  }
}
