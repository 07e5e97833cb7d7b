'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both } = require('./run');

// Node 18's own cluster primary crashes on this scenario: a net.Server a
// worker receives listens through the primary with a null path
// (RoundRobinHandle throws ERR_INVALID_ARG_VALUE). Fixed in Node 20.
const skip = Number(process.versions.node.split('.')[0]) < 20 &&
  'node:cluster itself crashes on a net.Server sent to a worker in Node 18';

test('net.Socket, net.Server and dgram.Socket travel primary→worker, net.Socket worker→primary', { skip }, async () => {
  const { node, rust } = await both('handles.js');
  assert.equal(rust.code, 0, rust.stderr);
  assert.deepEqual(rust.events, node.events);
  assert.ok(rust.events.some((e) => e.ev === 'client got' && e.data === 'worker 1 answers'));
  assert.ok(rust.events.some((e) => e.ev === 'client2 got' && e.data === 'served by worker'));
  assert.ok(rust.events.some((e) => e.ev === 'udp reply' && e.msg === 'pong ping'));
  assert.ok(rust.events.some((e) => e.ev === 'got back' && e.type === 'Socket'));
});
