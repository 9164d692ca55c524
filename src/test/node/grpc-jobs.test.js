'use strict';
// hodei.v1.JobService from @grpc/grpc-js with the shipped job.proto: every RPC as a generated client in another
// language sees it, field errors read from google.rpc.BadRequest in grpc-status-details-bin.
const assert = require('node:assert/strict');
const protobuf = require('protobufjs');
const { grpc, token, test, run, until, unary, failing, collect, jobClient, bearer } = require('./lib');

const pool = process.env.HODEI_POOL;
const held = process.env.HODEI_HELD_POOL;
const tenant = process.env.HODEI_TENANT;
const jobs = jobClient();
const spec = (extra = {}) => ({ pool_id: pool, command: ['work'], cpu_m: 100, memory_mb: 64, ...extra });
const FINAL = ['succeeded', 'failed', 'cancelled', 'timed_out', 'abandoned'];

// google.rpc.Status and BadRequest, as any client decodes grpc-status-details-bin
const rpc = protobuf.Root.fromJSON({ nested: { google: { nested: {
  protobuf: { nested: { Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } } } },
  rpc: { nested: {
    Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 },
      details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } } },
    BadRequest: { fields: { field_violations: { rule: 'repeated', type: 'FieldViolation', id: 1 } }, nested: {
      FieldViolation: { fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } } } } },
  } },
} } } });

function badRequest(err) {
  const raw = err.metadata.get('grpc-status-details-bin');
  assert.equal(raw.length, 1, 'one grpc-status-details-bin');
  const status = rpc.lookupType('google.rpc.Status').decode(raw[0]);
  assert.equal(status.code, err.code);
  assert.equal(status.details.length, 1);
  assert.equal(status.details[0].type_url, 'type.googleapis.com/google.rpc.BadRequest');
  return rpc.lookupType('google.rpc.BadRequest').decode(status.details[0].value).field_violations;
}

async function finished(id) {
  return until(async () => {
    const job = await unary(jobs, 'GetJob', { id });
    return FINAL.includes(job.state) && job;
  }, 20000, `job ${id} finished`);
}

test('SubmitJob, GetJob, ListJobs and CancelJob, with the state enum', async () => {
  const job = await unary(jobs, 'SubmitJob', spec({ name: 'node-one', labels: { team: 'node' } }));
  assert.match(job.id, /^j-/);
  assert.equal(job.state, 'queued');
  assert.equal(job.job_state, 'JOB_STATE_QUEUED');
  const done = await finished(job.id);
  assert.equal(done.job_state, 'JOB_STATE_SUCCEEDED');
  const listed = await unary(jobs, 'ListJobs', { pool_id: pool, page_size: 500 });
  assert.ok(listed.items.some(j => j.id === job.id && j.job_state === 'JOB_STATE_SUCCEEDED'));

  const waiting = await unary(jobs, 'SubmitJob', spec({ pool_id: held }));
  const cancelled = await unary(jobs, 'CancelJob', { id: waiting.id });
  assert.equal(cancelled.id, waiting.id);
  assert.equal((await finished(waiting.id)).state, 'cancelled');
});

