'use strict';
// The ES module entry point (package.json "exports" -> import: index.mjs):
// default export, named exports, in the primary and in a worker.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { compareImpls, CONCURRENCY } = require('../helpers/harness');

describe('parity/esm', { concurrency: CONCURRENCY }, () => {
  test('ESM: default and named exports in primary and worker', { timeout: 60000 }, async (t) => {
    const check = (r) => {
      const [p, w, exit] = r.events;
      assert.equal(p.defaultIsRequire, true, 'default export is the CommonJS module');
      assert.equal(p.namedMatchDefault, true);
      assert.ok(p.names.includes('default') && p.names.includes('fork') && p.names.includes('isPrimary'));
      assert.deepEqual([p.isPrimary, w.isWorker, w.workerId], [true, true, 1]);
      assert.deepEqual(exit, { ev: 'exit', code: 0, signal: null });
    };
    // Names starting with '_' (EventEmitter's _events etc.) are not API;
    // the supervision functions and policies are rust-cluster's additions.
    const added = ['SCHED_LEASTCONN', 'SCHED_REUSEPORT', 'SCHED_STICKY', 'engine', 'reload', 'scale', 'shutdown', 'stats', 'supervise', 'upgrade'];
    const keep = (k) => !k.startsWith('_') && !added.includes(k);
    const normalize = (r) => r.events.map((e) => (e.names ? { ...e, names: e.names.filter(keep) } : e));
    await compareImpls(t, 'parity-esm.mjs', { check }, normalize);
  });
});
