'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both } = require('./run');

test('net.Socket, net.Server and dgram.Socket travel primary→worker, net.Socket worker→primary', async () => {
  const { node, rust } = await both('handles.js');
  assert.equal(rust.code, 0, rust.stderr);
  assert.deepEqual(rust.events, node.events);
  assert.ok(rust.events.some((e) => e.ev === 'client got' && e.data === 'worker 1 answers'));
  assert.ok(rust.events.some((e) => e.ev === 'client2 got' && e.data === 'served by worker'));
  assert.ok(rust.events.some((e) => e.ev === 'udp reply' && e.msg === 'pong ping'));
  assert.ok(rust.events.some((e) => e.ev === 'got back' && e.type === 'Socket'));
});
