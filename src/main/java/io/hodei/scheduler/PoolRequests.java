package io.hodei.scheduler;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.pool.PoolAddresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/** What the scheduler asks of the pool domain over the event bus: start a job, kill it, reap an orphan. */
final class PoolRequests implements Dispatcher.Starter {
  private static final Logger LOG = LoggerFactory.getLogger(PoolRequests.class);
  private final Vertx vertx;
  private final PoolView pools;

  PoolRequests(Vertx vertx, PoolView pools) {
    this.vertx = vertx;
    this.pools = pools;
  }

  @Override
  public Future<JsonObject> start(Job job, List<String> poolIds) {
    JsonObject spec = new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
        .put("command", job.command).put("env", job.env)
        .put("payload", job.payload).put("timeout_s", job.timeoutSeconds).put("cpu_m", job.cpuM)
        .put("memory_mb", job.memoryMb).put("attempt", job.attempts + 1);
    JsonObject body = new JsonObject().put("job", spec).put("pool_ids", new JsonArray(new ArrayList<>(poolIds)));
    return request(PoolAddresses.JOB_START, body);
  }

  /** Kills the job's process on its worker; a failure is logged (the run's end report follows a kill). */
  void kill(Job job, String reason) {
    JsonObject body = new JsonObject().put("job_id", job.id).put("worker_id", job.workerId).put("reason", reason);
    request(PoolAddresses.JOB_KILL, body).onFailure(err -> LOG.warn("kill failed", kv("job_id", job.id), err));
  }

  /**
   * After a restart: asks the pool domain to take up a job that was running on a worker it kept (a remote agent
   * may still run it). True when it did: the run's end will be reported as any run's. False on any failure.
   */
  Future<Boolean> adopt(Job job) {
    if (job.workerId == null || job.attempts < 1) return Future.succeededFuture(false);
    JsonObject body = new JsonObject().put("job_id", job.id).put("worker_id", job.workerId)
        .put("attempt", job.attempts);
    return request(PoolAddresses.JOB_ADOPT, body).map(r -> r.getBoolean("adopted", false)).otherwise(false);
  }

  /**
   * Kills the process of a job that a previous server process (or this one, before it lost track of the job)
   * started, if it still runs, so it cannot run twice. Completes when the pool domain answered, whatever it said.
   */
  Future<Void> reap(Job job) {
    JsonObject pool = job.placedPoolId == null ? null : pools.pool(job.placedPoolId);
    if (pool == null || job.pid <= 0 || job.processStartedAt == null) return Future.succeededFuture();
    JsonObject body = new JsonObject().put("provider", pool.getString("provider")).put("pid", job.pid)
        .put("process_started_at", io.hodei.common.Instants.format(job.processStartedAt));
    return request(PoolAddresses.REAP_ORPHAN, body).map(r -> {
      if (r.getBoolean("reaped", false)) LOG.warn("killed an orphaned job process", kv("job_id", job.id));
      return (Void) null;
    }).otherwise((Void) null);
  }

  private Future<JsonObject> request(String address, JsonObject body) {
    return Bus.request(vertx, address, BusRequest.envelope(new JsonObject(), new JsonObject(), body, null),
        Caller.system(), null);
  }
}
