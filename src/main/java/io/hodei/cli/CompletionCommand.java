package io.hodei.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "completion", description = {"Print a shell completion script.",
    "bash: source <(hodei completion bash)   zsh: source <(hodei completion zsh)"})
final class CompletionCommand extends CliCommand {
  @Parameters(paramLabel = "SHELL", description = "bash or zsh")
  String shell;

  @Override
  protected int run() {
    String script = AutoComplete.bash("hodei", spec.root().commandLine());
    switch (shell) {
      case "bash" -> out().print(script);
      case "zsh" -> {
        // picocli's script is bash; zsh runs it through bashcompinit
        out().println("autoload -U +X compinit && compinit");
        out().println("autoload -U +X bashcompinit && bashcompinit");
        out().print(script);
      }
      default -> throw CliException.usage("unknown shell '" + shell + "' (bash or zsh)");
    }
    return ExitCodes.OK;
  }
}
