package io.hodei.scheduler;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.tenant.TenantAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Usage above base quota: metered by {@link BurstMeter} at each start and end, recorded on the tenants' burst grants
 * (the tenant domain) at most once a second; the burst counter follows once the grant's row has it. What could not be
 * recorded goes with the next record. Confined to the scheduler's event loop.
 */
final class BurstRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(BurstRecorder.class);
  private static final long RECORD_NANOS = 1_000_000_000L;
  private final Vertx vertx;
  private final TenantCache tenants;
  private final SchedulerMetrics metrics;
  private final BurstMeter meter = new BurstMeter();
  private long lastRecord = System.nanoTime();

  BurstRecorder(Vertx vertx, TenantCache tenants, SchedulerMetrics metrics) {
    this.vertx = vertx;
    this.tenants = tenants;
    this.metrics = metrics;
  }

  /** A job's attempt began running. */
  void started(Job job) { meter.started(job, tenants.get(job.tenantId), job.startedAt); }

  /** A job's attempt stopped running now. */
  void ended(Job job) { meter.ended(job, tenants.get(job.tenantId), Instant.now()); }

  /** Records what was metered so far on the grants, unless the last record was less than a second ago. */
  void record() {
    long now = System.nanoTime();
    if (now - lastRecord < RECORD_NANOS) return;
    lastRecord = now;
    meter.advanceAll(tenants::get, Instant.now());
    for (BurstMeter.Pending p : meter.drain()) {
      JsonObject body = new JsonObject().put("grant_id", p.grantId()).put("cpu_m_seconds", p.cpuMSeconds())
          .put("memory_mb_seconds", p.memoryMbSeconds()).put("burst_jobs", p.jobs());
      Bus.request(vertx, TenantAddresses.BURST_CONSUME, BusRequest.envelope(new JsonObject(), new JsonObject(), body,
          null), Caller.system(), null).onComplete(ar -> {
            if (ar.succeeded()) {
              metrics.burst(p.tenantId(), p.cpuMSeconds());
            } else {
              LOG.warn("burst usage not recorded yet; it goes with the next record", kv("tenant_id", p.tenantId()),
                  kv("grant_id", p.grantId()), ar.cause());
              meter.add(p);
            }
          });
    }
  }
}
