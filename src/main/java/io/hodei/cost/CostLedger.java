package io.hodei.cost;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.pool.PoolAddresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Writes the ledger: observes pool prices, costs worker lifetimes and finished job attempts, reprices rows when a
 * price version changes, and drops rows past retention. Every step is idempotent (rows are keyed by kind, source
 * and hour bucket and recomputed from their sources), so a sweep may run any number of times, and after a restart
 * the next sweep catches up on whatever was missed. Event-loop confined; one sweep at a time.
 */
final class CostLedger {
  private static final Logger LOG = LoggerFactory.getLogger(CostLedger.class);
  static final int BATCH = 500;
  private static final String SYSTEM = "system";

  private final Vertx vertx;
  private final CostStore store;
  private final PriceBook prices;
  private final CostSettings settings;
  /** The last terminal job event costed (job_event ids become visible in id order); 0 before the first. */
  private long jobCursor;
  private Future<Void> current;
  private Promise<Void> queued;
  private boolean queuedFull;

  CostLedger(Vertx vertx, CostStore store, PriceBook prices, CostSettings settings) {
    this.vertx = vertx;
    this.store = store;
    this.prices = prices;
    this.settings = settings;
  }

  /** Loads the job event cursor and the price history into memory. */
  Future<Void> load() {
    return store.jobCursor().compose(cursor -> {
      jobCursor = cursor;
      return store.prices();
    }).map(rows -> {
      for (Row r : rows) {
        String poolId = r.getString("pool_id");
        prices.put(poolId, CostStore.instant(r, "effective_from"), r.getBigDecimal("price_per_worker_hour"));
        if ("pool".equals(r.getString("source"))) prices.observed(poolId, r.getBigDecimal("price_per_worker_hour"));
      }
      return null;
    });
  }

  Instant retentionCutoff() { return Instant.now().minus(Duration.ofDays(settings.retentionDays())); }

  /**
   * Runs one sweep now, or once more right after the one running (calls made meanwhile share that next sweep). A
   * sweep costs the jobs that ended since the stored cursor in the job event log; a {@code full} sweep re-reads the
   * whole log within the retention window (rows are idempotent). Completes when the sweep is done.
   */
  Future<Void> sweep(boolean full) {
    if (current == null) {
      current = run(full);
      return current;
    }
    if (queued == null) queued = Promise.promise();
    queuedFull |= full;
    return queued.future();
  }

  private Future<Void> run(boolean full) {
    if (full) jobCursor = 0;
    Future<Void> sweep = syncPrices().compose(v -> workers()).compose(v -> jobs())
        .compose(v -> store.applyRetention(retentionCutoff()))
        .onFailure(err -> LOG.warn("cost sweep failed; the next one retries", err));
    sweep.onComplete(ar -> {
      current = null;
      if (queued != null) {
        Promise<Void> waiting = queued;
        boolean nextFull = queuedFull;
        queued = null;
        queuedFull = false;
        current = run(nextFull);
        current.onComplete(waiting);
      }
    });
    return sweep;
  }

  /**
   * Records a price version for every pool whose price_per_worker_hour differs from the last one observed (the
   * pool's updated_at is when it changed; a pool seen for the first time is priced from its creation).
   */
  private Future<Void> syncPrices() {
    JsonObject envelope = BusRequest.envelope(new JsonObject(), new JsonObject().put("detail", "false"),
        new JsonObject(), null);
    return Bus.request(vertx, PoolAddresses.SNAPSHOT, envelope, Caller.system(), null).compose(snapshot -> {
      Future<Void> chain = Future.succeededFuture();
      for (Object item : snapshot.getJsonArray("pools", new JsonArray())) {
        JsonObject pool = (JsonObject) item;
        String poolId = pool.getString("id");
        BigDecimal price = new BigDecimal(String.valueOf(pool.getValue("price_per_worker_hour", "0")));
        BigDecimal last = prices.lastObserved(poolId);
        if (last != null && last.compareTo(price) == 0) continue;
        Instant effective = Instant.parse(prices.knows(poolId) || last != null
            ? pool.getString("updated_at") : pool.getString("created_at"));
        chain = chain.compose(v -> setPrice(poolId, effective, price, "pool", SYSTEM));
      }
      return chain;
    });
  }

