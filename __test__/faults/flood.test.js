'use strict';
// A worker that floods the primary with messages (src/channel/mod.rs reads
// a bounded number of times per loop turn):
// as under node:cluster, the excess waits in the worker, not the primary,
// and the primary's event loop still turns while it works through them.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both } = require('../core/run');

const FLOOD_MIB = 240;

test('a worker flooding the primary with messages: the primary keeps its memory and its timers', async () => {
  const runs = await both('../../faults/fixtures/flood.js', { timeout: 240000 });
  for (const [impl, r] of Object.entries(runs)) {
    const done = r.events.find((e) => e.ev === 'done');
    assert.ok(done, `${impl}: ${r.stdout}\n${r.stderr}`);
    assert.equal(done.handled, 60000, impl);
    assert.ok(done.timerAt >= 0, `${impl}: the primary's timer did not fire before the last message`);
    assert.ok(done.growthMiB < FLOOD_MIB / 2,
      `${impl}: the primary's RSS grew ${done.growthMiB} MiB during a ${FLOOD_MIB} MiB flood`);
  }
});