test('field errors arrive as google.rpc.BadRequest in grpc-status-details-bin', async () => {
  const err = await failing(jobs, 'SubmitJob', spec({ cpu_m: -5, memory_mb: -1 }));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  const fields = badRequest(err).map(v => v.field).sort();
  assert.deepEqual(fields, ['cpu_m', 'memory_mb']);

  const batch = await failing(jobs, 'SubmitJobs', { jobs: [spec(), spec({ cpu_m: -5 })] });
  assert.equal(batch.code, grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(badRequest(batch).map(v => v.field), ['jobs[1].cpu_m']);
});

test('WatchJobs with watch=false replays typed events and ends by itself', async () => {
  const job = await unary(jobs, 'SubmitJob', spec({ payload: '{"fail": true}', max_attempts: 1 }));
  await finished(job.id);
  const events = await collect(jobs.WatchJobs({ job_id: job.id, watch: false }, bearer(token)));
  assert.deepEqual(events.map(e => e.state), ['queued', 'admitted', 'running', 'failed']);
  assert.deepEqual(events.map(e => e.event), ['submitted', 'admitted', 'running', 'failed']);
  assert.deepEqual(events.map(e => e.job_state),
    ['JOB_STATE_QUEUED', 'JOB_STATE_ADMITTED', 'JOB_STATE_RUNNING', 'JOB_STATE_FAILED']);
  assert.equal(events[1].admitted.attempt, 1);
  assert.equal(events[2].running.pool_id, pool);
  assert.equal(events[3].failed.exit_code, 1);
  assert.ok(events[3].failed.reason.length > 0);
  // resuming from a sequence replays only what follows it
  const rest = await collect(jobs.WatchJobs({ job_id: job.id, watch: false, from_sequence: events[1].sequence },
    bearer(token)));
  assert.deepEqual(rest.map(e => e.sequence), events.slice(2).map(e => e.sequence));
});

test('WatchJobs with until_final ends once every listed job is final', async () => {
  const a = await unary(jobs, 'SubmitJob', spec());
  const b = await unary(jobs, 'SubmitJob', spec({ payload: '{"duration_ms": 300}' }));
  await finished(a.id); // one final before the stream starts, one (probably) after
  const events = await collect(jobs.WatchJobs({ until_final: [a.id, b.id] }, bearer(token)));
  assert.ok(events.every(e => e.job_id === a.id || e.job_id === b.id));
  for (const id of [a.id, b.id]) {
    assert.equal(events.filter(e => e.job_id === id).pop().event, 'succeeded');
  }
  const missing = await new Promise(resolve => jobs.WatchJobs({ until_final: ['j-missing'] }, bearer(token))
    .on('error', resolve).on('data', () => {}));
  assert.equal(missing.code, grpc.status.NOT_FOUND);
  const negative = await new Promise(resolve => jobs.WatchJobs({ from_sequence: -1 }, bearer(token))
    .on('error', resolve).on('data', () => {}));
  assert.equal(negative.code, grpc.status.INVALID_ARGUMENT);
});

test('CancelJobs by ids and by filter, one result per job', async () => {
  const one = await unary(jobs, 'SubmitJob', spec({ pool_id: held }));
  const two = await unary(jobs, 'SubmitJob', spec({ pool_id: held }));
  const byIds = await unary(jobs, 'CancelJobs', { ids: [one.id, two.id, 'j-missing'] });
  assert.deepEqual(byIds.results.map(r => [r.id, r.cancelled]),
    [[one.id, true], [two.id, true], ['j-missing', false]]);
  assert.equal(byIds.results[2].code, grpc.status.NOT_FOUND);

  const marked = [];
  for (let i = 0; i < 3; i++) marked.push((await unary(jobs, 'SubmitJob', spec({ pool_id: held, labels: { sweep: 'x' } }))).id);
  const kept = await unary(jobs, 'SubmitJob', spec({ pool_id: held, labels: { sweep: 'y' } }));
  const byFilter = await unary(jobs, 'CancelJobs', { filter: { states: ['queued'], labels: { sweep: 'x' } } });
  assert.deepEqual(byFilter.results.map(r => r.id).sort(), [...marked].sort());
  assert.ok(byFilter.results.every(r => r.cancelled));
  for (const id of marked) assert.equal((await finished(id)).state, 'cancelled');
  assert.equal((await unary(jobs, 'GetJob', { id: kept.id })).state, 'queued');
  await unary(jobs, 'CancelJob', { id: kept.id });

  const neither = await failing(jobs, 'CancelJobs', {});
  assert.equal(neither.code, grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(badRequest(neither).map(v => v.field), ['ids']);
});

test('ReprioritizeJobs moves a queued job ahead; a job no longer queued is FAILED_PRECONDITION', async () => {
  const a = await unary(jobs, 'SubmitJob', spec({ pool_id: held, priority: 10 }));
  const b = await unary(jobs, 'SubmitJob', spec({ pool_id: held, priority: 10 }));
  const position = async id => (await unary(jobs, 'GetJob', { id })).waiting.position_in_tenant_queue;
  assert.ok(await position(b.id) > await position(a.id));
  const done = await unary(jobs, 'SubmitJob', spec());
  await finished(done.id);
  const reply = await unary(jobs, 'ReprioritizeJobs', { ids: [b.id, done.id], priority: 90 });
  assert.deepEqual(reply.results.map(r => [r.id, r.reprioritized]), [[b.id, true], [done.id, false]]);
  assert.equal(reply.results[0].job.priority, 90);
  assert.equal(reply.results[1].code, grpc.status.FAILED_PRECONDITION);
  assert.ok(await position(b.id) < await position(a.id), 'b did not move ahead of a');
  assert.equal((await unary(jobs, 'GetJob', { id: b.id })).priority, 90);

  const outOfRange = await unary(jobs, 'ReprioritizeJobs', { ids: [a.id], priority: 101 });
  assert.equal(outOfRange.results[0].code, grpc.status.INVALID_ARGUMENT);
  const missing = await failing(jobs, 'ReprioritizeJobs', { ids: [a.id] });
  assert.deepEqual(badRequest(missing).map(v => v.field), ['priority']);
  await unary(jobs, 'CancelJobs', { ids: [a.id, b.id] });
});

test('SubmitJobs with each reports every submission on its own', async () => {
  const reply = await unary(jobs, 'SubmitJobs', { each: true, jobs: [spec(), spec({ cpu_m: -5 }), spec()] });
  assert.equal(reply.items.length, 0);
  assert.deepEqual(reply.results.map(r => [r.index, r.result]), [[0, 'job'], [1, 'error'], [2, 'job']]);
  assert.equal(reply.results[1].error.code, grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(reply.results[1].error.field_errors.map(f => f.field), ['cpu_m']);
  assert.match(reply.results[0].job.id, /^j-/);
});

test('StreamJobLogs follows a job to its end; GetJobRuns and GetJobEvents per attempt', async () => {
  const job = await unary(jobs, 'SubmitJob', spec({ payload: '{"duration_ms": 300}' }));
  const logs = await collect(jobs.StreamJobLogs({ id: job.id, follow: true }, bearer(token)));
  assert.equal(logs.length, 1);
  assert.equal(logs[0].attempt, 1);
  assert.match(logs[0].log, new RegExp(`simulated job ${job.id}`));
  assert.equal((await unary(jobs, 'GetJob', { id: job.id })).state, 'succeeded');
  const again = await collect(jobs.StreamJobLogs({ id: job.id }, bearer(token)));
  assert.deepEqual(again.map(l => l.log), logs.map(l => l.log));

  const runs = await unary(jobs, 'GetJobRuns', { id: job.id });
  assert.equal(runs.items.length, 1);
  const [first] = runs.items;
  assert.equal(first.attempt, 1);
  assert.equal(first.job_state, 'JOB_STATE_SUCCEEDED');
  assert.equal(first.exit_code, 0);
  assert.equal(first.pool_id, pool);
  assert.ok(first.admitted_at && first.started_at && first.ended_at);
  assert.equal(first.log, logs[0].log);

  const events = await unary(jobs, 'GetJobEvents', { id: job.id });
  assert.deepEqual(events.items.map(e => e.event), ['submitted', 'admitted', 'running', 'succeeded']);
  const missing = await failing(jobs, 'GetJobRuns', { id: 'j-missing' });
  assert.equal(missing.code, grpc.status.NOT_FOUND);
});

test('GetJobSla, GetQueueStatus and CheckQuota', async () => {
  const job = await unary(jobs, 'SubmitJob', spec({ pool_id: held, sla_seconds: 3600 }));
  const sla = await unary(jobs, 'GetJobSla', { id: job.id });
  assert.equal(sla.job_id, job.id);
  assert.ok(['on_track', 'at_risk'].includes(sla.status), sla.status);
  assert.ok(sla.deadline);
  const queues = await unary(jobs, 'GetQueueStatus', {});
  const mine = queues.tenants.find(t => t.tenant_id === tenant);
  assert.ok(mine && mine.queued >= 1, JSON.stringify(queues.tenants));
  assert.ok(queues.pools.some(p => p.pool_id === held && p.queued >= 1));
  await unary(jobs, 'CancelJob', { id: job.id });

  const quota = await unary(jobs, 'CheckQuota', { cpu_m: 100, jobs: 1 });
  assert.equal(quota.tenant_id, tenant);
  assert.equal(typeof quota.allowed, 'boolean');
  assert.ok(quota.reason);
  assert.ok(Number(quota.quota.max_queued_jobs) > 0);
  const invalid = await failing(jobs, 'CheckQuota', { cpu_m: -1 });
  assert.equal(invalid.code, grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(badRequest(invalid).map(v => v.field), ['cpu_m']);
});

run().finally(() => jobs.close());