  /** Stores a price version and reprices the rows it affects. */
  Future<Void> setPrice(String poolId, Instant effective, BigDecimal price, String source, String createdBy) {
    return store.insertPrice(poolId, effective, price, source, createdBy).compose(v -> {
      prices.put(poolId, effective, price);
      if ("pool".equals(source)) prices.observed(poolId, price);
      LOG.info("pool price version", kv("pool", poolId), kv("effective_from", effective.toString()),
          kv("price_per_worker_hour", price.toPlainString()), kv("source", source));
      return reprice(poolId, effective);
    });
  }

  private Future<Void> reprice(String poolId, Instant since) {
    return store.recordsAfter(poolId, since)
        .compose(rows -> store.updateAmounts(rows.stream().map(r -> r.repriced(prices)).toList()))
        .compose(v -> store.jobSegmentsAfter(poolId, since))
        .compose(segments -> store.updateJobAmounts(poolId, segments, segments.stream()
            .map(s -> prices.cost(poolId, s.start(), s.end(), s.share())).toList()));
  }

  /**
   * Costs worker lifetimes (created_at to terminated_at, or to now while open) from each worker's cursor on, in
   * pages of workers by id. A live worker's cursor moves only when its lifetime reaches a new bucket (its current
   * bucket's row is recomputed from the bucket start each sweep), so a sweep rewrites one row per live worker, not
   * a row and a cursor; an ended worker's cursor moves to its end (done).
   */
  private Future<Void> workers() {
    return workers(Instant.now(), "");
  }

  private Future<Void> workers(Instant now, String afterId) {
    Instant cutoff = retentionCutoff();
    return store.unaccountedWorkers(cutoff, afterId, BATCH).compose(rows -> {
      List<CostRecord> records = new ArrayList<>();
      List<Tuple> cursors = new ArrayList<>();
      String lastId = afterId;
      for (Row r : rows) {
        Instant created = CostStore.instant(r, "created_at");
        Instant terminated = CostStore.instant(r, "terminated_at");
        Instant end = terminated == null ? now : terminated;
        Instant start = created.isBefore(cutoff) ? cutoff : created;
        if (end.isBefore(start)) end = start;
        Instant cursor = CostStore.instant(r, "accounted_until");
        String workerId = r.getString("id");
        CostRecord.Usage life = new CostRecord.Usage(CostRecord.WORKER, workerId, r.getString("pool_id"), workerId,
            null, null, null, null, start, end, BigDecimal.ONE, r.getLong("cpu_m"), r.getLong("memory_mb"),
            BigDecimal.ZERO);
        records.addAll(CostRecord.split(life, cursor == null || cursor.isBefore(start) ? start : cursor, prices));
        if (terminated != null || cursor == null || cursor.isBefore(start)
            || !CostRecord.bucketOf(cursor).equals(CostRecord.bucketOf(end))) {
          cursors.add(CostStore.cursor(workerId, end));
        }
        lastId = workerId;
      }
      String next = lastId;
      return store.writeWorkers(records, cursors).map(v -> rows.size() >= BATCH ? next : null);
    }).compose(next -> next != null ? workers(now, next) : Future.succeededFuture());
  }

