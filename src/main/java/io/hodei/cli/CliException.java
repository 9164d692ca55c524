package io.hodei.cli;

/** A failure the CLI reports as one line on stderr with an exit code a script can test. */
public final class CliException extends RuntimeException {
  private final int exitCode;

  public CliException(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  public static CliException error(String message) { return new CliException(ExitCodes.ERROR, message); }

  public static CliException usage(String message) { return new CliException(ExitCodes.USAGE, message); }

  public int exitCode() { return exitCode; }
}
