'use strict';
// cluster.reload() under steady HTTP load on loopback: two workers are
// replaced one at a time while clients keep sending requests.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { run, freePort } = require('./helpers');

async function reloadUnderLoad(mode) {
  const port = await freePort();
  const r = await run('reload-load.js', [mode, String(port)]);
  const done = r.events.find((e) => e.ev === 'done');
  assert.ok(done, `no result (exit ${r.signal || r.code})\n${r.stdout}\n${r.stderr}`);
  // Figures for the record (node --test prints diagnostics).
  console.log(`# reload (${mode}): ${JSON.stringify({ reloadMs: done.reloadMs, ...done.load, idle: done.idle })}`);
  assert.equal(done.error, null);
  assert.equal(done.replaced, 2);
  // Both workers were replaced by new processes.
  assert.equal(done.after.length, 2);
  assert.deepEqual(done.after.filter((pid) => done.before.includes(pid)), []);
  assert.ok(done.load.requests > 0, 'the load ran');
  return done;
}

test('reload under load, Connection: close clients: no failed request, no non-2xx', async () => {
  const done = await reloadUnderLoad('close');
  assert.equal(done.load.errors, 0, JSON.stringify(done.load));
  assert.equal(done.load.non2xx, 0);
  // The old workers left on their own (drained), not killed.
  assert.deepEqual(done.exits, [{ code: 0, signal: null }, { code: 0, signal: null }]);
});

test('reload under load, keep-alive clients (autocannon) and idle keep-alive connections: drained, not killed, no failed request', async () => {
  const done = await reloadUnderLoad('keepalive');
  // Busy keep-alive connections got `Connection: close`, idle ones were
  // closed: the old workers exited before the drain timeout (5 s) instead of
  // waiting for clients that never leave (their keepAliveTimeout is 60 s).
  assert.deepEqual(done.exits, [{ code: 0, signal: null }, { code: 0, signal: null }]);
  assert.deepEqual(done.idle, { opened: 4, closed: 4 });
  assert.equal(done.load.non2xx, 0);
  assert.equal(done.load.errors, 0, JSON.stringify(done.load));
});

test('reload under load, node:http keep-alive Agent clients: drained, no failed request', async () => {
  const done = await reloadUnderLoad('agent');
  assert.deepEqual(done.exits, [{ code: 0, signal: null }, { code: 0, signal: null }]);
  assert.deepEqual(done.idle, { opened: 4, closed: 4 });
  assert.equal(done.load.non2xx, 0);
  assert.equal(done.load.errors, 0, JSON.stringify(done.load));
});

test('reload of workers without the agent: disconnect, then killed after drainTimeout; the reload completes', async () => {
  const port = await freePort();
  const r = await run('reload-noagent.js', [String(port)]);
  const done = r.events.find((e) => e.ev === 'done');
  assert.ok(done, `no result (exit ${r.signal || r.code})\n${r.stdout}\n${r.stderr}`);
  console.log(`# reload without agent: ${JSON.stringify({ ok: done.ok, errors: done.errors })}`);
  assert.deepEqual(done.replaced, [3, 4]);
  assert.deepEqual(done.agents, [false, false]);
  // Half-sent requests kept the old workers: SIGTERM at the timeout (each of
  // them holds some of the 4 connections, unless round robin gave one all).
  assert.equal(done.exits.length, 2);
  assert.ok(done.exits.some((e) => e.signal === 'SIGTERM'), JSON.stringify(done.exits));
  assert.ok(done.exits.every((e) => e.signal === 'SIGTERM' || e.code === 0), JSON.stringify(done.exits));
  assert.ok(done.ok > 0);
});
