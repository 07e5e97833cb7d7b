'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { run } = require('../core/run');

test('cluster.disconnect() with connections queued: every accepted connection is answered', async () => {
  const r = await run('../../faults/fixtures/disconnect-inflight.js', 'rust');
  const done = r.events.find((e) => e.ev === 'done');
  assert.ok(done, r.stdout + r.stderr);
  // node:cluster resets the connections still queued in the primary here.
  assert.deepEqual({ ok: done.ok, errors: done.errors }, { ok: 30, errors: [] });
  assert.ok(r.events.some((e) => e.ev === 'disconnected'));
});

test('a worker SIGKILLed under load: only what it held fails, exit fires once', async () => {
  const r = await run('../../faults/fixtures/kill-under-load.js', 'rust', { timeout: 120000 });
  const done = r.events.find((e) => e.ev === 'done');
  assert.ok(done, r.stdout + r.stderr);
  const info = JSON.stringify(done);
  assert.equal(done.failedBeforeKill, 0, info);
  // Of the requests started before the kill, only those in flight at the
  // kill can have been in the victim.
  assert.ok(done.failed.before <= done.inFlightAtKill, info);
  // Once the primary has seen the victim go, nothing is sent its way.
  assert.equal(done.failed.after, 0, info);
  assert.ok(done.ok.after > 0, info);
  assert.equal(done.exits, 1);
  assert.deepEqual(r.events.filter((e) => e.ev === 'victim exit'), [{ ev: 'victim exit', code: null, signal: 'SIGKILL' }]);
});
