'use strict';
// (h) Messages both ways in json and advanced serialization, the arguments
// of the 'message' events, and internal (NODE_*) messages being invisible.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { compareImpls, primaryEvents, workerEvents, CONCURRENCY, scaled } = require('../helpers/harness');

function normalize(r) {
  const prim = primaryEvents(r.events);
  return {
    sendReturns: prim.filter((e) => e.ev === 'send-ret'),
    // Which callbacks came, not in what order: node:cluster calls back a
    // write that completed at once on the next tick and a queued one (the
    // 1 MiB message, when the worker is slow to read) once it is written,
    // so on a loaded machine its order varies (seen: 0-12, 14-31, 13).
    sendCallbacks: prim.filter((e) => e.ev === 'send-cb').sort((a, b) => a.i - b.i),
    received: prim.filter((e) => /message$/.test(e.ev)),
    other: prim.filter((e) => !/^send-|message$/.test(e.ev)),
    worker: workerEvents(r.events),
  };
}

describe('parity/messages', { concurrency: CONCURRENCY }, () => {
  for (const ser of ['json', 'advanced']) {
    test(`messages (${ser}): values both ways, 'message' event arguments, NODE_* messages hidden`, { timeout: scaled(60000) }, async (t) => {
      const check = (r) => {
        const n = normalize(r);
        const sent = n.sendCallbacks.length;
        assert.ok(sent > 30);
        for (const cb of n.sendCallbacks) assert.equal(cb.err, null);
        const got = n.worker[1].map((e) => e.msg);
        assert.equal(got.length, sent - 1, 'the worker got everything but the NODE_foo message');
        assert.ok(!got.some((m) => m.includes('NODE_foo')));
        assert.deepEqual(got.slice(-2), ["'after-internal'", "'END'"]);
        const clusterMsgs = n.received.filter((e) => e.ev === 'cluster:message');
        const workerMsgs = n.received.filter((e) => e.ev === 'worker:message');
        assert.equal(clusterMsgs.length, workerMsgs.length);
        assert.ok(!n.received.some((e) => e.msg.includes('NODE_foo') || e.msg.includes('bogus')));
        // What the worker sent back is what the worker received (same list).
        assert.deepEqual(workerMsgs.map((e) => e.msg), got);
        for (const e of clusterMsgs) assert.deepEqual([e.nargs, e.isWorker, e.thisIsCluster, e.handle], [3, true, true, 'undefined']);
        for (const e of workerMsgs) assert.deepEqual([e.nargs, e.thisIsWorker, e.handle], [2, true, 'undefined']);
        // The cluster's listener was added by fork(), before the user's.
        for (let i = 0; i < n.received.length; i += 2) {
          assert.equal(n.received[i].ev, 'cluster:message');
          assert.equal(n.received[i + 1].ev, 'worker:message');
        }
        if (ser === 'advanced') {
          assert.ok(got.includes("Map(3) { 1 => 'a', 'b' => { c: 2 }, { k: 1 } => [ 3 ] }"));
          assert.ok(got.includes('<ref *1> { name: \'circ\', self: [Circular *1] }'));
        } else {
          assert.ok(got.includes("{ buf: { type: 'Buffer', data: [ 98, 117, 102 ] } }"));
        }
      };
      await compareImpls(t, 'parity-messages.js', { env: { SER: ser }, check }, normalize);
    });
  }
});

describe('parity/messages: no listener', () => {
  test('messages wait for a \'message\' listener on worker.process', { timeout: scaled(60000) }, async (t) => {
    const check = (r) => {
      assert.deepEqual(r.events.map((e) => e.ev), [
        'sent', 'listener added', 'message', 'message', 'next tick', 'message', 'exit']);
      assert.deepEqual(r.events.filter((e) => e.ev === 'message').map((e) => e.m), ['one', { two: 2 }, 'last']);
    };
    await compareImpls(t, 'parity-pending-messages.js', { check });
  });
});

describe('parity/messages: large', () => {
  for (const ser of ['json', 'advanced']) {
    test(`an 80 MiB message each way (${ser})`, { timeout: scaled(60000) }, async (t) => {
      const check = (r) => assert.deepEqual(r.events, [
        { ev: 'primary got', length: 80 * 1024 * 1024, intact: true },
        { ev: 'worker got back', length: 80 * 1024 * 1024, last: 'y' },
        { ev: 'exit', code: 0, signal: null },
      ]);
      await compareImpls(t, 'parity-large-message.js', { env: { SER: ser }, check });
    });
  }
});
