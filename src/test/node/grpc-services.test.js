'use strict';
// Every RPC of TenantService, ResourcePoolService, WorkerService, CostOptimizationService and ObservabilityService
// from @grpc/grpc-js with the shipped .proto files (JobService: grpc-jobs.test.js).
const assert = require('node:assert/strict');
const { grpc, target, adminToken, test, run, until, unary, failing, load } = require('./lib');

const v1 = load(['hodei/v1/tenant.proto', 'hodei/v1/pool.proto', 'hodei/v1/cost.proto',
  'hodei/v1/observability.proto']).hodei.v1;
const insecure = grpc.credentials.createInsecure();
const tenants = new v1.TenantService(target, insecure);
const pools = new v1.ResourcePoolService(target, insecure);
const workers = new v1.WorkerService(target, insecure);
const cost = new v1.CostOptimizationService(target, insecure);
const observability = new v1.ObservabilityService(target, insecure);
const admin = (client, method, request) => unary(client, method, request, adminToken);

test('TenantService: every RPC', async () => {
  const created = await admin(tenants, 'CreateTenant', { id: 'node-svc', name: 'Node svc', weight: 2,
    quota: { cpu_m: 4000, memory_mb: 8192, max_concurrent_jobs: 5, max_queued_jobs: 50 } });
  assert.equal(created.id, 'node-svc');
  assert.equal((await admin(tenants, 'GetTenant', { id: 'node-svc' })).weight, 2);
  const listed = await admin(tenants, 'ListTenants', { page_size: 500 });
  assert.ok(listed.items.some(t => t.id === 'node-svc'));
  const updated = await admin(tenants, 'UpdateTenant', { id: 'node-svc', weight: 3,
    if_match_version: created.version });
  assert.equal(updated.weight, 3);
  const stale = await failing(tenants, 'UpdateTenant', { id: 'node-svc', weight: 4,
    if_match_version: created.version }, adminToken);
  assert.equal(stale.code, grpc.status.FAILED_PRECONDITION);
  const quota = await admin(tenants, 'SetQuota', { tenant_id: 'node-svc', cpu_m: 6000, memory_mb: 8192,
    max_concurrent_jobs: 5, max_queued_jobs: 50 });
  assert.equal(Number(quota.cpu_m), 6000);
  assert.equal(Number((await admin(tenants, 'GetQuota', { tenant_id: 'node-svc' })).cpu_m), 6000);
  const token = await admin(tenants, 'IssueToken', { tenant_id: 'node-svc', role: 'viewer' });
  assert.ok(token.token.length > 20);
  assert.equal((await unary(tenants, 'GetTenant', { id: 'node-svc' }, token.token)).id, 'node-svc');
  const metrics = await admin(tenants, 'GetTenantMetrics', { tenant_id: 'node-svc' });
  assert.equal(metrics.tenant_id, 'node-svc');
  const burst = await admin(tenants, 'RequestBurstCapacity', { tenant_id: 'node-svc', max_overage_percentage: 120,
    duration_minutes: 5, reason: 'node test' });
  assert.equal(burst.tenant_id, 'node-svc');
  const deleted = await admin(tenants, 'DeleteTenant', { id: 'node-svc' });
  assert.equal(deleted.deleted, true);
  assert.equal((await failing(tenants, 'GetTenant', { id: 'node-svc' }, adminToken)).code, grpc.status.NOT_FOUND);
});

test('ResourcePoolService and WorkerService: every RPC', async () => {
  const pool = await admin(pools, 'CreatePool', { id: 'node-pool', kind: 'static', provider: 'simulated', size: 1,
    worker_cpu_m: 1000, worker_memory_mb: 1024, price_per_worker_hour: '0.10',
    provider_config: '{"provision_delay_ms": 1}' });
  assert.equal(pool.id, 'node-pool');
  const ready = await until(async () => {
    const p = await admin(pools, 'GetPool', { id: 'node-pool' });
    return p.state === 'active' && p;
  }, 20000, 'pool active');
  assert.ok((await admin(pools, 'ListPools', { page_size: 500 })).items.some(p => p.id === 'node-pool'));
  const renamed = await admin(pools, 'UpdatePool', { id: 'node-pool', name: 'renamed' });
  assert.equal(renamed.name, 'renamed');
  const resized = await admin(pools, 'SetStaticSize', { id: 'node-pool', size: 2 });
  assert.equal(resized.id, 'node-pool');
  const worker = await until(async () => (await admin(workers, 'ListWorkers', { pool_id: 'node-pool',
    state: 'idle' })).items[0], 20000, 'an idle worker');
  assert.equal((await admin(workers, 'GetWorker', { pool_id: 'node-pool', worker_id: worker.id })).id, worker.id);
  assert.equal((await admin(workers, 'DrainWorker', { pool_id: 'node-pool', worker_id: worker.id })).id, worker.id);
  const metrics = await admin(pools, 'GetPoolMetrics', { id: 'node-pool' });
  assert.equal(metrics.pool, 'node-pool');
  const paused = await admin(pools, 'ChangePoolLifecycle', { id: 'node-pool', action: 'pause' });
  assert.equal(paused.state, 'paused');
  const bounds = await failing(pools, 'SetDynamicBounds', { id: 'node-pool', min_size: 1, max_size: 2 }, adminToken);
  assert.ok([grpc.status.ALREADY_EXISTS, grpc.status.FAILED_PRECONDITION].includes(bounds.code),
    `bounds of a static pool: ${bounds.code}`);
  assert.ok(ready.version);

  const dynamic = await admin(pools, 'CreatePool', { id: 'node-dyn', kind: 'dynamic', provider: 'simulated',
    min_size: 0, max_size: 2, provider_config: '{"provision_delay_ms": 1}' });
  assert.equal((await admin(pools, 'SetDynamicBounds', { id: dynamic.id, min_size: 0, max_size: 3 })).id, 'node-dyn');
  const policy = await admin(pools, 'ConfigureScalingPolicy', { pool_id: 'node-dyn', type: 'queue_depth_per_worker',
    target: 2, min_step: 1, max_step: 1, enabled: true });
  assert.equal(policy.pool_id, 'node-dyn');
  const policies = await admin(pools, 'ListScalingPolicies', { pool_id: 'node-dyn' });
  assert.deepEqual(policies.items.map(p => p.id), [policy.id]);
  const history = await admin(pools, 'GetScalingHistory', { pool_id: 'node-dyn' });
  assert.ok(Array.isArray(history.items));
});

test('CostOptimizationService: every RPC', async () => {
  const to = new Date();
  const from = new Date(to.getTime() - 3600 * 1000);
  const report = await admin(cost, 'GenerateReport', { from: from.toISOString(), to: to.toISOString() });
  assert.equal(report.group_by, 'tenant');
  const breakdown = await admin(cost, 'GetCostBreakdown', {});
  assert.ok(breakdown);
  const recommendations = await admin(cost, 'GetOptimizationRecommendations', { window_hours: 24 });
  assert.ok(recommendations);
  const invalid = await failing(cost, 'GenerateReport', { from: 'yesterday', to: to.toISOString() }, adminToken);
  assert.equal(invalid.code, grpc.status.INVALID_ARGUMENT);
});

test('ObservabilityService: every RPC', async () => {
  const health = await unary(observability, 'GetHealth', {}, null);
  assert.ok(['Healthy', 'Degraded', 'Unhealthy'].includes(health.status), health.status);
  const snapshot = await admin(observability, 'GetMetricsSnapshot', {});
  assert.ok(Array.isArray(snapshot.pools));
});

run().finally(() => [tenants, pools, workers, cost, observability].forEach(c => c.close()));
