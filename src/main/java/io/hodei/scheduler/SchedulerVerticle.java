package io.hodei.scheduler;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.common.JsonInput;
import io.hodei.common.Paging;
import io.hodei.common.Role;
import io.hodei.pool.PoolAddresses;
import io.hodei.store.ConnectionSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The scheduler domain: job submission, queries and cancellation over the event bus; placement runs on job, worker
 * and pool events and on a short timer. Jobs belong to tenants: a tenant token sees and changes only its own.
 */
public final class SchedulerVerticle extends VerticleBase {
  /** How long a stop waits for queued job writes to commit. */
  static final long SHUTDOWN_DRAIN_SECONDS = 10;
  private final Pool sql;
  private final ConnectionSource writerSql;
  private final SchedulerSettings settings;
  private final MeterRegistry registry;
  private SchedulerMetrics schedulerMetrics;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private static final Logger LOG = LoggerFactory.getLogger(SchedulerVerticle.class);
  private final List<Long> timers = new ArrayList<>();
  /** Between passes over finished jobs older than the retention. */
  static final long TRIM_INTERVAL_MS = 3_600_000;
  private boolean trimming;
  private Scheduler scheduler;
  private WaitExplainer explainer;
  private JobStore store;
  private JobRequests requests;
  private TenantCache tenants;
  private PoolView pools;
  private Events events;

  /** {@code writerSql}: where the job writer connects (see {@code Database#writerConnections}). */
  public SchedulerVerticle(Pool sql, ConnectionSource writerSql, SchedulerSettings settings,
                           MeterRegistry registry) {
    this.sql = sql;
    this.writerSql = writerSql;
    this.settings = settings;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    store = new JobStore(vertx, sql, writerSql);
    requests = new JobRequests(settings);
    tenants = new TenantCache(vertx);
    pools = new PoolView(vertx);
    events = new Events(vertx, registry);
    schedulerMetrics = new SchedulerMetrics(registry);
    tenants.watch(schedulerMetrics::tenantKnown, schedulerMetrics::tenantGone);
    scheduler = new Scheduler(vertx, store, tenants, pools, settings, schedulerMetrics, events);
    explainer = new WaitExplainer(scheduler.view());

    consumers.add(vertx.eventBus().<JsonObject>consumer(PoolAddresses.RUN_ENDED,
        msg -> scheduler.runEnded(msg.body())));
    consumers.add(vertx.eventBus().<JsonObject>consumer(Events.address(Events.WORKER_STATE), msg -> {
      JsonObject event = msg.body();
      pools.workerMoved(event.getString("pool_id"), event.getString("from"), event.getString("to"));
      if ("idle".equals(event.getString("to"))) scheduler.capacityChanged();
    }));
    for (String type : List.of(Events.POOL_STATE, Events.POOL_RESIZED)) {
      consumers.add(vertx.eventBus().<JsonObject>consumer(Events.address(type),
          msg -> pools.refresh().onSuccess(v -> scheduler.capacityChanged())));
    }
    store.onRecovered(scheduler::reconcile);
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .compose(v -> tenants.start())
        .compose(v -> pools.refresh())
        .compose(v -> scheduler.recover())
        // requests are served once the state is rebuilt (a cluster node taking over is reached at once)
        .compose(v -> serveRequests())
        .onSuccess(v -> {
          timers.add(vertx.setPeriodic(settings.tickMillis(), id -> {
            scheduler.tick();
            checkSlas();
          }));
          timers.add(vertx.setPeriodic(2000, id -> pools.refresh().onSuccess(x -> scheduler.capacityChanged())));
          if (settings.jobRetentionDays() > 0) {
            trimJobs();
            timers.add(vertx.setPeriodic(TRIM_INTERVAL_MS, id -> trimJobs()));
          }
          scheduler.dispatch();
        });
  }