  /**
   * Costs the job attempts whose end was logged after the cursor, and meters burst attempts' cross-tenant impact; the
   * cursor moves in the same transaction as the rows it accounts for, so a restart neither skips nor repeats work.
   * The write checks that the stored cursor is still where this read started, so an attempt is costed once even
   * when an earlier write committed unconfirmed (or a deposed leader's sweep overlaps): the sweep then goes on from
   * the stored cursor.
   */
  private Future<Void> jobs() {
    Instant cutoff = retentionCutoff();
    long from = jobCursor;
    // a read from the start walks the whole log: it rewrites the batches from its first end event on
    return store.jobsEndedAfter(from, BATCH, from == 0).compose(ended -> {
      List<Row> rows = ended.rows();
      List<CostRecord.Usage> attempts = new ArrayList<>();
      Long firstEvent = rows.isEmpty() ? null : rows.get(0).getLong("event_id");
      long last = from;
      for (Row r : rows) {
        last = Math.max(last, r.getLong("event_id"));
        // ended before running (cancelled or abandoned in the queue): nothing ran, nothing to cost
        if (r.getValue("started_at") == null || r.getString("placed_pool_id") == null
            || r.getValue("finished_at") == null || CostStore.instant(r, "finished_at").isBefore(cutoff)) {
          continue;
        }
        attempts.add(attempt(r));
      }
      boolean full = rows.size() >= BATCH;
      // fewer than a batch: every end event up to where the log was read is here, and the cursor moves past the log
      // rows without one (a start's row) as well; a first read (from 0) of an empty log stays at 0
      long cursor = full || rows.isEmpty() && from == 0 ? last : Math.max(last, ended.readTo());
      if (cursor == from) return Future.succeededFuture(false);
      return impacts(attempts).compose(impacts -> {
        List<CostRecord> records = new ArrayList<>();
        attempts.forEach(a -> records.addAll(CostRecord.split(a, a.start(), prices)));
        return store.writeJobs(records, impacts, from, firstEvent, cursor);
      }).map(stored -> {
        jobCursor = stored;
        return stored != cursor || full || ended.more();
      });
    }).compose(again -> again ? jobs() : Future.succeededFuture());
  }

  private static CostRecord.Usage attempt(Row r) {
    String jobId = r.getString("id");
    Instant started = CostStore.instant(r, "started_at");
    Instant finished = CostStore.instant(r, "finished_at");
    if (finished.isBefore(started)) finished = started;
    long cpuM = r.getLong("cpu_m");
    long memoryMb = r.getLong("memory_mb");
    Long workerCpu = r.getLong("worker_cpu_m");
    Long workerMemory = r.getLong("worker_memory_mb");
    BigDecimal share = CostRecord.share(cpuM, memoryMb, workerCpu == null ? 0 : workerCpu,
        workerMemory == null ? 0 : workerMemory);
    return new CostRecord.Usage(CostRecord.JOB, jobId + "@" + started, r.getString("placed_pool_id"),
        r.getString("worker_id"), jobId, started, r.getString("tenant_id"), r.getString("burst_grant_id"), started,
        finished, share, cpuM, memoryMb, CostRecord.burstFraction(r.getDouble("burst_seconds"),
        r.getString("burst_grant_id"), started, finished));
  }

  private Future<List<Tuple>> impacts(List<CostRecord.Usage> attempts) {
    List<Tuple> impacts = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (CostRecord.Usage a : attempts) {
      if (a.burstGrantId() == null) continue;
      chain = chain.compose(v -> store.burstImpact(a.tenantId(), a.poolId(), a.start(), a.end()).map(row -> {
        impacts.add(CostStore.impact(a, row.getBigDecimal("seconds"), row.getLong("jobs")));
        return null;
      }));
    }
    return chain.map(v -> impacts);
  }

  /** Ledger totals for the meters. */
  Future<Map<String, Map<String, BigDecimal[]>>> meterTotals() {
    return store.meterTotals(Instant.now().minus(Duration.ofHours(1))).map(rows -> {
      Map<String, Map<String, BigDecimal[]>> out = new HashMap<>();
      for (Row r : rows) {
        String key = r.getString("key");
        if (key == null) continue;
        out.computeIfAbsent(r.getString("scope"), s -> new HashMap<>()).put(key, new BigDecimal[] {
            r.getBigDecimal("total"), r.getBigDecimal("burst"), r.getBigDecimal("recent"), r.getBigDecimal("idle")});
      }
      return out;
    });
  }
}
