'use strict';
// The SockJS event-bus bridge as the official clients use it: sockjs-client with @vertx/eventbus-bridge-client.js
// over each SockJS transport (websocket and the fallbacks used behind proxies that block WebSocket), and a raw
// WebSocket client. Events come from real job submissions over REST.
const assert = require('node:assert/strict');
const EventBus = require('@vertx/eventbus-bridge-client.js');
const FayeWebSocket = require('faye-websocket');
const { base, port, token, test, run, until, rest, sleep } = require('./lib');

const pool = process.env.HODEI_POOL;
const SUBMITTED = 'hodei.events.job.submitted';

function open(transport) {
  const eb = new EventBus(`${base}/eventbus`, { transports: [transport] });
  eb.enableReconnect(false);
  const errors = [];
  eb.onerror = e => errors.push(e);
  eb.unhandledErrors = errors;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${transport}: not open within 10 s`)), 10000);
    eb.onopen = () => { clearTimeout(timer); resolve(eb); };
  });
}

function close(eb) {
  return new Promise(resolve => {
    if (eb.state === EventBus.CLOSED) return resolve();
    eb.onclose = () => resolve();
    eb.close();
  });
}

/** Submits jobs until `received()` holds one of them (the registration completes asynchronously). */
async function submitUntilReceived(received, what) {
  const ids = new Set();
  await until(async () => {
    const r = await rest('POST', '/api/v1/jobs', { pool_id: pool, command: ['bridge'], cpu_m: 100, memory_mb: 64 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ids.add(r.body.id);
    await sleep(200);
    return received().some(e => ids.has(e.job_id));
  }, 15000, what);
}

for (const transport of ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource']) {
  test(`${transport}: a registration with a token receives its tenant's events`, async () => {
    const eb = await open(transport);
    const events = [];
    const failures = [];
    eb.registerHandler(SUBMITTED, { authorization: `Bearer ${token}` }, (err, msg) => {
      if (err) failures.push(err); else events.push(msg.body);
    });
    await submitUntilReceived(() => events, `a ${transport} client's event`);
    assert.deepEqual(failures, []);
    assert.deepEqual(eb.unhandledErrors, []);
    assert.ok(events.every(e => e.tenant_id === process.env.HODEI_TENANT));
    await close(eb);
  });

  test(`${transport}: a refused registration reaches its own handler`, async () => {
    const eb = await open(transport);
    const failures = [];
    eb.registerHandler(SUBMITTED, {}, (err, msg) => { if (err) failures.push(err); });
    await until(() => failures.length > 0, 10000, 'the refusal at the handler');
    assert.equal(failures[0].failureType, 'unauthorized', JSON.stringify(failures[0]));
    assert.equal(failures[0].failureCode, 401, JSON.stringify(failures[0]));
    assert.deepEqual(eb.unhandledErrors, [], 'errors that reached no handler');
    await close(eb);
  });
}

test('raw WebSocket: events and errors are both text frames of one JSON object', async () => {
  const ws = new FayeWebSocket.Client(`ws://127.0.0.1:${port}/eventbus/websocket`);
  const frames = [];
  ws.on('message', e => frames.push(e.data));
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  ws.send(JSON.stringify({ type: 'register', address: 'hodei.events.job.started', headers: {} }));
  ws.send(JSON.stringify({ type: 'register', address: SUBMITTED, headers: { authorization: `Bearer ${token}` } }));
  await submitUntilReceived(() => frames.filter(f => typeof f === 'string').map(f => JSON.parse(f))
    .filter(f => f.type === 'rec' || f.type === 'message').map(f => f.body), 'an event frame');
  assert.ok(frames.every(f => typeof f === 'string'), 'a binary frame arrived');
  const parsed = frames.map(f => JSON.parse(f));
  const error = parsed.find(f => f.type === 'err');
  assert.ok(error, 'no err frame');
  assert.equal(error.address, 'hodei.events.job.started');
  ws.close();
});

run();
