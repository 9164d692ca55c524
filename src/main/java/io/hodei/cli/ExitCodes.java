package io.hodei.cli;

/** Exit codes of the {@code hodei} command: part of its contract with scripts (docs/cli.md). */
public final class ExitCodes {
  public static final int OK = 0;
  public static final int ERROR = 1;
  public static final int USAGE = 2;
  public static final int NOT_FOUND = 3;
  public static final int JOB_FAILED = 4;

  private ExitCodes() {}
}
