'use strict';
// Respawn with backoff and the crash-loop limit.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { run, freePort } = require('./helpers');

test('respawn: a worker killed from outside is replaced and serves; a disconnected one is not replaced', async () => {
  const port = await freePort();
  const r = await run('respawn.js', ['kill', String(port)]);
  const ev = (name) => r.events.filter((e) => e.ev === name);
  assert.ok(ev('end').length === 1, r.stdout + r.stderr);
  assert.deepEqual(ev('replace'), [{ ev: 'replace', id: 3, old: 1, reason: 'respawn', delay: 50, code: null, signal: 'SIGKILL' }]);
  assert.deepEqual(ev('served'), [{ ev: 'served', ids: [2, 3] }]);
  // Worker 2 left through disconnect(): no replacement for it, then neither
  // for worker 3; the primary exited on its own with nothing scheduled.
  assert.deepEqual(ev('left'), [{ ev: 'left', workers: [3] }]);
  assert.deepEqual(ev('end'), [{ ev: 'end', forks: 3, workers: [] }]);
  assert.equal(r.code, 0, r.stderr);
});

test('respawn: delays double per crash; the 4th crash in the window is a crash loop and stops respawning', async () => {
  const r = await run('respawn.js', ['crashloop']);
  const ev = (name) => r.events.filter((e) => e.ev === name);
  assert.ok(ev('end').length === 1, r.stdout + r.stderr);
  assert.deepEqual(ev('replace').map((e) => [e.old, e.id, e.delay, e.code]), [[1, 2, 50, 3], [2, 3, 100, 3], [3, 4, 200, 3]]);
  assert.deepEqual(ev('crashloop'), [{ ev: 'crashloop', crashes: 4, window: 30000, worker: 4 }]);
  // Nothing forked after the crash loop: the primary exited on its own.
  assert.deepEqual(ev('end'), [{ ev: 'end', forks: 4, workers: [] }]);
  assert.equal(r.code, 0, r.stderr);
});
