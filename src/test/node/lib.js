'use strict';
// Shared by the Node client tests: a tiny case runner, the shipped .proto files loaded by @grpc/proto-loader,
// REST and /metrics helpers. Connection details come from the environment NodeClientsTest sets.
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const port = Number(process.env.HODEI_PORT);
const target = `127.0.0.1:${port}`;
const base = `http://127.0.0.1:${port}`;
const token = process.env.HODEI_TOKEN;
const adminToken = process.env.HODEI_ADMIN_TOKEN;

const cases = [];
function test(name, fn) { cases.push({ name, fn }); }

async function run() {
  let failed = 0;
  for (const c of cases) {
    const started = Date.now();
    try {
      await withTimeout(c.fn(), 60000, c.name);
      console.log(`ok   ${c.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${c.name}: ${e && e.stack || e}`);
    }
  }
  console.log(`${cases.length - failed}/${cases.length} passed`);
  process.exit(failed === 0 ? 0 : 1);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Polls fn() until it returns a truthy value, or fails after ms. */
async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(100);
  }
  throw new Error(`${what}: not reached within ${ms} ms (last: ${JSON.stringify(last)})`);
}

const protoRoot = path.resolve(__dirname, '../../main/proto');
function load(files) {
  const definition = protoLoader.loadSync(files, {
    includeDirs: [protoRoot, path.resolve(__dirname, 'proto')], keepCase: true, longs: String, enums: String,
    defaults: true, oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}
const hodei = load(['hodei/v1/job.proto']).hodei.v1;
const health = load(['grpc/health/v1/health.proto']).grpc.health.v1;

function bearer(t) {
  const md = new grpc.Metadata();
  if (t) md.set('authorization', `Bearer ${t}`);
  return md;
}

/** A unary call as a promise: resolves with the reply, rejects with the grpc-js error (code, details, metadata). */
function unary(client, method, request, t = token, options = {}) {
  return new Promise((resolve, reject) => client[method](request, bearer(t), options,
    (err, reply) => err ? reject(err) : resolve(reply)));
}

/** A unary call expected to fail: resolves with the error. */
async function failing(client, method, request, t = token) {
  try {
    const reply = await unary(client, method, request, t);
    throw new Error(`${method} succeeded: ${JSON.stringify(reply)}`);
  } catch (e) {
    if (e.code === undefined) throw e;
    return e;
  }
}

/** All messages of a server stream that ends by itself, and its final status. */
function collect(call) {
  return new Promise((resolve, reject) => {
    const items = [];
    call.on('data', d => items.push(d));
    call.on('error', e => { e.items = items; reject(e); });
    call.on('status', s => { if (s.code === grpc.status.OK) resolve(items); });
  });
}

async function rest(method, p, body, t = token) {
  const response = await fetch(base + p, {
    method, headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** The value of every sample of `name` in /metrics whose labels include `labels`, summed. */
async function metric(name, labels = {}) {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const m = line.match(/^([^{ ]+)(?:\{(.*)\})? (\S+)/);
    if (!m || m[1] !== name) continue;
    const found = {};
    for (const pair of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]] = pair[2];
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

function jobClient() { return new hodei.JobService(target, grpc.credentials.createInsecure()); }

module.exports = {
  grpc, hodei, health, target, base, port, token, adminToken, test, run, sleep, until, bearer, unary, failing,
  collect, rest, metric, jobClient, load,
};
