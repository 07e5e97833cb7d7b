'use strict';
// (i) Passing handles (net.Socket, net.Server, dgram.Socket) between the
// primary and a worker, in both directions, with send() return values,
// callbacks, keepOpen, and ordering of queued messages behind a handle.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { compareImpls, primaryEvents, workerEvents, omit, CONCURRENCY } = require('../helpers/harness');

// Node 18's own cluster primary crashes on this scenario: a net.Server a
// worker receives listens through the primary with a null path
// (RoundRobinHandle throws ERR_INVALID_ARG_VALUE). Fixed in Node 20.
const skip = Number(process.versions.node.split('.')[0]) < 20 &&
  'node:cluster itself crashes on a net.Server sent to a worker in Node 18';

describe('parity/handles', { concurrency: CONCURRENCY }, () => {
  test('handles: sockets, servers and dgram sockets sent both ways', { timeout: 60000, skip }, async (t) => {
    const normalize = (r) => ({ primary: omit(primaryEvents(r.events), ['port']), workers: workerEvents(r.events) });
    const check = (r) => {
      const prim = primaryEvents(r.events);
      const read = Object.fromEntries(prim.filter((e) => e.ev === 'client-read').map((e) => [e.case, e.data]));
      assert.deepEqual(read, {
        accepted: 'reply from worker 1',
        keepOpen: 'primary;worker',
        server: 'accepted by the worker',
        burst1: 'burst 1',
        burst2: 'burst 3',
        'server-back': 'served by the primary',
      });
      const replies = prim.filter((e) => e.ev === 'reply');
      assert.equal(replies.find((e) => e.case === 'client').echoed, 'ping from worker');
      assert.equal(replies.find((e) => e.case === 'server').samePort, true);
      assert.equal(replies.find((e) => e.case === 'dgram').samePort, true);
      assert.deepEqual(replies.find((e) => e.case === 'burst').order.map((x) => [x.n, x.handle]),
        [[1, 'Socket'], [2, 'undefined'], [3, 'Socket'], [4, 'undefined'], [5, 'undefined']]);
      assert.deepEqual(prim.find((e) => e.ev === 'dgram-reply'), { ev: 'dgram-reply', data: 'dgram reply: hi' });
      assert.deepEqual(prim.find((e) => e.ev === 'echo-through-received-socket').data, 'pong from primary');
      const back = replies.find((e) => e.case === 'back');
      assert.equal(back.handleIsSocket, true);
      assert.equal(replies.find((e) => e.case === 'server-back').handleIsServer, true);
      assert.deepEqual(prim.filter((e) => e.ev === 'cluster:message' && e.handleType !== 'undefined').map((e) => e.handleType),
        ['Socket', 'Server']);
      assert.deepEqual(prim[prim.length - 1], { ev: 'exit', code: 0, signal: null });
    };
    await compareImpls(t, 'parity-handles.js', { check }, normalize);
  });

  test('messages behind a handle come after the microtasks of its listeners', { timeout: 60000 }, async (t) => {
    // How Node's primary groups the later messages into reads varies; what
    // holds is that a handle's listeners finish before anything after it.
    const normalize = (r) => r.events.filter((e) => e.ev !== 'after-microtask');
    const check = (r) => {
      const evs = r.events.map((e) => `${e.ev}:${e.msg}`);
      assert.deepEqual(evs.filter((e) => e.startsWith('message:')),
        ['message:A1', 'message:B1', 'message:A2', 'message:B2', 'message:B3', 'message:S', 'message:B4']);
      for (const handleMsg of ['A1', 'A2', 'S']) {
        const at = evs.indexOf(`message:${handleMsg}`);
        const nextMessage = evs.findIndex((e, i) => i > at && e.startsWith('message:'));
        assert.ok(evs.indexOf(`after-microtask:${handleMsg}`) < nextMessage, evs.join(' '));
      }
    };
    await compareImpls(t, 'parity-handle-order.js', { check }, normalize);
  });
});
