package io.hodei.pool;

import io.hodei.pool.provider.WorkerProvider;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Probes every running worker through its provider: a worker is unhealthy after the configured number of failed
 * probes in a row (its job is killed), healthy again on the next successful probe. Resource use is sampled with
 * the probe (hodei_cpu_usage_percent / hodei_memory_usage_mb per worker). Confined to the pool verticle's event loop.
 */
final class HealthProber {
  private static final Logger LOG = LoggerFactory.getLogger(HealthProber.class);

  private final Map<String, Pool> pools;
  private final Map<String, WorkerProvider> providers;
  private final PoolJournal journal;
  private final Reconciler reconciler;
  private final int unhealthyThreshold;

  HealthProber(Map<String, Pool> pools, Map<String, WorkerProvider> providers, PoolJournal journal,
               Reconciler reconciler, int unhealthyThreshold) {
    this.pools = pools;
    this.providers = providers;
    this.journal = journal;
    this.reconciler = reconciler;
    this.unhealthyThreshold = unhealthyThreshold;
  }

  void probeAll() {
    if (journal.stopped()) return;
    for (Pool p : List.copyOf(pools.values())) {
      WorkerProvider provider = providers.get(p.provider);
      if (provider != null) probe(p, provider);
    }
  }

  private void probe(Pool p, WorkerProvider provider) {
    List<Future<Boolean>> probes = new ArrayList<>();
    List<Worker> probed = new ArrayList<>();
    List<Future<WorkerProvider.WorkerUsage>> usages = new ArrayList<>();
    for (Worker w : p.workers.values()) {
      if (w.state != WorkerState.IDLE && w.state != WorkerState.BUSY && w.state != WorkerState.UNHEALTHY) continue;
      probed.add(w);
      probes.add(provider.probe(w.id).otherwise(false));
      usages.add(provider.usage(w.id).otherwise((WorkerProvider.WorkerUsage) null));
    }
    Future.join(Future.join(probes), Future.join(usages)).onComplete(done -> {
      Instant now = Instant.now();
      List<String> alive = new ArrayList<>();
      for (int i = 0; i < probed.size(); i++) {
        Worker w = probed.get(i);
        boolean ok = Boolean.TRUE.equals(probes.get(i).result());
        if (!w.live()) continue;
        WorkerProvider.WorkerUsage usage = usages.get(i).result();
        if (usage != null) {
          w.cpuUsagePercent = usage.cpuPercent();
          w.memoryUsageMb = usage.memoryMb();
        }
        if (ok) onProbeSucceeded(w, now, alive);
        else onProbeFailed(p, w, now);
      }
      journal.heartbeats(p, alive, now);
      reconciler.reconcile(p);
    });
  }

  private void onProbeSucceeded(Worker w, Instant now, List<String> alive) {
    w.failedProbes = 0;
    w.lastHeartbeatAt = now;
    alive.add(w.id);
    if (w.state == WorkerState.UNHEALTHY) {
      long recovery = Duration.between(w.unhealthySince, now).toMillis();
      w.health = WorkerHealth.HEALTHY;
      w.unhealthySince = null;
      w.state = w.execution != null ? WorkerState.BUSY : WorkerState.IDLE;
      journal.persistEvent(w, WorkerState.UNHEALTHY, "recovered", recovery, null, null, null);
    }
  }

  private void onProbeFailed(Pool p, Worker w, Instant now) {
    w.failedProbes++;
    if (w.failedProbes < unhealthyThreshold || w.state == WorkerState.UNHEALTHY) return;
    WorkerState from = w.state;
    w.health = WorkerHealth.UNHEALTHY;
    w.unhealthySince = now;
    w.state = WorkerState.UNHEALTHY;
    LOG.warn("worker unhealthy", kv("pool", p.id), kv("worker_id", w.id), kv("failed_probes", w.failedProbes));
    journal.persist(w, from, "missed " + w.failedProbes + " health probes");
    if (w.execution != null) w.execution.kill("worker unhealthy");
  }
}
