package io.hodei.runner;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Operations on a process and everything it started: killing the whole tree and sampling its CPU time and memory
 * from /proc. All blocking work (walking /proc, signalling) runs on Vert.x worker threads.
 */
public final class ProcessTrees {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessTrees.class);
  private static final Path PROC = Path.of("/proc");
  /** auxv entry carrying the kernel's clock ticks per second (sysconf(_SC_CLK_TCK)). */
  private static final long AT_CLKTCK = 17;
  private static final long DEFAULT_CLOCK_TICKS = 100;

  private ProcessTrees() {}

  /**
   * Asks the tree to stop (SIGTERM, descendants first so a parent cannot respawn them), then after {@code graceMs}
   * kills whatever of it is still there (SIGKILL). The descendants are listed before anything is signalled: once a
   * parent dies its children are re-parented and no longer found from it. Completes when the root has exited, or
   * after the forced kill if it never reports an exit.
   */
  public static Future<Void> kill(Vertx vertx, ProcessHandle root, long graceMs) {
    return vertx.executeBlocking(() -> {
      List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
      tree.forEach(ProcessHandle::destroy);
      root.destroy();
      tree.add(root);
      return tree;
    }, false).compose(tree -> {
      Promise<Void> gone = Promise.promise();
      root.onExit().whenComplete((handle, err) -> gone.tryComplete());
      vertx.setTimer(Math.max(1, graceMs), id -> vertx.executeBlocking(() -> {
        for (ProcessHandle handle : tree) {
          if (handle.isAlive()) {
            LOG.info("process ignored SIGTERM; sending SIGKILL", kv("pid", handle.pid()));
            handle.destroyForcibly();
          }
        }
        return null;
      }, false).onComplete(ar -> gone.tryComplete()));
      return gone.future();
    });
  }

  /** The process with this pid when it is alive and started at {@code startedAt} (to the millisecond). */
  public static Optional<ProcessHandle> find(long pid, Instant startedAt) {
    if (pid <= 0 || startedAt == null) return Optional.empty();
    Instant expected = startedAt.truncatedTo(ChronoUnit.MILLIS);
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(handle -> handle.info().startInstant()
            .map(started -> started.truncatedTo(ChronoUnit.MILLIS).equals(expected))
            .orElse(false));
  }

  /** CPU ticks consumed so far and resident memory of a process tree, read from /proc (blocking). */
  public record Sample(long cpuTicks, long rssKb, long atNanos) {
    public static final Sample NONE = new Sample(0, 0, 0);
  }

  /** Reads the tree's counters; {@link Sample#NONE} when /proc is unavailable or the root is gone. */
  public static Sample sample(ProcessHandle root) {
    if (!Files.isDirectory(PROC) || !root.isAlive()) return Sample.NONE;
    long ticks = 0;
    long rssKb = 0;
    List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
    tree.add(root);
    for (ProcessHandle handle : tree) {
      ticks += cpuTicks(handle.pid());
      rssKb += rssKb(handle.pid());
    }
    return new Sample(ticks, rssKb, System.nanoTime());
  }

  /** utime + stime (fields 14 and 15 of /proc/pid/stat), 0 when the process is gone. */
  private static long cpuTicks(long pid) {
    try {
      String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
      // The command name (field 2) may contain spaces and parentheses; the fields after its last ')' are fixed.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
      // fields[0] is field 3 (state), so field n is fields[n - 3].
      return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** VmRSS from /proc/pid/status in kB, 0 when the process is gone (or a kernel thread without memory). */
  private static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(PROC.resolve(Long.toString(pid)).resolve("status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
      }
      return 0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The CPU percent of one core between two samples, never negative (a child that exited takes its ticks along). */
  public static double cpuPercent(Sample previous, Sample current) {
    long elapsedNanos = current.atNanos() - previous.atNanos();
    if (elapsedNanos <= 0) return 0;
    double cpuSeconds = (double) (current.cpuTicks() - previous.cpuTicks()) / ClockTicks.PER_SECOND;
    return Math.max(0, cpuSeconds * 100.0 / (elapsedNanos / 1e9));
  }

  /** Read on first use, which is on a worker thread (inside a usage sample), never at class loading. */
  private static final class ClockTicks {
    static final long PER_SECOND = readClockTicks();
  }

  private static long readClockTicks() {
    try {
      ByteBuffer auxv = ByteBuffer.wrap(Files.readAllBytes(PROC.resolve("self").resolve("auxv")))
          .order(ByteOrder.nativeOrder());
      boolean wide = !"32".equals(System.getProperty("sun.arch.data.model"));
      int entry = wide ? 16 : 8;
      while (auxv.remaining() >= entry) {
        long key = wide ? auxv.getLong() : auxv.getInt();
        long value = wide ? auxv.getLong() : auxv.getInt();
        if (key == AT_CLKTCK && value > 0) return value;
        if (key == 0) break;
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("clock ticks unreadable from /proc/self/auxv; assuming " + DEFAULT_CLOCK_TICKS, e);
    }
    return DEFAULT_CLOCK_TICKS;
  }
}
