'use strict';
// Graceful shutdown on SIGTERM/SIGINT, and its exit codes: a primary started
// as a child process, signalled from here.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { supervised, command } = require('./helpers');

const exits = (r) => r.events.filter((e) => e.ev === 'exit').map((e) => [e.code, e.signal]);

test('SIGTERM: workers drain and exit, the primary exits with 0', async () => {
  const p = await supervised({ shutdown: { timeout: 5000 } }, 2);
  process.kill(p.child.pid, 'SIGTERM');
  const r = await p.done;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(r.events.filter((e) => e.ev === 'shutdown'), [{ ev: 'shutdown', signal: 'SIGTERM', timeout: 5000 }]);
  assert.deepEqual(exits(r), [[0, null], [0, null]]);
});

test('SIGINT with a worker that will not leave: killed after the timeout, exit code 124', async () => {
  // A timeout the healthy worker, even on a loaded machine, drains well
  // within: only the stubborn one may be killed.
  const p = await supervised({ shutdown: { timeout: 5000 } }, 2);
  await command(p, { do: 'send', id: 2, msg: 'stubborn' });
  process.kill(p.child.pid, 'SIGINT');
  const r = await p.done;
  assert.equal(r.code, 124, r.stdout + r.stderr);
  assert.deepEqual(exits(r).map(String).sort(), ['0,', ',SIGKILL'].sort());
});

test('a second signal during the shutdown kills at once: exit code 128 + signal number', async () => {
  const p = await supervised({ shutdown: { timeout: 30000 } }, 1);
  await command(p, { do: 'send', id: 1, msg: 'stubborn' });
  process.kill(p.child.pid, 'SIGTERM');
  await p.waitFor((e) => e.ev === 'shutdown');
  process.kill(p.child.pid, 'SIGINT');
  const r = await p.done;
  assert.equal(r.code, 130, r.stdout + r.stderr);
});

test('without shutdown enabled, SIGTERM kills the primary as with node:cluster', async () => {
  const p = await supervised({}, 1);
  process.kill(p.child.pid, 'SIGTERM');
  const r = await p.done;
  assert.equal(r.signal, 'SIGTERM');
});

test('cluster.shutdown() resolves with the exit code and does not exit by itself', async () => {
  const p = await supervised({}, 2);
  const result = await command(p, { do: 'shutdown', timeout: 5000 });
  assert.equal(result.value, 0);
  // The primary then exits on its own: no workers, nothing keeps it alive.
  const r = await p.done;
  assert.equal(r.code, 0);
  assert.deepEqual(exits(r), [[0, null], [0, null]]);
});
