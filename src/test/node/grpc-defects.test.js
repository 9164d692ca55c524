'use strict';
// What any gRPC client relies on, from @grpc/grpc-js and Node's own HTTP/2 client: status messages encoded as the
// gRPC spec says, a client's cancel counted as CANCELLED (not an error), grpc-timeout honoured by the server.
const assert = require('node:assert/strict');
const http2 = require('node:http2');
const {
  grpc, health, target, base, token, adminToken, test, run, until, unary, failing, rest, metric, jobClient, bearer,
} = require('./lib');

const pool = process.env.HODEI_POOL;

test('grpc-message carries printable ASCII as is (no %20, no %3A)', async () => {
  const jobs = jobClient();
  const anonymous = await failing(jobs, 'GetJob', { id: 'j-none' }, null);
  assert.equal(anonymous.code, grpc.status.UNAUTHENTICATED);
  assert.match(anonymous.details, / /);
  assert.doesNotMatch(anonymous.details, /%[0-9A-F]{2}/);

  const invalid = await failing(jobs, 'SubmitJob', { pool_id: pool, command: ['x'], cpu_m: -5, memory_mb: -1 });
  assert.equal(invalid.code, grpc.status.INVALID_ARGUMENT);
  assert.match(invalid.details, /cpu_m: /);
  assert.match(invalid.details, /memory_mb: /);
  assert.doesNotMatch(invalid.details, /%[0-9A-F]{2}/);

  // Outside printable ASCII the message is percent-encoded UTF-8, which the client decodes back.
  const unicode = await failing(jobs, 'GetJob', { id: 'j-ünïcode' });
  assert.equal(unicode.code, grpc.status.NOT_FOUND);
  assert.match(unicode.details, /j-ünïcode/);
  jobs.close();
});

async function performanceErrors(method) {
  const reply = await rest('GET', '/api/v1/metrics/performance/grpc', undefined, adminToken);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  const row = reply.body.services.grpc.endpoints.find(e => e.endpoint === method);
  return row ? row.client_errors + row.server_errors : 0;
}

/** Opens `open()`, waits for its first message, cancels it; asserts it is counted as CANCELLED and not an error. */
async function cancelIsNotAnError(method, open) {
  const before = {
    cancelled: await metric('hodei_grpc_requests_total', { method, status_code: 'CANCELLED' }),
    unknown: await metric('hodei_grpc_requests_total', { method, status_code: 'UNKNOWN' }),
    errors: await performanceErrors(method),
  };
  const call = open();
  const ended = new Promise(resolve => call.on('error', e => resolve(e)));
  await new Promise((resolve, reject) => { call.once('data', resolve); call.once('error', reject); });
  call.cancel();
  assert.equal((await ended).code, grpc.status.CANCELLED);
  await until(async () => await metric('hodei_grpc_requests_total', { method, status_code: 'CANCELLED' })
    > before.cancelled, 10000, `${method} counted as CANCELLED`);
  assert.equal(await metric('hodei_grpc_requests_total', { method, status_code: 'UNKNOWN' }), before.unknown);
  assert.equal(await performanceErrors(method), before.errors, 'the error ratio counts a client cancel');
}

test('a client ending WatchJobs is CANCELLED and not an error', async () => {
  const jobs = jobClient();
  await unary(jobs, 'SubmitJob', { pool_id: pool, command: ['watched'] });
  await cancelIsNotAnError('hodei.v1.JobService/WatchJobs', () => jobs.WatchJobs({}, bearer(token)));
  jobs.close();
});

test('a client ending Health/Watch is CANCELLED and not an error', async () => {
  const client = new health.Health(target, grpc.credentials.createInsecure());
  await cancelIsNotAnError('grpc.health.v1.Health/Watch', () => client.Watch({ service: '' }));
  client.close();
});

/**
 * A raw HTTP/2 gRPC call with grpc-timeout and no client-side deadline (as from a proxy that forwards the header
 * but does not enforce it): the server must end it with DEADLINE_EXCEEDED.
 */
function rawCallWithTimeout(path, message, timeout) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(base);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers',
      'grpc-timeout': timeout, authorization: `Bearer ${token}`,
    });
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.end(frame);
    let headers = {};
    const started = Date.now();
    stream.on('response', h => { headers = h; });
    stream.on('data', () => {});
    stream.on('trailers', trailers => { headers = { ...headers, ...trailers }; });
    // a stream the server never ends is given up well before the case's own limit
    const giveUp = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 8000);
    stream.on('close', () => {
      clearTimeout(giveUp);
      session.close();
      resolve({ status: headers['grpc-status'], message: headers['grpc-message'], ms: Date.now() - started });
    });
  });
}

test('grpc-timeout ends a WatchJobs stream with DEADLINE_EXCEEDED on the server', async () => {
  const result = await rawCallWithTimeout('/hodei.v1.JobService/WatchJobs', Buffer.alloc(0), '1S');
  assert.equal(result.status, String(grpc.status.DEADLINE_EXCEEDED), JSON.stringify(result));
  assert.ok(result.ms >= 900, `ended after ${result.ms} ms, before its deadline`);
});

test('grpc-timeout ends a Health/Watch stream with DEADLINE_EXCEEDED on the server', async () => {
  const result = await rawCallWithTimeout('/grpc.health.v1.Health/Watch', Buffer.alloc(0), '500m');
  assert.equal(result.status, String(grpc.status.DEADLINE_EXCEEDED), JSON.stringify(result));
});

run();
