package io.hodei.scheduler;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.pool.PoolAddresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scheduler's cached view of pools (no per-worker detail): which pools a job's selector matches, whether any
 * could ever fit it, the cluster capacity used for fair shares, and why capacity is missing. Refreshed on pool events
 * and on a timer; decisions never wait for it.
 */
final class PoolView {
  private final Vertx vertx;
  private Map<String, JsonObject> pools = Map.of();
  private long capacityCpuM;
  private long capacityMemoryMb;
  /** Bumped by every refresh: a job's cached answer of {@link #accepting} holds while it is unchanged. */
  private long generation = 1;
  /**
   * Idle workers per pool as last heard: the snapshot of the last refresh, then every worker.state event. It only
   * gates placement attempts (a request to a pool with no idle worker is a wasted round trip); the pool manager
   * decides, and a refusal sets the estimate back to none.
   */
  private final Map<String, Integer> idle = new HashMap<>();

  PoolView(Vertx vertx) { this.vertx = vertx; }

  Future<Void> refresh() {
    JsonObject query = new JsonObject().put("detail", "false");
    return Bus.request(vertx, PoolAddresses.SNAPSHOT, BusRequest.envelope(new JsonObject(), query, new JsonObject(),
        null), Caller.system(), null).map(snapshot -> {
          apply(snapshot);
          return null;
        });
  }

  /** Takes the pool domain's snapshot ({@code {"pools": [pool JSON with "workers" counts]}}) as the view. */
  void apply(JsonObject snapshot) {
    Map<String, JsonObject> next = new LinkedHashMap<>();
    snapshot.getJsonArray("pools").forEach(p -> next.put(((JsonObject) p).getString("id"), (JsonObject) p));
    pools = next;
    generation++;
    idle.clear();
    next.forEach((id, p) -> idle.put(id, p.getJsonObject("workers").getLong("idle", 0L).intValue()));
    capacityCpuM = capacity("worker_cpu_m");
    capacityMemoryMb = capacity("worker_memory_mb");
  }

  JsonObject pool(String id) { return pools.get(id); }

  /** Pools the job's selector names, whatever their state. */
  List<JsonObject> matching(Job job) {
    List<JsonObject> result = new ArrayList<>();
    for (JsonObject p : pools.values()) {
      if ("deleting".equals(p.getString("state"))) continue;
      if (job.poolId != null) {
        if (job.poolId.equals(p.getString("id"))) result.add(p);
      } else if (labelsMatch(p.getJsonObject("labels"), job.poolLabels)) {
        result.add(p);
      }
    }
    return result;
  }

  /** Matching pools whose worker shape can hold the job. */
  List<JsonObject> fitting(Job job) {
    return matching(job).stream().filter(p -> p.getLong("worker_cpu_m") >= job.cpuM
        && p.getLong("worker_memory_mb") >= job.memoryMb).toList();
  }

  /**
   * Fitting pools that take new jobs now. Asked for every placement and, for every queued job, by the queue status:
   * the answer depends only on the job's selector and shape and on this view, so each job keeps it until the next
   * refresh.
   */
  List<String> accepting(Job job) {
    if (job.acceptingGeneration != generation) {
      job.accepting = fitting(job).stream().filter(p -> accepts(p.getString("state"))).map(p -> p.getString("id"))
          .toList();
      job.acceptingGeneration = generation;
    }
    return job.accepting;
  }

  /** Idle workers of the given pools, as far as this view has heard. */
  int idleWorkers(List<String> poolIds) {
    int total = 0;
    for (String id : poolIds) total += idle.getOrDefault(id, 0);
    return total;
  }

  /** A worker.state event: a worker left or reached idle. */
  void workerMoved(String poolId, String from, String to) {
    if (poolId == null) return;
    if ("idle".equals(from)) idle.computeIfPresent(poolId, (id, n) -> Math.max(0, n - 1));
    if ("idle".equals(to)) idle.merge(poolId, 1, Integer::sum);
  }

  /** The pool manager found no idle worker for a job in these pools. */
  void noIdleWorker(List<String> poolIds) {
    for (String id : poolIds) idle.put(id, 0);
  }

  static boolean accepts(String state) { return "active".equals(state) || "creating".equals(state); }

  /**
   * Total CPU of live workers in pools that take jobs, as of the last refresh: the denominator of fair shares (every
   * dispatch reads it for each tenant's share).
   */
  long capacityCpuM() { return capacityCpuM; }

  long capacityMemoryMb() { return capacityMemoryMb; }

  private long capacity(String field) {
    long total = 0;
    for (JsonObject p : pools.values()) {
      if (!accepts(p.getString("state"))) continue;
      JsonObject w = p.getJsonObject("workers");
      long live = w.getLong("idle", 0L) + w.getLong("busy", 0L) + w.getLong("provisioning", 0L);
      total += live * p.getLong(field);
    }
    return total;
  }

  /** Live workers (idle + busy) of the given pools. */
  long workers(List<String> poolIds) {
    long total = 0;
    for (String id : poolIds) {
      JsonObject p = pools.get(id);
      if (p == null) continue;
      JsonObject w = p.getJsonObject("workers");
      total += w.getLong("idle", 0L) + w.getLong("busy", 0L);
    }
    return total;
  }

  private static boolean labelsMatch(JsonObject poolLabels, JsonObject wanted) {
    if (wanted == null || wanted.isEmpty()) return true;
    if (poolLabels == null) return false;
    for (String key : wanted.fieldNames()) {
      if (!wanted.getValue(key).equals(poolLabels.getValue(key))) return false;
    }
    return true;
  }
}
