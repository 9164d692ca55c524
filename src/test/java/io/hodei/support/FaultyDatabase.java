package io.hodei.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A PostgreSQL the test owns, for fault injection: Hodei reaches it as an external database ({@code database.url}),
 * and the test stops it, starts it again on the same port and data directory, kills its postmaster with SIGKILL, or
 * ends every client connection from the server side.
 */
public final class FaultyDatabase implements AutoCloseable {
  private final Path dataDir;
  private final int port;
  private EmbeddedPostgres pg;

  private FaultyDatabase(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.port = port;
  }

  public static FaultyDatabase start() throws IOException {
    FaultyDatabase db = new FaultyDatabase(Files.createTempDirectory("hodei-faulty-pg-"), freePort());
    db.startServer();
    return db;
  }

  /** The URL Hodei is configured with. */
  public String url() { return "postgresql://postgres:postgres@127.0.0.1:" + port + "/postgres"; }

  public String jdbcUrl() { return "jdbc:postgresql://127.0.0.1:" + port + "/postgres"; }

  /** Starts the server (again) on the same port and data directory; PostgreSQL recovers from whatever it finds. */
  public synchronized void startServer() throws IOException {
    pg = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPort(port)
        .setRegisterShutdownHook(false).setPGStartupWait(Duration.ofSeconds(60))
        .setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on").start();
  }

  /** Stops the server (fast shutdown: clients are told and disconnected). */
  public synchronized void stopServer() throws IOException {
    if (pg != null) pg.close();
    pg = null;
  }

  /** SIGKILL to the postmaster (its backends exit when they notice); returns once it is gone. */
  public synchronized void killPostmaster() throws IOException {
    long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
    ProcessHandle handle = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("no postmaster " + pid));
    handle.destroyForcibly();
    handle.onExit().join();
    // the backends notice their postmaster is gone; wait until nothing holds the port
    Poll.until(() -> portFree(port), free -> free, Duration.ofSeconds(30), "the killed database's port free");
    try {
      pg.close(); // releases the library's lock on the data directory (its stop finds nothing to stop)
    } catch (IOException | RuntimeException ignored) {
      // nothing was left to stop
    }
    pg = null;
  }

  /** Ends every client connection but the caller's from the server side (SQLSTATE 57P01 to each client). */
  public int terminateClientConnections() throws SQLException {
    try (Connection c = connect(); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             + "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Ends the client connections whose {@code application_name} is {@code name} (e.g. hodei-writers). */
  public int terminateConnections(String name) throws SQLException {
    try (Connection c = connect();
         java.sql.PreparedStatement s = c.prepareStatement("SELECT count(pg_terminate_backend(pid)) FROM "
             + "pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  public Connection connect() throws SQLException { return DriverManager.getConnection(jdbcUrl(), "postgres", "postgres"); }

  /** The rows of a query with one column, as text. */
  public List<String> column(String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) values.add(rs.getString(1));
    }
    return values;
  }

  public long count(String sql) throws SQLException { return Long.parseLong(column(sql).get(0)); }

  @Override
  public synchronized void close() throws IOException {
    try {
      stopServer();
    } finally {
      try (Stream<Path> paths = Files.walk(dataDir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static boolean portFree(int port) {
    try (ServerSocket s = new ServerSocket(port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
