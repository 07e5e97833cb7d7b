'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both, run } = require('./run');

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

// Node reads whatever waits on the channel in one go and emits it in one
// tick, so a primary that was busy while several messages arrived can miss
// all but the first with `await once(worker, 'message')` in a loop.
// rust-cluster reads each as it comes (on its I/O thread) and lets the
// microtasks run between reads, so none is missed. (A difference in our
// favour; node:cluster's result depends on timing, so it is not compared.)
test('awaiting messages one by one misses none that arrived apart while JS was busy', async () => {
  const r = await run('await-once.js', 'rust');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.events, [{ ev: 'received', received: [0, 1, 2, 3] }]);
});