  /** Deletes the jobs that ended more than scheduler.job_retention_days ago (one pass at a time). */
  private void trimJobs() {
    if (trimming) return;
    trimming = true;
    Instant cutoff = Instant.now().minus(java.time.Duration.ofDays(settings.jobRetentionDays()));
    store.trim(cutoff).onComplete(ar -> {
      trimming = false;
      if (ar.failed()) LOG.warn("finished jobs not trimmed; the next pass retries", ar.cause());
      else if (ar.result() > 0) {
        LOG.info("finished jobs trimmed", kv("jobs", ar.result()), kv("ended_before", cutoff.toString()));
      }
    });
  }

  private Future<?> serveRequests() {
    List<MessageConsumer<?>> requests = new ArrayList<>();
    int before = consumers.size();
    // submissions answer with views built for the reply: handed over without a copy
    consumers.add(Bus.serveHandingOver(vertx, SchedulerAddresses.SUBMIT, this::submit));
    consumers.add(Bus.serveHandingOver(vertx, SchedulerAddresses.SUBMIT_BATCH, this::submitBatch));
    serve(SchedulerAddresses.GET, this::get);
    serve(SchedulerAddresses.LIST, this::list);
    serve(SchedulerAddresses.CANCEL, req -> scheduler.cancel(req.param("id"), req.caller()));
    serve(SchedulerAddresses.EVENTS, req -> owned(req).compose(row -> store.events(row.getString("id")))
        .map(items -> new JsonObject().put("job_id", req.param("id")).put("items", items)));
    serve(SchedulerAddresses.EVENTS_SINCE, this::eventsSince);
    serve(SchedulerAddresses.LOGS, req -> owned(req).compose(row -> store.logs(row.getString("id")))
        .compose(items -> withLiveOutput(req.param("id"), items))
        .map(items -> new JsonObject().put("job_id", req.param("id")).put("attempts", items)));
    serve(SchedulerAddresses.SLA, this::sla);
    serve(SchedulerAddresses.QUEUE_STATUS, req -> {
      req.caller().requireRole(Role.VIEWER);
      return Future.succeededFuture(explainer.queueStatus(req.caller()));
    });
    serve(SchedulerAddresses.QUOTA_ENFORCE, this::enforce);
    serve(SchedulerAddresses.REPRIORITIZE, this::reprioritize);
    requests.addAll(consumers.subList(before, consumers.size()));
    return Future.all(requests.stream().map(MessageConsumer::completion).toList());
  }

  @Override
  public Future<?> stop() {
    scheduler.stop();
    timers.forEach(vertx::cancelTimer);
    // writes waiting for an unavailable database are given up after a bounded wait: the database stays the judge,
    // and the next start takes up from it whatever they would have changed
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
        .eventually(() -> store.drain().timeout(SHUTDOWN_DRAIN_SECONDS, java.util.concurrent.TimeUnit.SECONDS)
            .onFailure(err -> store.close()))
        .eventually(tenants::stop);
  }

  private void serve(String address, Function<BusRequest, Future<JsonObject>> handler) {
    consumers.add(Bus.serve(vertx, address, handler));
  }

  private Future<JsonObject> submit(BusRequest req) {
    Job job = requests.parse(req.payload(), req.caller(), req.idempotencyKey(), null);
    job.traceId = req.traceId();
    return scheduler.submit(List.of(job)).map(views -> views.get(0));
  }

