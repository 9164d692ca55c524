'use strict';
// hodei.v1.JobService from @grpc/grpc-js with the shipped job.proto: every RPC as a generated client in another
// language sees it.
const assert = require('node:assert/strict');
const { grpc, token, test, run, until, unary, failing, collect, jobClient, bearer } = require('./lib');

const pool = process.env.HODEI_POOL;
const held = process.env.HODEI_HELD_POOL;
const jobs = jobClient();
const spec = (extra = {}) => ({ pool_id: pool, command: ['work'], cpu_m: 100, memory_mb: 64, ...extra });

async function finished(id) {
  return until(async () => {
    const job = await unary(jobs, 'GetJob', { id });
    return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(job.state) && job;
  }, 20000, `job ${id} finished`);
}

test('SubmitJob, GetJob, ListJobs and CancelJob', async () => {
  const job = await unary(jobs, 'SubmitJob', spec({ name: 'node-one', labels: { team: 'node' } }));
  assert.match(job.id, /^j-/);
  assert.equal(job.state, 'queued');
  assert.equal((await finished(job.id)).state, 'succeeded');
  const listed = await unary(jobs, 'ListJobs', { pool_id: pool, page_size: 500 });
  assert.ok(listed.items.some(j => j.id === job.id));

  const waiting = await unary(jobs, 'SubmitJob', spec({ pool_id: held }));
  const cancelled = await unary(jobs, 'CancelJob', { id: waiting.id });
  assert.equal(cancelled.id, waiting.id);
  assert.equal((await finished(waiting.id)).state, 'cancelled');
});

test('WatchJobs replays a job\'s events from a sequence on', async () => {
  const job = await unary(jobs, 'SubmitJob', spec());
  await finished(job.id);
  const call = jobs.WatchJobs({ job_id: job.id }, bearer(token));
  const seen = [];
  await new Promise((resolve, reject) => {
    call.on('data', e => { seen.push(e); if (e.state === 'succeeded') resolve(); });
    call.on('error', reject);
  });
  call.cancel();
  assert.deepEqual(seen.map(e => e.state), ['queued', 'admitted', 'running', 'succeeded']);
});

run().finally(() => jobs.close());
