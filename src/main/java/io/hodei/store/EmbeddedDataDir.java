package io.hodei.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The embedded PostgreSQL's data directory, locked down: who may log in, and as whom Hodei does.
 *
 * <p>The data directory is PGDATA itself (as in earlier versions, so their directories keep working). Hodei keeps
 * its own files next to PostgreSQL's, written after {@code initdb} (which needs an empty directory):
 * <ul>
 *   <li>{@value #SUPERUSER_SECRET}: the password of the superuser {@code postgres} (mode 0600; for operators only,
 *   Hodei never connects as it);</li>
 *   <li>{@value #ROLE_SECRET}: the password of role {@value #ROLE}, a non-superuser that owns database
 *   {@value #DATABASE}, where Hodei's tables live (mode 0600);</li>
 *   <li>{@value #BOOTSTRAP_DONE}: written last, once roles, database and ownership are in place;</li>
 *   <li>{@value #LOCK}: locked by the running Hodei, so that a second one on the same directory fails fast and a
 *   postmaster found running here without that lock is known to be an orphan.</li>
 * </ul>
 * The roles and the database are set up in single-user mode ({@code postgres --single}), which needs no
 * authentication and no listening socket, so no {@code trust} rule is ever written, not even for a moment, and a lost
 * secret file is simply replaced by a new password at the next start. A directory of an earlier version (tables in
 * database {@code postgres} owned by {@code postgres}, trust authentication) is adopted the same way: its database
 * is renamed to {@value #DATABASE}, a fresh {@code postgres} is created, and its objects are given to {@value #ROLE}.
 * {@code pg_hba.conf} is rewritten at every start: password (SCRAM) authentication for every connection.
 */
final class EmbeddedDataDir implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDataDir.class);

  static final String SUPERUSER = "postgres";
  static final String ROLE = "hodei";
  static final String DATABASE = "hodei";
  static final String SUPERUSER_SECRET = "hodei-superuser.secret";
  static final String ROLE_SECRET = "hodei-role.secret";
  static final String BOOTSTRAP_DONE = "hodei-bootstrap.done";
  static final String LOCK = "hodei.lock";
  private static final long TOOL_TIMEOUT_S = 120;

  static final String PG_HBA = """
      # Written by Hodei at every start of its embedded PostgreSQL: edits here are overwritten.
      # Every connection authenticates with a password (SCRAM); the server listens on 127.0.0.1 only.
      # TYPE  DATABASE  USER  ADDRESS        METHOD
      local   all       all                  scram-sha-256
      host    all       all   127.0.0.1/32   scram-sha-256
      host    all       all   ::1/128        scram-sha-256
      """;

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final String rolePassword;

  private EmbeddedDataDir(Path dir, FileChannel lockChannel, FileLock lock, String rolePassword) {
    this.dir = dir;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.rolePassword = rolePassword;
  }

  /**
   * Creates (initdb; without flushing to disk unless {@code durable}) or opens the directory, takes its lock, stops
   * a postmaster a crashed Hodei left running on it, sets up the roles when they are not known to be in place, and
   * writes {@code pg_hba.conf}. Blocking.
   */
  static EmbeddedDataDir open(Path dir, PgBinaries binaries, boolean durable) throws IOException {
    Files.createDirectories(dir);
    boolean fresh = !Files.exists(dir.resolve("PG_VERSION"));
    // not durable (throw-away or test directories): skip the flushes to disk, about a second per start
    List<String> sync = durable ? List.of() : List.of("-F");
    if (fresh) initdb(dir, binaries, durable);
    FileChannel channel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new IllegalStateException("the embedded database directory " + dir + " is in use by another Hodei process");
    }
    try {
      EmbeddedPostmaster.stopLeftover(dir);
      String superuserPassword = readSecret(dir.resolve(SUPERUSER_SECRET));
      String rolePassword = readSecret(dir.resolve(ROLE_SECRET));
      if (superuserPassword == null || rolePassword == null || !Files.exists(dir.resolve(BOOTSTRAP_DONE))) {
        Files.deleteIfExists(dir.resolve(BOOTSTRAP_DONE));
        if (superuserPassword == null) superuserPassword = writeSecret(dir.resolve(SUPERUSER_SECRET));
        if (rolePassword == null) rolePassword = writeSecret(dir.resolve(ROLE_SECRET));
        bootstrap(dir, binaries, sync, !fresh, superuserPassword, rolePassword);
        Files.writeString(dir.resolve(BOOTSTRAP_DONE), "1\n", StandardCharsets.UTF_8);
      }
      Files.writeString(dir.resolve("pg_hba.conf"), PG_HBA, StandardCharsets.UTF_8);
      return new EmbeddedDataDir(dir, channel, lock, rolePassword);
    } catch (IOException | RuntimeException e) {
      lock.release();
      channel.close();
      throw e;
    }
  }

  Path path() { return dir; }

  /** The password of role {@value #ROLE}, as which Hodei connects. */
  String rolePassword() { return rolePassword; }

  @Override
  public void close() {
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      LOG.warn("could not release the lock of the embedded database directory", kv("data_dir", dir.toString()));
    }
  }

  private static void initdb(Path dir, PgBinaries binaries, boolean durable) throws IOException {
    // initdb wants the superuser's password before the directory exists; the real one is set right after, by the
    // bootstrap, so this throw-away one never has to be kept.
    Path pwfile = Files.createTempFile("hodei-initdb-", ".pw",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(pwfile, newPassword() + "\n", StandardCharsets.UTF_8);
      long started = System.nanoTime();
      List<String> args = new ArrayList<>(List.of("-A", "scram-sha-256", "-U", SUPERUSER, "--pwfile=" + pwfile,
          "-D", dir.toString(), "-E", "UTF-8", "--no-instructions"));
      if (!durable) args.add("--no-sync");
      run(binaries.command("initdb", args), null, "initdb");
      LOG.info("embedded PostgreSQL data directory created", kv("data_dir", dir.toString()),
          kv("ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
    } finally {
      Files.deleteIfExists(pwfile);
    }
  }

  /**
   * Idempotent: every statement either checks first or may fail only with "already exists", so a start that was
   * interrupted half-way is simply repeated.
   */
  private static void bootstrap(Path dir, PgBinaries binaries, List<String> options, boolean adoptPostgresDatabase,
                                String superuserPassword, String rolePassword) throws IOException {
    List<String> cluster = new ArrayList<>(List.of(
        "ALTER ROLE " + SUPERUSER + " WITH PASSWORD '" + superuserPassword + "'",
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + ROLE + "') THEN CREATE ROLE " + ROLE
            + "; END IF; END$$",
        "ALTER ROLE " + ROLE + " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '"
            + rolePassword + "'"));
    if (adoptPostgresDatabase) {
      // an earlier version kept its tables in database postgres: that database becomes Hodei's
      cluster.add("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_database WHERE datname = '" + DATABASE + "') THEN "
          + "ALTER DATABASE postgres RENAME TO " + DATABASE + "; END IF; END$$");
    }
    cluster.addAll(List.of(
        "CREATE DATABASE " + DATABASE + " OWNER " + ROLE,
        "CREATE DATABASE postgres",
        "ALTER DATABASE " + DATABASE + " OWNER TO " + ROLE,
        "REVOKE ALL ON DATABASE " + DATABASE + " FROM PUBLIC"));
    singleUser(dir, binaries, options, "template1", cluster, List.of(superuserPassword, rolePassword));
    singleUser(dir, binaries, options, DATABASE, List.of(GIVE_OBJECTS_TO_ROLE), List.of());
    LOG.info("embedded PostgreSQL secured", kv("data_dir", dir.toString()), kv("role", ROLE),
        kv("database", DATABASE), kv("adopted_previous_layout", adoptPostgresDatabase));
  }

  /** Objects of schema public not owned by the role (those an earlier version created as postgres) become its. */
  private static final String GIVE_OBJECTS_TO_ROLE = """
      DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                   AND c.relowner <> '%1$s'::regrole LOOP
          EXECUTE format('ALTER %%s %%s OWNER TO %1$s', CASE r.relkind WHEN 'v' THEN 'VIEW'
            WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.name);
        END LOOP;
        -- a sequence owned by a column moved with its table; the other sequences
        FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> '%1$s'::regrole LOOP
          EXECUTE format('ALTER SEQUENCE %%s OWNER TO %1$s', r.name);
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS name, p.prokind
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = 'public' AND p.proowner <> '%1$s'::regrole LOOP
          EXECUTE format('ALTER %%s %%s OWNER TO %1$s', CASE r.prokind WHEN 'p' THEN 'PROCEDURE'
            WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.name);
        END LOOP;
        FOR r IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r') AND t.typowner <> '%1$s'::regrole LOOP
          EXECUTE format('ALTER TYPE %%s OWNER TO %1$s', r.name);
        END LOOP;
      END$$""".formatted(ROLE);

  /** Runs statements in single-user mode; any error other than "already exists" fails the start. */
  private static void singleUser(Path dir, PgBinaries binaries, List<String> options, String database,
                                 List<String> statements, List<String> hidden) throws IOException {
    // -j: a statement ends at a semicolon followed by an empty line, so statements may span lines
    String script = String.join(";\n\n", statements) + ";\n\n";
    List<String> args = new ArrayList<>(List.of("--single", "-j", "-D", dir.toString()));
    args.addAll(options);
    args.add(database);
    String output = run(binaries.command("postgres", args), script, "postgres --single");
    List<String> errors = new ArrayList<>();
    for (String line : output.split("\n")) {
      boolean error = line.contains("ERROR:") || line.contains("FATAL:") || line.contains("PANIC:");
      if (error && !line.contains("already exists")) errors.add(redact(line, hidden));
    }
    if (!errors.isEmpty()) {
      throw new IllegalStateException("securing the embedded PostgreSQL failed: " + String.join("; ", errors));
    }
  }

  private static String redact(String text, List<String> secrets) {
    String result = text;
    for (String s : secrets) result = result.replace(s, "***");
    return result;
  }

  /** Runs a PostgreSQL tool to its end and returns its output; a non-zero exit fails with that output. */
  private static String run(List<String> command, String stdin, String what) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectInput(stdin == null ? ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())
            : ProcessBuilder.Redirect.PIPE)
        .start();
    if (stdin != null) {
      try (var in = process.getOutputStream()) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!process.waitFor(TOOL_TIMEOUT_S, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(what + " did not finish within " + TOOL_TIMEOUT_S + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException(what + " interrupted", e);
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(what + " failed (exit " + process.exitValue() + "): " + output.strip());
    }
    LOG.debug("embedded PostgreSQL tool finished", kv("tool", what));
    return output;
  }

  private static String readSecret(Path file) throws IOException {
    try {
      if (!Files.isRegularFile(file)) return null;
      String value = Files.readString(file, StandardCharsets.UTF_8).strip();
      return value.isEmpty() ? null : value;
    } catch (AccessDeniedException e) {
      throw new IllegalStateException("cannot read " + file + ": it must be readable by the user running Hodei", e);
    }
  }

  /** A new random password in a file only its owner can read, replaced atomically. */
  private static String writeSecret(Path file) throws IOException {
    String password = newPassword();
    Path tmp = Files.createTempFile(file.getParent(), file.getFileName() + ".", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(tmp, password + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return password;
  }

  /** 256 random bits in hex: nothing that needs quoting in SQL or a connection URI. */
  private static String newPassword() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
