package io.hodei.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "context", description = "List contexts, show or switch the current one.",
    subcommands = {ContextCommand.Use.class, ContextCommand.ListContexts.class, ContextCommand.Current.class})
final class ContextCommand extends CliCommand {
  @Override
  protected int run() { return ListContexts.print(this); }

  @Command(name = "use", description = "Make NAME the current context.")
  static final class Use extends CliCommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    protected int run() {
      CliConfig config = root().config();
      config.use(name);
      config.save();
      out().println("switched to context '" + name + "' (" + config.context(name).server() + ")");
      return ExitCodes.OK;
    }
  }

  @Command(name = "list", aliases = "ls", description = "List contexts; * marks the current one.")
  static final class ListContexts extends CliCommand {
    @Override
    protected int run() { return print(this); }

    static int print(CliCommand c) {
      CliConfig config = c.root().config();
      Output.Table t = new Output.Table("CURRENT", "NAME", "SERVER");
      for (Map.Entry<String, CliConfig.Context> e : config.contexts().entrySet()) {
        t.row(e.getKey().equals(config.currentName()) ? "*" : "", e.getKey(), e.getValue().server());
      }
      if (t.isEmpty()) {
        c.out().println("no contexts in " + config.file() + ": run hodei login --server URL --token TOKEN");
      } else {
        t.print(c.out());
      }
      return ExitCodes.OK;
    }
  }

  @Command(name = "current", description = "Print the current context's name.")
  static final class Current extends CliCommand {
    @Override
    protected int run() {
      String name = root().config().currentName();
      if (name == null) throw new CliException(ExitCodes.NOT_FOUND, "no current context: run hodei login");
      out().println(name);
      return ExitCodes.OK;
    }
  }
}
