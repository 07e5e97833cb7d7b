'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both } = require('./run');

test('invalid arguments throw or emit exactly what node:cluster does', async () => {
  const { node, rust } = await both('bad-args.js');
  assert.equal(rust.code, 0, rust.stderr);
  assert.deepEqual(rust.events, node.events);
  assert.ok(rust.events.length >= 20, `${rust.events.length} cases`);
  assert.ok(rust.events.filter((e) => e.threw).length >= 15);
});