  private Future<JsonObject> submitBatch(BusRequest req) {
    JsonInput in = JsonInput.of(req.payload(), "jobs");
    in.validate();
    Object raw = req.payload().getValue("jobs");
    if (!(raw instanceof JsonArray array) || array.isEmpty()) {
      throw DomainException.unprocessable("jobs must be a non-empty array of job submissions");
    }
    if (array.size() > JobRequests.MAX_BATCH) {
      throw DomainException.unprocessable("a batch holds at most " + JobRequests.MAX_BATCH + " jobs");
    }
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonObject body)) throw DomainException.badRequest("jobs[" + i + "] must be an object");
      try {
        Job job = requests.parse(body, req.caller(), null, "jobs[" + i + "]: ");
        job.traceId = req.traceId();
        jobs.add(job);
      } catch (DomainException e) {
        throw prefixed(e, i);
      }
    }
    try {
      return scheduler.submit(jobs).map(views -> new JsonObject().put("items", new JsonArray(new ArrayList<>(views))));
    } catch (DomainException e) {
      // the scheduler refuses the whole batch for one job that no pool could run: name that job's field
      for (int i = 0; i < jobs.size(); i++) {
        JsonObject field = unplaceableField(e, jobs.get(i));
        if (field != null) throw prefixed(withError(e, field), i);
      }
      throw e;
    }
  }

  /**
   * The field that makes a job unplaceable, when {@code e} is the scheduler's refusal of a job no pool could ever
   * run and {@code job} is one it refuses: its pool selector (no pool matches it) or its size (no matching pool's
   * workers are large enough). Null otherwise.
   */
  private JsonObject unplaceableField(DomainException e, Job job) {
    String reason = e.extensions().getString("reason");
    if ("no_matching_pool".equals(reason) && pools.matching(job).isEmpty()) {
      return job.poolId != null
          ? fieldError("pool_id", "pool '" + job.poolId + "' does not exist")
          : fieldError("pool_labels", "no pool has the labels " + job.poolLabels.encode());
    }
    if ("too_large_for_pools".equals(reason) && !pools.matching(job).isEmpty() && pools.fitting(job).isEmpty()) {
      boolean cpuFits = pools.matching(job).stream().anyMatch(p -> p.getLong("worker_cpu_m") >= job.cpuM);
      return cpuFits ? fieldError("memory_mb", job.memoryMb + " MB is more than any matching worker has")
          : fieldError("cpu_m", job.cpuM + "m is more than any matching worker has");
    }
    return null;
  }

  private static JsonObject fieldError(String field, String message) {
    return new JsonObject().put("field", field).put("message", message);
  }

  private static DomainException withError(DomainException e, JsonObject error) {
    JsonObject ext = e.extensions().copy();
    JsonArray errors = ext.getJsonArray("errors", new JsonArray()).copy().add(error);
    return new DomainException(e.status(), e.title(), e.detail(), ext.put("errors", errors));
  }

  private static DomainException prefixed(DomainException e, int index) {
    JsonObject ext = e.extensions().copy().put("index", index);
    JsonArray errors = ext.getJsonArray("errors");
    if (errors != null) {
      JsonArray renamed = new JsonArray();
      errors.forEach(err -> renamed.add(((JsonObject) err).copy()
          .put("field", "jobs[" + index + "]." + ((JsonObject) err).getString("field"))));
      ext.put("errors", renamed);
    }
    String detail = e.detail().startsWith("jobs[") ? e.detail() : "jobs[" + index + "]: " + e.detail();
    return new DomainException(e.status(), e.title(), detail, ext);
  }

  /** The stored job if the caller may see it (404 otherwise, also for another tenant's job). */
  /**
   * A running job's stored logs plus its current attempt's output so far ({@code "live": true}), which the pool
   * domain holds until the attempt ends and its log is stored.
   */
  private Future<JsonArray> withLiveOutput(String id, JsonArray stored) {
    Job open = scheduler.view().held(id);
    if (open == null || open.state != JobState.RUNNING || open.workerId == null || open.attempts < 1) {
      return Future.succeededFuture(stored);
    }
    int attempt = open.attempts;
    for (Object item : stored) {
      if (((JsonObject) item).getInteger("attempt", 0) == attempt) return Future.succeededFuture(stored);
    }
    JsonObject body = new JsonObject().put("job_id", id).put("worker_id", open.workerId);
    return Bus.request(vertx, PoolAddresses.JOB_OUTPUT, BusRequest.envelope(new JsonObject(), new JsonObject(), body,
        null), Caller.system(), null).map(reply -> {
          String log = reply.getString("log");
          if (log == null) return stored;
          return stored.copy().add(new JsonObject().put("attempt", attempt).put("log", log)
              .put("at", java.time.Instant.now().toString()).put("live", true));
        }).otherwise(stored);
  }

  private Future<JsonObject> owned(BusRequest req) {
    String id = req.param("id");
    return store.get(id).map(row -> {
      req.caller().requireOwner("job", id, row.getString("tenant_id"), Role.VIEWER);
      return row;
    });
  }

  private Future<JsonObject> get(BusRequest req) {
    return owned(req).map(row -> {
      Job open = scheduler.view().held(row.getString("id"));
      if (open == null) return row;
      // The row was read on another connection: a write of this job may have committed after that read began.
      // Show whichever is newer, the row or the job's last committed write, never a write not committed yet:
      // a client that saw a state never reads an earlier one afterwards.
      JsonObject committed = open.committed;
      if (committed != null && committed.getLong("version") > row.getLong("version", 0L)) {
        committed.forEach(field -> row.put(field.getKey(), field.getValue()));
      }
      if (open.waiting() && JobState.QUEUED.wire().equals(row.getString("state"))) {
        row.put("waiting", explainer.explain(open));
      }
      return row;
    });
  }

  private Future<JsonObject> list(BusRequest req) {
    Caller caller = req.caller();
    caller.requireRole(Role.VIEWER);
    Paging paging = Paging.from(req);
    String state = req.query("state");
    if (state != null && !JobState.WIRE_NAMES.contains(state)) {
      throw DomainException.unprocessable("state must be one of " + JobState.WIRE_NAMES);
    }
    String tenant = req.query("tenant");
    if (!caller.isAdmin()) {
      if (tenant != null) caller.requireTenant(tenant, Role.VIEWER);
      tenant = caller.tenantId();
    }
    return store.list(tenant, state, req.query("pool"), paging.cursor(), paging.limit() + 1)
        .map(items -> paging.page(items, "id"));
  }

  /**
   * The event log after a sequence, for watchers (gRPC WatchJobs). A tenant token reads only its tenant (another
   * tenant, or another tenant's job, is 404); an admin reads any tenant, or all.
   */
  private Future<JsonObject> eventsSince(BusRequest req) {
    Caller caller = req.caller();
    caller.requireRole(Role.VIEWER);
    long after = wholeNumber(req.query("after"), "after", 0, Long.MAX_VALUE, 0);
    int limit = (int) wholeNumber(req.query("limit"), "limit", 1, 1000, 500);
    String tenant = req.query("tenant");
    String jobId = req.query("job");
    if (!caller.isAdmin()) {
      if (tenant != null) caller.requireTenant(tenant, Role.VIEWER);
      tenant = caller.tenantId();
    }
    String tenantId = tenant;
    Future<Void> visible = jobId == null ? Future.succeededFuture() : store.get(jobId).map(row -> {
      caller.requireOwner("job", jobId, row.getString("tenant_id"), Role.VIEWER);
      return null;
    });
    return visible.compose(v -> store.eventsSince(after, tenantId, jobId, limit));
  }

  private static long wholeNumber(String raw, String name, long min, long max, long absent) {
    if (raw == null) return absent;
    long value;
    try {
      value = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw DomainException.badRequest(name + " must be a whole number");
    }
    if (value < min || value > max) throw DomainException.unprocessable(name + " must be between " + min + " and " + max);
    return value;
  }

  private Future<JsonObject> sla(BusRequest req) {
    return owned(req).map(row -> {
      Job open = scheduler.view().open(row.getString("id"));
      return open != null ? explainer.sla(open) : WaitExplainer.slaOfFinished(row);
    });
  }

  /** Would this request be allowed now? Answers with the reason and the headroom left. */
  private Future<JsonObject> enforce(BusRequest req) {
    Caller caller = req.caller();
    JsonInput in = JsonInput.of(req.payload(), "tenant_id", "cpu_m", "memory_mb", "jobs");
    String tenantId = in.string("tenant_id", false, 63);
    Long cpu = in.integer("cpu_m", false, 0, JobRequests.MAX_CPU_M);
    Long memory = in.integer("memory_mb", false, 0, JobRequests.MAX_MEMORY_MB);
    Long count = in.integer("jobs", false, 1, JobRequests.MAX_BATCH);
    in.validate();
    String id = caller.isAdmin() ? tenantId : caller.tenantId();
    if (id == null) throw DomainException.unprocessable("an admin names the tenant: give tenant_id");
    caller.requireTenant(id, Role.VIEWER);
    TenantCache.Tenant tenant = tenants.get(id);
    if (tenant == null) throw DomainException.notFound("tenant", id);
    long n = count == null ? 1 : count;
    long wantCpu = (cpu == null ? 100 : cpu) * n;
    long wantMemory = (memory == null ? 128 : memory) * n;
    TenantUsage.Usage u = scheduler.view().usage(id);
    int queued = scheduler.view().queued(id);
    JsonObject headroom = new JsonObject()
        .put("jobs", tenant.maxConcurrent() - u.jobs())
        .put("cpu_m", tenant.cpuM() - u.cpuM())
        .put("memory_mb", tenant.memoryMb() - u.memoryMb())
        .put("queued_jobs", tenant.maxQueued() - queued);
    String reason = null;
    if (!tenant.active()) reason = "tenant_suspended";
    else if (queued + n > tenant.maxQueued()) reason = "quota_max_queued_jobs";
    else if (u.jobs() + n > tenant.maxConcurrent()) reason = "quota_max_concurrent_jobs";
    else if (u.cpuM() + wantCpu > tenant.cpuM()) reason = "quota_cpu";
    else if (u.memoryMb() + wantMemory > tenant.memoryMb()) reason = "quota_memory";
    boolean queuable = reason == null || (!reason.equals("tenant_suspended") && !reason.equals("quota_max_queued_jobs"));
    return Future.succeededFuture(new JsonObject().put("tenant_id", id).put("allowed", reason == null)
        .put("would_queue", queuable).put("reason", reason == null ? "within quota" : reason)
        .put("headroom", headroom)
        .put("quota", new JsonObject().put("cpu_m", tenant.cpuM()).put("memory_mb", tenant.memoryMb())
            .put("max_concurrent_jobs", tenant.maxConcurrent()).put("max_queued_jobs", tenant.maxQueued())));
  }

  /**
   * A queued job's new priority: written first (only while the job is queued in the database), then applied to its
   * place in the queue. A job that left the queue (placed, finished) is a conflict: its priority no longer matters.
   */
  private Future<JsonObject> reprioritize(BusRequest req) {
    JsonInput in = JsonInput.of(req.payload(), "priority");
    Long priority = in.integer("priority", true, 0, 100);
    in.validate();
    return owned(req).compose(row -> {
      String id = row.getString("id");
      req.caller().requireOwner("job", id, row.getString("tenant_id"), Role.SUBMITTER);
      Job job = scheduler.view().open(id);
      if (job == null || job.state != JobState.QUEUED) {
        return Future.failedFuture(notQueued(id, job == null ? row.getString("state") : job.state.wire()));
      }
      return store.reprioritize(id, priority.intValue()).compose(updated -> {
        if (!updated) return Future.failedFuture(notQueued(id, job.state.wire()));
        scheduler.reprioritized(job, priority.intValue());
        return get(req);
      });
    });
  }

  private static DomainException notQueued(String id, String state) {
    return new DomainException(409, "Conflict", "job " + id + " is " + state
        + ", not queued: only a waiting job's priority can change", new JsonObject().put("allowed_actions",
        new JsonArray()));
  }

  /** Publishes SLA transitions (at_risk, breached) once per job and counts them. */
  private void checkSlas() {
    // only jobs with a deadline, without a copy: nothing here changes the open jobs (events are delivered later)
    for (Job job : scheduler.view().slaJobs()) {
      if (job.slaDeadline == null) continue;
      String status = explainer.sla(job).getString("status");
      if (status.equals(job.slaStatus) || status.equals("on_track")) {
        job.slaStatus = status;
        continue;
      }
      job.slaStatus = status;
      events.publish(status.equals("breached") ? Events.SLA_BREACHED : Events.SLA_AT_RISK, new JsonObject()
          .put("job_id", job.id).put("tenant_id", job.tenantId).put("deadline", job.slaDeadline.toString())
          .put("state", job.state.wire()));
      schedulerMetrics.sla(status);
    }
  }
}
