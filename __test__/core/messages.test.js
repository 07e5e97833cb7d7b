'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both } = require('./run');

for (const mode of ['json', 'advanced']) {
  test(`messages both ways in ${mode} mode arrive as node:cluster delivers them`, async () => {
    const { node, rust } = await both('messages.js', { env: { MODE: mode } });
    assert.equal(rust.code, 0, rust.stderr);
    assert.deepEqual(rust.events, node.events);
    const received = rust.events.filter((e) => e.ev === 'worker:message').map((e) => e.message);
    assert.ok(!received.some((m) => m.includes('NODE_fake')), 'internal messages never reach listeners');
    if (mode === 'advanced') assert.ok(received.some((m) => m.includes('Map(1)')));
  });
}
