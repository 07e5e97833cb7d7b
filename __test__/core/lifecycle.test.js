'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both, perWorker } = require('./run');

test('fork/online/listening/message/disconnect/exit match node:cluster', async () => {
  const { node, rust } = await both('lifecycle.js');
  assert.equal(rust.code, 0, rust.stderr);
  assert.deepEqual(perWorker(rust.events), perWorker(node.events));
  assert.ok(rust.events.some((e) => e.ev === 'requests' && e.ok === 40 && e.workers === 2));
});
