package io.hodei.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Every command: runs {@link #run()} and turns any failure into one line on stderr and an exit code. */
public abstract class CliCommand implements Callable<Integer> {
  @Spec
  protected CommandSpec spec;

  protected abstract int run() throws Exception;

  @Override
  public final Integer call() {
    try {
      return run();
    } catch (CliException e) {
      err().println("error: " + e.getMessage());
      return e.exitCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCodes.ERROR;
    } catch (Exception e) {
      String m = e.getMessage();
      err().println("error: " + (m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m)));
      return ExitCodes.ERROR;
    } finally {
      cleanup();
      out().flush();
      err().flush();
    }
  }

  /** Releases what the command opened (connections); runs after every run, failed or not. */
  protected void cleanup() {}

  protected HodeiCli root() { return (HodeiCli) spec.root().userObject(); }

  protected PrintWriter out() { return spec.commandLine().getOut(); }

  protected PrintWriter err() { return spec.commandLine().getErr(); }

  protected Instant now() { return Instant.now(); }
}
