'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both } = require('./run');

for (const policy of ['rr', 'none']) {
  test(`no deprecated API is used (TCP, Unix socket, UDP4, UDP6; ${policy}) under --throw-deprecation`, async () => {
    const env = { POLICY: policy, NODE_OPTIONS: '--throw-deprecation --pending-deprecation' };
    const { node, rust } = await both('deprecations.js', { env });
    assert.equal(node.code, 0, node.stderr);
    assert.equal(rust.code, 0, rust.stderr);
    assert.doesNotMatch(rust.stderr, /Deprecation/);
    assert.deepEqual(rust.events, node.events);
  });
}
