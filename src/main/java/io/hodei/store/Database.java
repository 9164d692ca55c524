package io.hodei.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The PostgreSQL source of truth: starts the embedded server when no URL is configured (locked down: see
 * {@link EmbeddedDataDir}; supervised: see {@link EmbeddedPostmaster}), migrates the schema with Flyway (blocking, off
 * the event loop) and hands out the reactive pool used for all runtime SQL. On the embedded server Hodei connects as
 * role {@value EmbeddedDataDir#ROLE} to database {@value EmbeddedDataDir#DATABASE}, never as a superuser.
 */
public final class Database {
  private static final Logger LOG = LoggerFactory.getLogger(Database.class);

  private static final String LOOPBACK = "127.0.0.1";

  private final Embedded embedded;
  /** {@code application_name} of the metrics subsystem's connections (how PostgreSQL and its operators see them). */
  public static final String METRICS_APPLICATION_NAME = "hodei-metrics";
  /** Connections of the metrics pool: history writes and queries, the runtime sampler's statistics. */
  static final int METRICS_POOL_SIZE = 2;

  private final Pool pool;
  private final Pool metricsPool;
  private final ConnectionSource writerConnections;
  private final PgConnectOptions connectOptions;

  private Database(Embedded embedded, Pool pool, Pool metricsPool, ConnectionSource writerConnections,
                   PgConnectOptions connectOptions) {
    this.embedded = embedded;
    this.pool = pool;
    this.metricsPool = metricsPool;
    this.writerConnections = writerConnections;
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
   * Connections for the domains' group-commit writers: each its own, outside the pools ({@code application_name}
   * hodei-writers), so a writer retrying after an outage never queues behind requests, and a connection it gave up
   * on is closed for good.
   */
  public ConnectionSource writerConnections() { return writerConnections; }

  /** Where the database is (for connections of their own, such as the cluster's leadership lock). */
  public PgConnectOptions connectOptions() { return connectOptions; }

  /** A short, safe description for logs: never the password. */
  public String describe() {
    return (embedded != null ? "embedded " : "") + "postgresql://" + connectOptions.getHost() + ":"
        + connectOptions.getPort() + "/" + connectOptions.getDatabase();
  }

  public static Future<Database> start(Vertx vertx, DatabaseConfig config) {
    return vertx.executeBlocking(() -> startBlocking(vertx, config), false);
  }

  private static Database startBlocking(Vertx vertx, DatabaseConfig config) throws IOException {
    Embedded embedded = null;
    PgConnectOptions options;
    try {
      if (config.url() == null || config.url().isBlank()) {
        embedded = Embedded.start(config);
        options = new PgConnectOptions().setHost(LOOPBACK).setPort(embedded.postmaster().port())
            .setDatabase(EmbeddedDataDir.DATABASE).setUser(EmbeddedDataDir.ROLE)
            .setPassword(embedded.dataDir().rolePassword());
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
      ConnectionSource writers = ConnectionSource.dedicated(vertx,
          new PgConnectOptions(options).addProperty("application_name", "hodei-writers"));
      return new Database(embedded, pool, metricsPool, writers, options);
    } catch (RuntimeException | IOException e) {
      if (embedded != null) embedded.close();
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

  /**
   * Stops the embedded server, and its supervision, without closing the pool (used by tests to simulate an outage
   * that lasts: a postmaster that dies by itself is restarted). Blocking: never on an event loop.
   */
  public void stopEmbeddedServer() {
    if (embedded != null) embedded.postmaster().stop();
  }

  /** The embedded server (its port, data directory and postmaster), or null on an external database. */
  public EmbeddedPostmaster embeddedPostmaster() {
    return embedded == null ? null : embedded.postmaster();
  }

  public Future<Void> close(Vertx vertx) {
    return Future.join(pool.close(), metricsPool.close()).<Void>mapEmpty()
        .recover(err -> Future.succeededFuture())
        .compose(v -> vertx.executeBlocking(() -> {
          if (embedded != null) embedded.close();
          return null;
        }, false));
  }

  /** The embedded server's parts, stopped together, in order. */
  private record Embedded(EmbeddedDataDir dataDir, EmbeddedPostmaster postmaster, Path ephemeralDir) {
    static Embedded start(DatabaseConfig config) throws IOException {
      Path ephemeralDir = config.ephemeral() ? Files.createTempDirectory("hodei-pg-") : null;
      Path dir = ephemeralDir != null ? ephemeralDir : config.dataDir().toAbsolutePath().normalize();
      EmbeddedDataDir dataDir = null;
      try {
        PgBinaries binaries = PgBinaries.unpacked();
        dataDir = EmbeddedDataDir.open(dir, binaries, config.embeddedDurable() && !config.ephemeral());
        int port = config.embeddedPort() > 0 ? config.embeddedPort() : freePort();
        EmbeddedPostmaster postmaster = EmbeddedPostmaster.start(binaries, dir, port, serverSettings(config));
        LOG.info("embedded PostgreSQL started", kv("data_dir", dir.toString()), kv("port", port),
            kv("ephemeral", config.ephemeral()), kv("role", EmbeddedDataDir.ROLE));
        return new Embedded(dataDir, postmaster, ephemeralDir);
      } catch (IOException | RuntimeException e) {
        if (dataDir != null) dataDir.close();
        removeEphemeral(ephemeralDir);
        throw e;
      }
    }

    void close() {
      postmaster.stop();
      dataDir.close();
      removeEphemeral(ephemeralDir);
    }
  }

  private static Map<String, String> serverSettings(DatabaseConfig config) {
    Map<String, String> settings = new LinkedHashMap<>();
    // loopback only, and no Unix socket (its directory would be shared, and its path length is limited)
    settings.put("listen_addresses", LOOPBACK);
    settings.put("unix_socket_directories", "");
    settings.put("password_encryption", "scram-sha-256");
    settings.put("max_connections", "100");
    settings.put("timezone", "UTC");
    // fast but unsafe when off: an acknowledged job could be lost (or the cluster damaged) by a crash of the machine
    settings.put("fsync", config.embeddedDurable() ? "on" : "off");
    settings.put("synchronous_commit", config.embeddedDurable() ? "on" : "off");
    return settings;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
      return socket.getLocalPort();
    }
  }

  private static void removeEphemeral(Path ephemeralDir) {
    if (ephemeralDir == null || !Files.exists(ephemeralDir)) return;
    try (Stream<Path> paths = Files.walk(ephemeralDir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("could not remove the throw-away database directory", kv("dir", ephemeralDir.toString()));
    }
  }

  /** Time the readiness probe waits for the database. */
  public static final long READY_TIMEOUT_MS = TimeUnit.SECONDS.toMillis(1);
}
