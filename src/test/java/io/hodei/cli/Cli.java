package io.hodei.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine;

/** Runs the {@code hodei} command in-process with captured output and a private HOME (never the real config). */
final class Cli {
  record Result(int code, String out, String err) {
    @Override
    public String toString() { return "exit " + code + "\n--- out\n" + out + "--- err\n" + err; }
  }

  private final Map<String, String> env = new HashMap<>();

  Cli(Path home) { env.put("HOME", home.toString()); }

  Cli env(String key, String value) {
    if (value == null) env.remove(key); else env.put(key, value);
    return this;
  }

  /** Server and token through the environment, as a CI job would set them. */
  Cli as(int port, String token) {
    return env("HODEI_SERVER", "http://127.0.0.1:" + port).env("HODEI_TOKEN", token);
  }

  Result run(String... args) {
    return run(new StringWriter(), args);
  }

  /** Runs with {@code out} visible while the command runs (for watch modes read from another thread). */
  Result run(StringWriter out, String... args) {
    return run(out, new StringWriter(), args);
  }

  /** Runs with {@code out} and {@code err} visible while the command runs. */
  Result run(StringWriter out, StringWriter err, String... args) {
    CommandLine cl = HodeiCli.commandLine(new HodeiCli(env));
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }
}
