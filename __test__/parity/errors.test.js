'use strict';
// (p) Bad arguments and misuse: the table of outcomes (thrown error's
// constructor name, code and message, 'error' events, callback errors,
// return values) must be the same as node:cluster's, case by case.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { compareImpls, primaryEvents, CONCURRENCY } = require('../helpers/harness');

const byCase = (r) => primaryEvents(r.events);

describe('parity/errors', { concurrency: CONCURRENCY }, () => {
  test('bad arguments and misuse in the primary (json)', { timeout: 90000 }, async (t) => {
    const check = (r) => {
      const cases = Object.fromEntries(byCase(r).filter((e) => e.ev === 'case').map((e) => [e.name, e]));
      assert.equal(cases['exec: 123: fork'].threw.code, 'ERR_INVALID_ARG_TYPE');
      assert.equal(cases['stdio without ipc: fork'].threw.code, 'ERR_CHILD_PROCESS_IPC_REQUIRED');
      assert.equal(cases['serialization: bogus: fork'].threw.code, 'ERR_INVALID_ARG_VALUE');
      assert.equal(cases['send(undefined)'].threw.code, 'ERR_MISSING_ARGS');
      assert.equal(cases['send(Symbol())'].threw.code, 'ERR_INVALID_ARG_TYPE');
      assert.equal(cases['kill("SIGBOGUS")'].threw.code, 'ERR_UNKNOWN_SIGNAL');
      assert.equal(cases['send after disconnect (no callback)'].returned, false);
      const late = byCase(r).filter((e) => e.ev === 'worker:error' && e.tag === 'live');
      assert.deepEqual(late.map((e) => e.err.code), ['ERR_IPC_CHANNEL_CLOSED', 'ERR_IPC_CHANNEL_CLOSED']);
      assert.deepEqual(byCase(r).find((e) => e.ev === 'callback' && e.name === 'late').err.code, 'ERR_IPC_CHANNEL_CLOSED');
      assert.deepEqual(byCase(r).at(-1), { ev: 'done', ids: [] });
    };
    // Worker ids are part of the output: a fork() that throws still uses one.
    await compareImpls(t, 'parity-errors.js', { check, timeout: 60000 }, byCase);
  });

  test('bad arguments with a live worker (advanced serialization)', { timeout: 60000 }, async (t) => {
    const check = (r) => {
      const cases = Object.fromEntries(byCase(r).filter((e) => e.ev === 'case').map((e) => [e.name, e]));
      assert.equal(cases['send({a: 1n})'].returned, true);
      assert.equal(cases['send({f: function})'].threw.message, 'f() {} could not be cloned.');
      assert.deepEqual(byCase(r).at(-1), { ev: 'done', ids: [] });
    };
    await compareImpls(t, 'parity-errors.js', { env: { MODE: 'send', SER: 'advanced' }, check }, byCase);
  });

  test('bogus cluster.schedulingPolicy at the first setupPrimary()', { timeout: 60000 }, async (t) => {
    const check = (r) => {
      const first = byCase(r)[0];
      assert.equal(first.threw.code, 'ERR_INTERNAL_ASSERTION');
      assert.match(first.threw.message, /^Bad cluster\.schedulingPolicy: bogus/);
    };
    await compareImpls(t, 'parity-errors.js', { env: { MODE: 'policy' }, check }, byCase);
  });

  test('listen()/bind() errors reported to workers (EADDRINUSE, EACCES), then a working listen', { timeout: 60000 }, async (t) => {
    const check = (r) => {
      const steps = Object.fromEntries(byCase(r).filter((e) => e.ev === 'worker-result').map((e) => [e.step, e]));
      assert.equal(steps['tcp busy port'].error.code, 'EADDRINUSE');
      assert.equal(steps['udp busy port'].error.code, 'EADDRINUSE');
      assert.equal(steps['tcp port 0 after the failures'].listening, true);
      assert.equal(byCase(r).filter((e) => e.ev === 'cluster:listening').length, 1);
    };
    await compareImpls(t, 'parity-listen-errors.js', { check }, byCase);
  });
});
