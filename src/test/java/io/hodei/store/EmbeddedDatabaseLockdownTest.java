package io.hodei.store;

import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The embedded PostgreSQL lets in only who knows a password, over loopback, and Hodei's own role is no superuser. */
class EmbeddedDatabaseLockdownTest {
  private static Vertx vertx;
  private static Database db;
  private static Path dir;
  private static int port;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    db = Database.start(vertx, new DatabaseConfig(null, null, true, 2, 0, false)).await();
    dir = db.embeddedPostmaster().dataDir();
    port = db.embeddedPostmaster().port();
  }

  @AfterAll
  static void stop() {
    db.close(vertx).await();
    vertx.close().await();
    assertThat(dir).doesNotExist();
  }

  @Test
  void superuserNeedsItsPasswordOverTcp() throws Exception {
    // the server answers a start-up without credentials with a SCRAM challenge (10), never "authenticated" (0)
    assertThat(authenticationRequest("postgres", "postgres")).isEqualTo(10);
    assertThat(authenticationRequest("hodei", "hodei")).isEqualTo(10);
    assertThatThrownBy(() -> connect("postgres", "postgres", null)).isInstanceOf(SQLException.class)
        .hasMessageContaining("password");
    assertThatThrownBy(() -> connect("postgres", "postgres", "postgres"))
        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
    assertThatThrownBy(() -> connect("postgres", "hodei", "wrong"))
        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));

    try (Connection c = connect("postgres", "postgres", secret(EmbeddedDataDir.SUPERUSER_SECRET));
         Statement s = c.createStatement()) {
      assertThat(single(s, "SHOW listen_addresses")).isEqualTo("127.0.0.1");
      assertThat(single(s, "SHOW unix_socket_directories")).isEmpty();
      assertThat(single(s, "SELECT count(*) FROM pg_hba_file_rules")).isNotEqualTo("0");
      assertThat(single(s, "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256' "
          + "OR error IS NOT NULL")).isEqualTo("0");
      assertThat(single(s, "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'hodei'"))
          .isEqualTo("t");
    }
    assertThat(Files.readString(dir.resolve("pg_hba.conf"))).doesNotContain("trust");
  }

  @Test
  void nothingListensBeyondLoopback() throws Exception {
    List<InetAddress> others = NetworkInterface.networkInterfaces().flatMap(NetworkInterface::inetAddresses)
        .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress()).toList();
    for (InetAddress address : others) {
      assertThatThrownBy(() -> new Socket(address, port).close()).as(address.toString())
          .isInstanceOf(java.io.IOException.class);
    }
  }

  @Test
  void hodeiRoleOwnsItsDatabaseButCannotReachTheMachine() throws Exception {
    try (Connection c = connect("hodei", "hodei", secret(EmbeddedDataDir.ROLE_SECRET));
         Statement s = c.createStatement()) {
      assertThat(single(s, "SELECT concat_ws(',', rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls)"
          + " FROM pg_roles WHERE rolname = current_user")).isEqualTo("f,f,f,f,f");
      assertThat(single(s, "SELECT pg_has_role(current_user, 'pg_read_server_files', 'MEMBER')::text || "
          + "pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER')::text")).isEqualTo("falsefalse");
      assertThat(single(s, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'hodei'"))
          .isEqualTo("0");
      assertThat(single(s, "SELECT count(*) FROM flyway_schema_history WHERE success")).isNotEqualTo("0");

      s.execute("CREATE TEMP TABLE scratch (line text)");
      assertRefused(s, "COPY scratch FROM PROGRAM 'id'");
      assertRefused(s, "COPY scratch FROM '/etc/passwd'");
      assertRefused(s, "SELECT pg_read_file('PG_VERSION')");
      assertRefused(s, "CREATE ROLE intruder LOGIN SUPERUSER");
      assertRefused(s, "CREATE ROLE intruder");
      assertRefused(s, "ALTER ROLE hodei SUPERUSER");
      assertRefused(s, "CREATE DATABASE other");
    }
  }

  @Test
  void secretsAreReadableByTheirOwnerOnly() throws Exception {
    for (String name : new String[] {EmbeddedDataDir.SUPERUSER_SECRET, EmbeddedDataDir.ROLE_SECRET}) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name))))
          .as(name).isEqualTo("rw-------");
      assertThat(secret(name)).hasSizeGreaterThanOrEqualTo(32);
    }
    assertThat(secret(EmbeddedDataDir.SUPERUSER_SECRET)).isNotEqualTo(secret(EmbeddedDataDir.ROLE_SECRET));
  }

  /** Sends a protocol 3.0 start-up message and returns the code of the server's first authentication request. */
  private static int authenticationRequest(String user, String database) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      ByteArrayOutputStream params = new ByteArrayOutputStream();
      for (String p : new String[] {"user", user, "database", database}) {
        params.write(p.getBytes(StandardCharsets.UTF_8));
        params.write(0);
      }
      params.write(0);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(8 + params.size());
      out.writeInt(196608); // protocol 3.0
      out.write(params.toByteArray());
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      assertThat((char) in.readByte()).as("an authentication request").isEqualTo('R');
      in.readInt(); // length
      return in.readInt();
    }
  }

  private static void assertRefused(Statement s, String sql) {
    assertThatThrownBy(() -> s.execute(sql)).as(sql)
        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).as(sql).isEqualTo("42501"));
  }

  static String secret(Path dir, String name) throws Exception {
    return Files.readString(dir.resolve(name)).strip();
  }

  private static String secret(String name) throws Exception {
    return secret(dir, name);
  }

  static Connection connect(int port, String database, String user, String password) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    if (password != null) props.setProperty("password", password);
    props.setProperty("connectTimeout", "10");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
  }

  private static Connection connect(String database, String user, String password) throws SQLException {
    return connect(port, database, user, password);
  }

  static String single(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).as(sql).isTrue();
      return rs.getString(1);
    }
  }
}
