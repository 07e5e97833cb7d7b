'use strict';
// A net.Socket passed over the channel with its server's key stays counted
// by that server (Node's NODE_SOCKET_* messages): getConnections() asks the
// other side, and server.close() waits until the other side closed it. Both
// ways: a worker's server passing a connection to the primary (a worker
// that did so and called server.close() or disconnect() hung forever), and
// a server of the primary passing one to a worker.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { compareImpls } = require('../helpers/harness');

describe('parity/socket-lists', () => {
  test('passed connections are counted and waited for by their server', { timeout: 60000 }, async (t) => {
    const check = (r) => {
      const evs = r.events.map((e) => e.ev === 'message' ? `message:${e.msg}` : e.ev);
      assert.deepEqual(evs.filter((e) => e.startsWith('w2p-') || e.startsWith('message:w2p')), [
        'message:w2p', 'w2p-count', 'message:w2p-closing', 'w2p-socket-close',
        'message:w2p-done',
      ]);
      assert.equal(r.events.find((e) => e.ev === 'w2p-count').count, 1);
      assert.equal(r.events.find((e) => e.ev === 'p2w-count').count, 1);
      // close() waited for the worker's copy.
      assert.equal(r.events.find((e) => e.ev === 'p2w-server-closed').dropSent, true);
    };
    await compareImpls(t, 'parity-socket-lists.js', { check, timeout: 30000 });
  });
});
