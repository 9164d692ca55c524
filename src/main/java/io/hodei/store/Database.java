package io.hodei.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The PostgreSQL source of truth: starts the embedded server when no URL is configured, migrates the schema with
 * Flyway (blocking, off the event loop) and hands out the reactive pool used for all runtime SQL.
 */
public final class Database {
  private static final Logger LOG = LoggerFactory.getLogger(Database.class);

  private final EmbeddedPostgres embedded;
  private final Path ephemeralDir;
  /** {@code application_name} of the metrics subsystem's connections (how PostgreSQL and its operators see them). */
  public static final String METRICS_APPLICATION_NAME = "hodei-metrics";
  /** Connections of the metrics pool: history writes and queries, the runtime sampler's statistics. */
  static final int METRICS_POOL_SIZE = 2;

  /**
   * Connections of the domains' group-commit writers (jobs, workers: one each, and room for one given up on while
   * it was still being opened), never shared with requests.
   */
  static final int WRITER_POOL_SIZE = 4;

  private final Pool pool;
  private final Pool metricsPool;
  private final Pool writerPool;
  private final PgConnectOptions connectOptions;

  private Database(EmbeddedPostgres embedded, Path ephemeralDir, Pool pool, Pool metricsPool, Pool writerPool,
                   PgConnectOptions connectOptions) {
    this.embedded = embedded;
    this.ephemeralDir = ephemeralDir;
    this.pool = pool;
    this.metricsPool = metricsPool;
    this.writerPool = writerPool;
    this.connectOptions = connectOptions;
  }

  public Pool pool() { return pool; }

  /**
   * The metrics subsystem's own connections ({@value #METRICS_POOL_SIZE}, {@code application_name}
   * {@value #METRICS_APPLICATION_NAME}): its statements never wait for, or take, the domains' connections, and what
   * they cost PostgreSQL can be told apart.
   */
  public Pool metricsPool() { return metricsPool; }

  /**
   * The group-commit writers' connections ({@value #WRITER_POOL_SIZE}): a writer waiting to retry after an outage
   * never queues behind request traffic for a connection, and requests never wait for a writer's.
   */
  public Pool writerPool() { return writerPool; }

  /** A short, safe description for logs: never the password. */
  public String describe() {
    return (embedded != null ? "embedded " : "") + "postgresql://" + connectOptions.getHost() + ":"
        + connectOptions.getPort() + "/" + connectOptions.getDatabase();
  }

  public static Future<Database> start(Vertx vertx, DatabaseConfig config) {
    return vertx.executeBlocking(() -> startBlocking(vertx, config), false);
  }

  private static Database startBlocking(Vertx vertx, DatabaseConfig config) throws IOException {
    EmbeddedPostgres embedded = null;
    Path ephemeralDir = null;
    PgConnectOptions options;
    try {
      if (config.url() == null || config.url().isBlank()) {
        Path dir;
        if (config.ephemeral()) {
          ephemeralDir = Files.createTempDirectory("hodei-pg-");
          dir = ephemeralDir;
        } else {
          dir = config.dataDir().toAbsolutePath();
          Files.createDirectories(dir);
        }
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
            .setDataDirectory(dir)
            .setCleanDataDirectory(config.ephemeral())
            .setRegisterShutdownHook(false)
            .setPGStartupWait(Duration.ofSeconds(60))
            .setServerConfig("max_connections", "100")
            // the library's defaults are fsync=off and synchronous_commit=off: fast, but an acknowledged job could
            // be lost (or the cluster damaged) by a crash of the machine
            .setServerConfig("fsync", config.embeddedDurable() ? "on" : "off")
            .setServerConfig("synchronous_commit", config.embeddedDurable() ? "on" : "off");
        if (config.embeddedPort() > 0) builder.setPort(config.embeddedPort());
        embedded = builder.start();
        options = new PgConnectOptions().setHost("localhost").setPort(embedded.getPort())
            .setDatabase("postgres").setUser("postgres").setPassword("postgres");
        LOG.info("embedded PostgreSQL started", kv("data_dir", dir.toString()), kv("port", embedded.getPort()),
            kv("ephemeral", config.ephemeral()));
      } else {
        options = PgConnectOptions.fromUri(config.url());
      }
      migrate(options);
      Pool pool = PgBuilder.pool()
          .with(new PoolOptions().setMaxSize(config.poolSize()).setName("hodei-pg").setShared(false))
          .connectingTo(options.setCachePreparedStatements(true).setReconnectAttempts(0))
          .using(vertx)
          .build();
      Pool metricsPool = PgBuilder.pool()
          .with(new PoolOptions().setMaxSize(METRICS_POOL_SIZE).setName("hodei-pg-metrics").setShared(false))
          .connectingTo(new PgConnectOptions(options).addProperty("application_name", METRICS_APPLICATION_NAME))
          .using(vertx)
          .build();
      Pool writerPool = PgBuilder.pool()
          .with(new PoolOptions().setMaxSize(WRITER_POOL_SIZE).setName("hodei-pg-writers").setShared(false))
          .connectingTo(new PgConnectOptions(options).addProperty("application_name", "hodei-writers"))
          .using(vertx)
          .build();
      return new Database(embedded, ephemeralDir, pool, metricsPool, writerPool, options);
    } catch (RuntimeException | IOException e) {
      closeEmbedded(embedded, ephemeralDir);
      throw e;
    }
  }

  private static void migrate(PgConnectOptions options) {
    String jdbcUrl = "jdbc:postgresql://" + options.getHost() + ":" + options.getPort() + "/" + options.getDatabase();
    Flyway.configure()
        .dataSource(jdbcUrl, options.getUser(), options.getPassword())
        .locations("classpath:db/migration")
        .connectRetries(0)
        .load()
        .migrate();
  }

  /** Stops the embedded server without closing the pool (used by tests to simulate an outage). */
  public void stopEmbeddedServer() throws IOException {
    if (embedded != null) embedded.close();
  }

  public Future<Void> close(Vertx vertx) {
    return Future.join(pool.close(), metricsPool.close(), writerPool.close()).<Void>mapEmpty().recover(err -> Future.succeededFuture())
        .compose(v -> vertx.executeBlocking(() -> {
          closeEmbedded(embedded, ephemeralDir);
          return null;
        }, false));
  }

  private static void closeEmbedded(EmbeddedPostgres embedded, Path ephemeralDir) {
    if (embedded != null) {
      try {
        embedded.close();
      } catch (IOException e) {
        LOG.warn("embedded PostgreSQL did not stop cleanly", e);
      }
    }
    // The embedded server removes a directory it was told to clean; remove whatever is left.
    if (ephemeralDir != null && Files.exists(ephemeralDir)) {
      try (Stream<Path> paths = Files.walk(ephemeralDir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        LOG.warn("could not remove the throw-away database directory", kv("dir", ephemeralDir.toString()));
      }
    }
  }

  /** Time the readiness probe waits for the database. */
  public static final long READY_TIMEOUT_MS = TimeUnit.SECONDS.toMillis(1);
}
