package io.hodei.cluster;

import io.hodei.common.MetricCatalog;
import io.hodei.store.Fence;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Who leads the cluster: the node holding the PostgreSQL advisory lock {@link Fence#LEADER_LOCK} on a connection of
 * its own (outside every pool). Each second a follower tries the lock; a node that gets it bumps the leadership epoch
 * (under the exclusive fence lock, so the old leader's transactions in flight finish first and none of its later ones
 * commits) and starts the leader's verticles with that epoch as their {@link Fence}. The leader checks its lock
 * connection each second: when it closes, does not answer within {@value #LOST_AFTER_MS} ms, or shows another epoch,
 * or when a write is refused for a stale epoch, the node steps down at once (stops the leader's verticles) and goes
 * back to trying the lock. PostgreSQL ends a lock session silent for {@value #IDLE_SESSION_TIMEOUT} (a leader cut off
 * from the database), which releases the lock for a follower.
 */
public final class Leadership extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);
  /** How often a follower tries the lock and the leader checks its lock connection. */
  static final long CHECK_MS = 1_000;
  /** A leader whose lock connection does not answer this long steps down. */
  static final long LOST_AFTER_MS = 2_000;
  static final String IDLE_SESSION_TIMEOUT = "5s";
  static final String APPLICATION_NAME = "hodei-leadership";

  private static final String SESSION = "SET idle_session_timeout = '" + IDLE_SESSION_TIMEOUT + "'";
  private static final String TRY_LOCK = "SELECT pg_try_advisory_lock($1)";
  /** Waits for the old leader's fenced transactions in flight; a hung one is ended (see {@link #takeOver}). */
  private static final String TAKEOVER_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '3s'";
  private static final String FENCE_EXCLUSIVE = "SELECT pg_advisory_xact_lock($1)";
  private static final String BUMP = "UPDATE leadership SET epoch = epoch + 1, node = $1, since = now() WHERE id = 1 "
      + "RETURNING epoch";
  private static final String EPOCH = "SELECT epoch FROM leadership WHERE id = 1";
  /** A bigint advisory key shows in pg_locks as classid (high half), objid (low half), objsubid 1. */
  private static final String HOLDS_KEY = "k.locktype = 'advisory' AND k.classid::bigint = ($1::bigint >> 32) "
      + "AND k.objid::bigint = ($1::bigint & 4294967295) AND k.objsubid = 1";
  private static final String LEADER = "SELECT l.node FROM leadership l WHERE l.id = 1 AND EXISTS (SELECT 1 FROM "
      + "pg_locks k WHERE " + HOLDS_KEY + " AND k.granted AND k.database = (SELECT oid FROM pg_database WHERE "
      + "datname = current_database()))";
  private static final String END_FENCE_HOLDERS = "SELECT pg_terminate_backend(k.pid) FROM pg_locks k WHERE "
      + HOLDS_KEY + " AND k.granted AND k.pid <> pg_backend_pid()";

  private final PgConnectOptions connectOptions;
  private final String nodeId;
  private final LeaderDuties duties;
  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  private Counter takeovers;
  private ClusterManager clusterManager;
  private PgConnection connection;
  private boolean busy;
  private boolean leading;
  private long epoch;
  private String leader;
  private long timer = -1;
  /** Leading and stepping down, one after the other. */
  private Future<Void> duty = Future.succeededFuture();

  public Leadership(PgConnectOptions connectOptions, String nodeId, LeaderDuties duties, MeterRegistry registry) {
    this.connectOptions = new PgConnectOptions(connectOptions).setReconnectAttempts(0)
        .addProperty("application_name", APPLICATION_NAME);
    this.nodeId = nodeId;
    this.duties = duties;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    clusterManager = ((VertxInternal) vertx).clusterManager();
    meters.add(MetricCatalog.CLUSTER_MEMBERS.gauge(this, Leadership::members).register(registry));
    meters.add(MetricCatalog.LEADER.gauge(this, l -> l.leading ? 1 : 0).tag(MetricCatalog.NODE, nodeId)
        .register(registry));
    takeovers = MetricCatalog.LEADERSHIP_CHANGES.counter().register(registry);
    meters.add(takeovers);
    publish();
    timer = vertx.setPeriodic(1, CHECK_MS, id -> tick());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    meters.forEach(registry::remove);
    // the leader's verticles go first, while this node still holds the lock (their last writes pass the fence)
    boolean wasLeading = leading;
    leading = false;
    duty = duty.eventually(() -> wasLeading ? duties.stepDown() : Future.succeededFuture());
    return duty.eventually(this::closeConnection);
  }

  /** This node's id. */
  public String nodeId() { return nodeId; }

  private int members() {
    return clusterManager == null || !clusterManager.isActive() ? 0 : clusterManager.getNodes().size();
  }

  private void tick() {
    if (busy) return;
    busy = true;
    step().onComplete(ar -> {
      busy = false;
      if (ar.failed()) {
        LOG.debug("leadership check failed", kv("node", nodeId), kv("error", String.valueOf(ar.cause())));
      }
      publish();
    });
  }

  private Future<Void> step() {
    if (connection == null) return connect().compose(v -> tryLead());
    return leading ? check() : tryLead();
  }

  private Future<Void> connect() {
    return PgConnection.connect(vertx, connectOptions).timeout(LOST_AFTER_MS * 2, TimeUnit.MILLISECONDS)
        .compose(conn -> conn.query(SESSION).execute().map(conn).onFailure(err -> conn.close()))
        .map(conn -> {
          connection = conn;
          conn.closeHandler(v -> {
            if (connection == conn) {
              connection = null;
              if (leading) stepDown("the leadership connection closed");
            }
          });
          return null;
        });
  }

  private Future<Void> tryLead() {
    PgConnection conn = connection;
    return conn.preparedQuery(TRY_LOCK).execute(Tuple.of(Fence.LEADER_LOCK)).compose(rows -> {
      if (!rows.iterator().next().getBoolean(0)) return refreshLeader(conn);
      return takeOver(conn);
    });
  }

  /** Holding the lock: the next epoch, once the old leader's fenced transactions are over, then the duties. */
  private Future<Void> takeOver(PgConnection conn) {
    return conn.begin().compose(tx -> conn.query(TAKEOVER_LOCK_TIMEOUT).execute()
            .compose(x -> conn.preparedQuery(FENCE_EXCLUSIVE).execute(Tuple.of(Fence.FENCE_LOCK)))
            .compose(x -> conn.preparedQuery(BUMP).execute(Tuple.of(nodeId)))
            .compose(rows -> tx.commit().map(rows.iterator().next().getLong(0)))
            .onFailure(err -> tx.rollback()))
        .recover(err -> {
          if (err instanceof PgException pg && "55P03".equals(pg.getSqlState())) {
            // a transaction of the old leader holds the fence and does not end (its client is gone): end it
            LOG.warn("a fenced transaction of the previous leader does not end; ending its session",
                kv("node", nodeId));
            return conn.preparedQuery(END_FENCE_HOLDERS).execute(Tuple.of(Fence.FENCE_LOCK))
                .compose(x -> Future.failedFuture(err));
          }
          return Future.failedFuture(err);
        })
        .compose(this::lead);
  }

  private Future<Void> lead(long newEpoch) {
    leading = true;
    epoch = newEpoch;
    leader = nodeId;
    takeovers.increment();
    LOG.info("this node leads the cluster", kv("node", nodeId), kv("epoch", newEpoch));
    publish();
    Fence fence = new Fence(newEpoch, () -> context.runOnContext(v -> {
      if (leading && epoch == newEpoch) stepDown("a write was refused: another node leads");
    }));
    duty = duty.eventually(() -> leading && epoch == newEpoch ? duties.lead(fence) : Future.succeededFuture())
        .recover(err -> {
          LOG.error("the leader's verticles did not start; stepping down", kv("node", nodeId), err);
          return stepDown("the leader's verticles did not start");
        });
    return duty;
  }

  /** The leader's lock connection answers and shows its epoch, or the node steps down. */
  private Future<Void> check() {
    PgConnection conn = connection;
    long mine = epoch;
    return conn.query(EPOCH).execute().timeout(LOST_AFTER_MS, TimeUnit.MILLISECONDS)
        .compose(rows -> {
          long current = rows.iterator().next().getLong(0);
          return current == mine ? Future.<Void>succeededFuture()
              : stepDown("another node took over (epoch " + current + ")");
        }, err -> stepDown("the leadership connection does not answer: " + err.getMessage()));
  }

  private Future<Void> refreshLeader(PgConnection conn) {
    return conn.preparedQuery(LEADER).execute(Tuple.of(Fence.LEADER_LOCK)).map(rows -> {
      leader = rows.size() == 0 ? null : rows.iterator().next().getString(0);
      return null;
    });
  }

  /** Stops leading at once: the lock connection is closed (releasing the lock) and the duties are stopped. */
  private Future<Void> stepDown(String reason) {
    if (!leading) return Future.succeededFuture();
    leading = false;
    leader = null;
    LOG.warn("this node steps down as the cluster's leader", kv("node", nodeId), kv("epoch", epoch),
        kv("reason", reason));
    closeConnection();
    publish();
    duty = duty.eventually(duties::stepDown).recover(err -> {
      LOG.error("stopping the leader's verticles failed", kv("node", nodeId), err);
      return Future.succeededFuture();
    });
    return duty;
  }

  private Future<Void> closeConnection() {
    PgConnection conn = connection;
    connection = null;
    return conn == null ? Future.succeededFuture() : conn.close().recover(err -> Future.succeededFuture());
  }

  private void publish() {
    ClusterStatus.publish(vertx, nodeId, leader, members());
  }
}
