package io.hodei.pool;

import io.hodei.common.Audit;
import io.hodei.store.ConnectionSource;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.common.Paging;
import io.hodei.common.Role;
import io.hodei.pool.provider.WorkerProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The pool domain: pools, workers and their providers. Reads are open to any token; changes need an admin. Job
 * start/kill/reap requests come from the scheduler (system caller).
 */
public final class PoolVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(PoolVerticle.class);

  private final Pool sql;
  private final ConnectionSource writerSql;
  private final PoolSettings settings;
  private final MeterRegistry registry;
  private final Function<Vertx, Map<String, WorkerProvider>> providerFactory;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private final List<Long> timers = new ArrayList<>();
  private Map<String, WorkerProvider> providers;
  private PoolManager manager;
  private PoolRequests requests;

  public PoolVerticle(Pool sql, ConnectionSource writerSql, PoolSettings settings, MeterRegistry registry,
                      Function<Vertx, Map<String, WorkerProvider>> providerFactory) {
    this.sql = sql;
    this.writerSql = writerSql;
    this.settings = settings;
    this.registry = registry;
    this.providerFactory = providerFactory;
  }

  @Override
  public Future<?> start() {
    providers = providerFactory.apply(vertx);
    PoolStore store = new PoolStore(vertx, sql, writerSql);
    manager = new PoolManager(vertx, store, providers, new Events(vertx, registry), settings, registry);
    requests = new PoolRequests(providers, settings.defaultKind(), settings.maxWorkersPerPool());
    serve(PoolAddresses.CREATE, this::create);
    serve(PoolAddresses.LIST, this::list);
    serve(PoolAddresses.GET, req -> read(req, () -> manager.pool(req.param("id")).toJson()));
    serve(PoolAddresses.UPDATE, this::update);
    serveAdmin(PoolAddresses.DELETE, "pool.delete", req -> manager.delete(req.param("id"), req.ifMatch()));
    serveAdmin(PoolAddresses.SET_STATIC, "pool.static",
        req -> manager.setStatic(req.param("id"), req.ifMatch(), requests.staticSize(req.payload())));
    serveAdmin(PoolAddresses.SET_DYNAMIC, "pool.dynamic",
        req -> manager.setDynamic(req.param("id"), req.ifMatch(), requests.dynamicBounds(req.payload())));
    serveAdmin(PoolAddresses.LIFECYCLE, "pool.lifecycle",
        req -> manager.lifecycle(req.param("id"), req.ifMatch(), requests.action(req.payload())));
    serve(PoolAddresses.WORKERS_LIST, this::listWorkers);
    serve(PoolAddresses.WORKER_GET,
        req -> read(req, () -> manager.worker(req.param("id"), req.param("worker_id"), req.caller())));
    serve(PoolAddresses.SNAPSHOT,
        req -> read(req, () -> manager.snapshot(!"false".equals(req.query("detail")), req.caller())));
    serveAdmin(PoolAddresses.WORKERS_ADD, "pool.workers.add",
        req -> manager.addWorkers(req.param("id"), requests.workerCount(req.payload())));
    serveAdmin(PoolAddresses.WORKER_REMOVE, "pool.worker.remove",
        req -> manager.removeWorker(req.param("id"), req.param("worker_id")));
    serve(PoolAddresses.WORKER_LOST, req -> {
      req.caller().requireAdmin();
      return manager.workerLost(req.param("id"), req.param("worker_id"), req.payload().getString("reason", "lost"));
    });
    serveAdmin(PoolAddresses.WORKER_CRASH, "pool.worker.crash",
        req -> manager.crash(req.param("id"), req.param("worker_id")));
    serve(PoolAddresses.JOB_START, req -> {
      req.caller().requireAdmin();
      JsonObject body = req.payload();
      List<String> poolIds = new ArrayList<>();
      body.getJsonArray("pool_ids", new JsonArray()).forEach(id -> poolIds.add(String.valueOf(id)));
      return manager.startJob(body.getJsonObject("job", new JsonObject()), poolIds);
    });
    serve(PoolAddresses.JOB_KILL, req -> {
      req.caller().requireAdmin();
      JsonObject body = req.payload();
      return manager.killJob(body.getString("worker_id", ""), body.getString("job_id", ""),
          body.getString("reason", "killed"));
    });
    serve(PoolAddresses.SCALE, req -> {
      req.caller().requireAdmin();
      JsonObject body = req.payload();
      return manager.scaleTo(body.getString("pool_id", ""), body.getInteger("target_size", 0),
          body.getString("reason", "autoscale"));
    });
    serve(PoolAddresses.JOB_OUTPUT, req -> {
      req.caller().requireAdmin();
      JsonObject body = req.payload();
      return Future.succeededFuture(new JsonObject().put("log",
          manager.liveLog(body.getString("worker_id", ""), body.getString("job_id", ""))));
    });
    serve(PoolAddresses.JOB_ADOPT, req -> {
      req.caller().requireAdmin();
      JsonObject body = req.payload();
      return manager.adoptJob(body.getString("worker_id", ""), body.getString("job_id", ""),
          body.getInteger("attempt", 0));
    });
    serve(PoolAddresses.REAP_ORPHAN, req -> {
      req.caller().requireAdmin();
      JsonObject body = req.payload();
      String started = body.getString("process_started_at");
      return manager.reapOrphan(body.getString("provider", ""), body.getLong("pid", -1L),
          started == null ? null : Instant.parse(started));
    });
    // which tenant a worker's job belongs to decides who sees its current_job_id
    consumers.add(vertx.eventBus().<JsonObject>consumer(Events.address(Events.JOB_STARTED), msg -> manager.jobStarted(
        msg.body().getString("worker_id"), msg.body().getString("job_id"), msg.body().getString("tenant_id"))));
    return manager.load()
        .compose(v -> seedConfiguredPools(store))
        .compose(v -> Future.all(consumers.stream().map(MessageConsumer::completion).toList()))
        .onSuccess(v -> {
          manager.reconcileAll();
          timers.add(vertx.setPeriodic(settings.reconcileIntervalSeconds() * 1000L, id -> manager.reconcileAll()));
          timers.add(vertx.setPeriodic(settings.healthIntervalSeconds() * 1000L, id -> manager.healthCheck()));
        });
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
        .eventually(() -> manager.shutdown())
        .eventually(() -> Future.join(providers.values().stream().map(WorkerProvider::close).toList()));
  }

  /** Creates the pools of resource_pools.pools that were never created before. */
  private Future<Void> seedConfiguredPools(PoolStore store) {
    if (!settings.enabled() || settings.configuredPools().isEmpty()) return Future.succeededFuture();
    return store.seededConfigPools().compose(seeded -> {
      Future<Void> chain = Future.succeededFuture();
      int index = 0;
      for (Map<String, Object> entry : settings.configuredPools()) {
        String where = "resource_pools.pools[" + index++ + "]";
        io.hodei.pool.Pool pool;
        try {
          pool = requests.create(new JsonObject(entry));
        } catch (DomainException e) {
          return Future.failedFuture(new IllegalStateException(where + ": " + e.detail()));
        }
        if (seeded.contains(pool.id)) continue;
        chain = chain.compose(v -> {
          boolean exists = manager.pools().stream().anyMatch(p -> p.id.equals(pool.id));
          Future<Void> created = exists ? Future.succeededFuture() : manager.create(pool).mapEmpty();
          return created.compose(x -> store.markSeeded(pool.id))
              .onSuccess(x -> LOG.info("pool from configuration", kv("pool", pool.id), kv("created", !exists)));
        });
      }
      return chain;
    });
  }

  private void serve(String address, Function<BusRequest, Future<JsonObject>> handler) {
    consumers.add(Bus.serve(vertx, address, handler));
  }

  private Future<JsonObject> read(BusRequest req, java.util.function.Supplier<JsonObject> read) {
    req.caller().requireRole(Role.VIEWER);
    return Future.succeededFuture(read.get());
  }

  /** An admin-only change: the role is checked before anything happens, and the result is audited. */
  private void serveAdmin(String address, String action, Function<BusRequest, Future<JsonObject>> handler) {
    serve(address, req -> {
      req.caller().requireAdmin();
      return handler.apply(req).onSuccess(after -> Audit.record(req, action, "pool/" + req.param("id"), null, after));
    });
  }

  private Future<JsonObject> create(BusRequest req) {
    req.caller().requireAdmin();
    io.hodei.pool.Pool pool = requests.create(req.payload());
    return manager.create(pool).onSuccess(created -> Audit.record(req, "pool.create", "pool/" + pool.id, null, created));
  }

  private Future<JsonObject> update(BusRequest req) {
    req.caller().requireAdmin();
    JsonObject changes = requests.update(req.payload());
    if (Boolean.TRUE.equals(changes.getBoolean("auto_scaling_enabled"))
        && "static".equals(manager.pool(req.param("id")).kind)) {
      throw PoolRequests.autoScalingOnStatic();
    }
    return manager.change(req.param("id"), req.ifMatch(), p -> {
      if (changes.containsKey("name")) p.name = changes.getString("name");
      if (changes.containsKey("labels")) p.labels = changes.getJsonObject("labels");
      if (changes.containsKey("price_per_worker_hour")) {
        p.pricePerWorkerHour = new java.math.BigDecimal(changes.getString("price_per_worker_hour"));
      }
      if (changes.containsKey("auto_scaling_enabled")) p.autoScalingEnabled = changes.getBoolean("auto_scaling_enabled");
    }, "updated").onSuccess(after -> Audit.record(req, "pool.update", "pool/" + req.param("id"), null, after));
  }

  private Future<JsonObject> list(BusRequest req) {
    req.caller().requireRole(Role.VIEWER);
    Paging paging = Paging.from(req);
    String state = req.query("state");
    List<JsonObject> items = manager.pools().stream()
        .filter(p -> !PoolLifecycle.DELETING.equals(p.state))
        .filter(p -> state == null || state.equals(p.state))
        .filter(p -> paging.cursor() == null || p.id.compareTo(paging.cursor()) > 0)
        .sorted(Comparator.comparing(p -> p.id))
        .limit(paging.limit() + 1L)
        .map(io.hodei.pool.Pool::toJson)
        .toList();
    return Future.succeededFuture(paging.page(items, "id"));
  }

  private Future<JsonObject> listWorkers(BusRequest req) {
    req.caller().requireRole(Role.VIEWER);
    Paging paging = Paging.from(req);
    String state = req.query("state");
    if (state != null && !WorkerState.WIRE_NAMES.contains(state)) {
      throw DomainException.unprocessable("state must be one of " + WorkerState.WIRE_NAMES);
    }
    return manager.listWorkers(req.param("id"), state, paging.cursor(), paging.limit(), req.caller());
  }
}
