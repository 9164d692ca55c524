package io.hodei.scheduler;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dispatch decisions, table-driven over fakes: for tenants (weights, quotas, burst grants, what they hold and
 * remember), pools (state, labels, worker shape, idle and busy workers) and queued jobs, one dispatch places exactly
 * the expected jobs in the expected order on the expected pools, and each job left waiting names the expected reasons.
 * The pool domain is a fake that records each start request and never answers, so placements stay in flight.
 */
class DispatchDecisionTest {
  private static final long SECOND = 1_000_000_000L;
  /** Half-life of the usage memory in these cases: a remembered share is seeded over one half-life. */
  private static final double HALF_LIFE = 60;

  static Stream<Case> cases() {
    return Stream.of(
        scenario("higher priority first, FIFO among equal priorities")
            .tenants(tenant("a")).pools(pool("p").idle(2))
            .jobs(job("a1", "a").priority(10), job("a2", "a").priority(50), job("a3", "a").priority(50))
            .places("a2->p", "a3->p")
            .waits("a1", "capacity"),
        scenario("FIFO within one priority: the later jobs wait behind the earlier ones")
            .tenants(tenant("a")).pools(pool("p").idle(1))
            .jobs(job("a1", "a"), job("a2", "a"), job("a3", "a"))
            .places("a1->p")
            .waits("a2", "capacity")
            .waits("a3", "capacity", "priority"),
        scenario("best-effort FIFO: a job no pool can take now does not block the tenant's job for another pool")
            .tenants(tenant("a")).pools(pool("busy").busy(1), pool("free").idle(1))
            .jobs(job("a1", "a").priority(90).pool("busy"), job("a2", "a").priority(10).pool("free"))
            .places("a2->free")
            .waits("a1", "capacity"),
        scenario("max_concurrent_jobs quota holds back the tenant's further jobs")
            .tenants(tenant("a").maxConcurrent(2)).pools(pool("p").idle(4))
            .jobs(job("a1", "a"), job("a2", "a"), job("a3", "a"))
            .places("a1->p", "a2->p")
            .waits("a3", "quota_max_concurrent_jobs"),
        scenario("CPU quota counts what the tenant already holds")
            .tenants(tenant("a").cpu(2500).holding(1, 1000, 512)).pools(pool("p").idle(4))
            .jobs(job("a1", "a"), job("a2", "a"))
            .places("a1->p")
            .waits("a2", "quota_cpu"),
        scenario("memory quota")
            .tenants(tenant("a").memory(1000)).pools(pool("p").idle(4))
            .jobs(job("a1", "a").memory(600), job("a2", "a").memory(600))
            .places("a1->p")
            .waits("a2", "quota_memory"),
        scenario("a burst grant lets the tenant above its base quota, on the grant")
            .tenants(tenant("a").maxConcurrent(1).burst(200)).pools(pool("p").idle(4))
            .jobs(job("a1", "a"), job("a2", "a"), job("a3", "a"))
            .places("a1->p", "a2->p+burst")
            .waits("a3", "quota_max_concurrent_jobs", "burst"),
        scenario("burst after base: another tenant's jobs within base quota go before burst jobs")
            .tenants(tenant("a").maxConcurrent(1).burst(300), tenant("b")).pools(pool("p").idle(3))
            .jobs(job("a1", "a"), job("a2", "a"), job("b1", "b"), job("b2", "b"))
            .places("a1->p", "b1->p", "b2->p")
            .waits("a2", "burst", "capacity"),
        scenario("fair share: the next placement goes to the lowest share divided by weight")
            .tenants(tenant("a"), tenant("b").weight(3)).pools(pool("p").idle(4))
            .jobs(job("a1", "a"), job("a2", "a"), job("a3", "a"), job("b1", "b"), job("b2", "b"), job("b3", "b"),
                job("b4", "b"))
            .places("a1->p", "b1->p", "b2->p", "b3->p")
            .waits("a2", "capacity")
            .waits("b4", "capacity"),
        scenario("fair share remembers decayed usage: the tenant that used the cluster lately yields")
            .tenants(tenant("a").remembered(0.5), tenant("b")).pools(pool("p").idle(2))
            .jobs(job("a1", "a"), job("a2", "a"), job("b1", "b"), job("b2", "b"))
            .places("b1->p", "a1->p")
            .waits("a2", "capacity", "fair_share")
            .waits("b2", "capacity"),
        scenario("what a tenant holds now counts in its share")
            .tenants(tenant("a").holding(2, 2000, 512), tenant("b")).pools(pool("p").idle(2).busy(2))
            .jobs(job("a1", "a"), job("b1", "b"), job("b2", "b"))
            .places("b1->p", "b2->p")
            .waits("a1", "capacity"),
        scenario("a paused pool takes no jobs")
            .tenants(tenant("a")).pools(pool("p").idle(2).state("paused"))
            .jobs(job("a1", "a").pool("p"))
            .places()
            .waits("a1", "pool_not_accepting"),
        scenario("a pool without workers: no placement, and the wait says the pool is empty")
            .tenants(tenant("a")).pools(pool("p"))
            .jobs(job("a1", "a").pool("p"))
            .places()
            .waits("a1", "no_workers"),
        scenario("label selectors pick the pools a job may run on")
            .tenants(tenant("a"))
            .pools(pool("gpu").idle(1).labels("gpu", "true"), pool("cpu").idle(2).labels("gpu", "false"))
            .jobs(job("a1", "a").labels("gpu", "true"), job("a2", "a").labels("gpu", "true"),
                job("a3", "a").labels("gpu", "false"), job("a4", "a"))
            .places("a1->gpu", "a3->cpu", "a4->gpu,cpu")
            .waits("a2", "capacity"),
        scenario("a job larger than its pool's workers (they shrank since it was accepted) waits for no pool")
            .tenants(tenant("a")).pools(pool("p").idle(2))
            .jobs(job("a1", "a").cpu(4000).pool("p"), job("a2", "a"))
            .places("a2->p")
            .waits("a1", "no_fitting_pool"),
        scenario("a suspended tenant's jobs wait; other tenants go on")
            .tenants(tenant("a").suspended(), tenant("b")).pools(pool("p").idle(2))
            .jobs(job("a1", "a"), job("b1", "b"))
            .places("b1->p")
            .waits("a1", "tenant_suspended"),
        scenario("placements in flight stay under their limit")
            .tenants(tenant("a")).pools(pool("p").idle(5)).maxInflight(2)
            .jobs(job("a1", "a"), job("a2", "a"), job("a3", "a"))
            .places("a1->p", "a2->p")
            .waits("a3", "placing"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void dispatchPlacesTheExpectedJobsAndExplainsTheRest(Case c) {
    World world = new World(c);
    world.dispatcher.dispatch();
    assertThat(world.placed).as("placements, in order").containsExactly(c.placements.toArray(String[]::new));
    c.reasons.forEach((jobId, expected) -> {
      Job job = world.jobs.get(jobId);
      assertThat(job.state).as(jobId + " state").isEqualTo(JobState.QUEUED);
      JsonArray reasons = world.explainer.explain(job).getJsonArray("reasons");
      List<String> codes = reasons.stream().map(r -> ((JsonObject) r).getString("code")).toList();
      assertThat(codes).as("why " + jobId + " waits: " + reasons.encode()).containsExactly(expected);
    });
  }

  /** The scheduler's parts over a fake pool domain, set up as a case says. */
  private static final class World {
    final TenantCache tenants = new TenantCache(null);
    final PoolView pools = new PoolView(null);
    final TenantUsage usage = new TenantUsage();
    final JobQueues queues = new JobQueues();
    final OpenJobs jobs = new OpenJobs();
    final PlacementGate gate = new PlacementGate(pools);
    long clock;
    final FairShare fairShare = new FairShare(HALF_LIFE, usage, pools, () -> clock);
    final List<String> placed = new ArrayList<>();
    final Dispatcher dispatcher;
    final WaitExplainer explainer;

    World(Case c) {
      Instant now = Instant.now();
      JsonArray snapshot = new JsonArray();
      c.pools.forEach(p -> snapshot.add(p.json()));
      pools.apply(new JsonObject().put("pools", snapshot));
      Map<String, Double> memory = new LinkedHashMap<>();
      for (TenantSpec t : c.tenants) {
        tenants.listed(t.tenant(now));
        for (int i = 0; i < t.heldJobs; i++) {
          Job running = new Job();
          running.tenantId = t.id;
          running.cpuM = t.heldCpuM / t.heldJobs;
          running.memoryMb = t.heldMemoryMb / t.heldJobs;
          usage.hold(running);
        }
        // one half-life at twice the share leaves the share remembered
        if (t.remembered > 0) memory.put(t.id, 2 * t.remembered);
      }
      fairShare.advance(memory, 0);
      clock = (long) HALF_LIFE * SECOND;
      fairShare.advance(memory, clock);
      for (JobSpec spec : c.jobs) {
        Job job = spec.job(now);
        jobs.add(job);
        usage.queued(job.tenantId, 1);
        queues.enqueue(job);
      }
      dispatcher = new Dispatcher(queues, usage, fairShare, gate, tenants, pools,
          new SchedulerMetrics(new SimpleMeterRegistry()), c.maxInflight, () -> true, (job, poolIds) -> {
            placed.add(job.id + "->" + String.join(",", poolIds) + (job.burstGrantId != null ? "+burst" : ""));
            return Promise.<JsonObject>promise().future();
          });
      explainer = new WaitExplainer(SchedulerView.of(tenants, pools, jobs, queues, usage, fairShare, gate,
          new RunTimes()));
    }
  }

  // ------------------------------------------------------------------ the table's vocabulary

  static Case scenario(String name) { return new Case(name); }

  static TenantSpec tenant(String id) { return new TenantSpec(id); }

  static PoolSpec pool(String id) { return new PoolSpec(id); }

  static JobSpec job(String id, String tenantId) { return new JobSpec(id, tenantId); }

  static final class Case {
    final String name;
    final List<TenantSpec> tenants = new ArrayList<>();
    final List<PoolSpec> pools = new ArrayList<>();
    final List<JobSpec> jobs = new ArrayList<>();
    final List<String> placements = new ArrayList<>();
    final Map<String, String[]> reasons = new LinkedHashMap<>();
    int maxInflight = 100;

    Case(String name) { this.name = name; }

    Case tenants(TenantSpec... specs) { tenants.addAll(Arrays.asList(specs)); return this; }

    Case pools(PoolSpec... specs) { pools.addAll(Arrays.asList(specs)); return this; }

    Case jobs(JobSpec... specs) { jobs.addAll(Arrays.asList(specs)); return this; }

    Case maxInflight(int n) { maxInflight = n; return this; }

    /** The start requests expected, in order: {@code job->pool,pool}, {@code +burst} when on a burst grant. */
    Case places(String... expected) { placements.addAll(Arrays.asList(expected)); return this; }

    /** The reason codes expected for a job left waiting, in the order the explanation gives them. */
    Case waits(String jobId, String... codes) { reasons.put(jobId, codes); return this; }

    @Override
    public String toString() { return name; }
  }

  static final class TenantSpec {
    final String id;
    int weight = 1;
    boolean active = true;
    long cpuM = 1_000_000;
    long memoryMb = 1_000_000;
    long maxConcurrent = 1000;
    int burstPercentage;
    int heldJobs;
    long heldCpuM;
    long heldMemoryMb;
    double remembered;

    TenantSpec(String id) { this.id = id; }

    TenantSpec weight(int w) { weight = w; return this; }

    TenantSpec suspended() { active = false; return this; }

    TenantSpec cpu(long m) { cpuM = m; return this; }

    TenantSpec memory(long mb) { memoryMb = mb; return this; }

    TenantSpec maxConcurrent(long n) { maxConcurrent = n; return this; }

    /** A burst grant in force, raising every quota to {@code percentage} of base. */
    TenantSpec burst(int percentage) { burstPercentage = percentage; return this; }

    /** Running jobs the tenant holds already. */
    TenantSpec holding(int jobs, long cpu, long memory) {
      heldJobs = jobs;
      heldCpuM = cpu;
      heldMemoryMb = memory;
      return this;
    }

    /** The share the usage memory remembers of the tenant. */
    TenantSpec remembered(double share) { remembered = share; return this; }

    TenantCache.Tenant tenant(Instant now) {
      boolean bursting = burstPercentage > 0;
      return new TenantCache.Tenant(id, weight, active, cpuM, memoryMb, maxConcurrent, 10_000,
          bursting ? "grant-" + id : null, bursting ? burstPercentage : 100, bursting ? now.plusSeconds(3600) : null);
    }
  }

  static final class PoolSpec {
    final String id;
    String state = "active";
    final JsonObject labels = new JsonObject();
    int idle;
    int busy;

    PoolSpec(String id) { this.id = id; }

    PoolSpec idle(int n) { idle = n; return this; }

    PoolSpec busy(int n) { busy = n; return this; }

    PoolSpec state(String s) { state = s; return this; }

    PoolSpec labels(String key, String value) { labels.put(key, value); return this; }

    /** The pool as the pool domain's snapshot shows it: workers of 1000m and 1024 MB. */
    JsonObject json() {
      return new JsonObject().put("id", id).put("state", state).put("provider", "simulated").put("labels", labels)
          .put("worker_cpu_m", 1000L).put("worker_memory_mb", 1024L).put("target_size", idle + busy)
          .put("workers", new JsonObject().put("idle", (long) idle).put("busy", (long) busy).put("provisioning", 0L));
    }
  }

  static final class JobSpec {
    final String id;
    final String tenantId;
    int priority = 50;
    long cpuM = 1000;
    long memoryMb = 512;
    String poolId;
    JsonObject poolLabels;

    JobSpec(String id, String tenantId) {
      this.id = id;
      this.tenantId = tenantId;
    }

    JobSpec priority(int p) { priority = p; return this; }

    JobSpec cpu(long m) { cpuM = m; return this; }

    JobSpec memory(long mb) { memoryMb = mb; return this; }

    JobSpec pool(String id) { poolId = id; return this; }

    JobSpec labels(String key, String value) {
      poolLabels = (poolLabels == null ? new JsonObject() : poolLabels).put(key, value);
      return this;
    }

    Job job(Instant now) {
      Job job = new Job();
      job.id = id;
      job.tenantId = tenantId;
      job.priority = priority;
      job.cpuM = cpuM;
      job.memoryMb = memoryMb;
      job.poolId = poolId;
      job.poolLabels = poolLabels;
      job.submittedAt = now;
      job.queuedAt = now;
      job.maxQueueSeconds = 3600;
      return job;
    }
  }
}
