package io.hodei.agent;

import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command line of the jar: no subcommand runs the server (configured by conf/hodei.yaml and HODEI_* variables);
 * {@code agent} runs an agent; {@code --help} lists both.
 */
@Command(name = "hodei-pools", mixinStandardHelpOptions = true, subcommands = AgentCommand.class,
    description = "Hodei Pools. Without a subcommand: runs the server (configured by conf/hodei.yaml and HODEI_* "
        + "environment variables). 'agent': runs jobs of one pool on this machine for a server.")
public final class Cli implements Runnable {
  private Cli() {}

  /**
   * Runs a subcommand or the help and exits with its code; false when {@code args} ask for the server (then the
   * caller starts it).
   */
  public static boolean handles(String[] args) {
    if (args.length == 0) return false;
    String first = args[0];
    if (first.equals("agent")) {
      System.exit(AgentCommand.run(Arrays.copyOfRange(args, 1, args.length)));
      return true;
    }
    if (first.equals("--help") || first.equals("-h") || first.equals("help") || first.equals("--version")
        || first.equals("-V")) {
      System.exit(new CommandLine(new Cli()).execute(args));
      return true;
    }
    return false;
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
