'use strict';
// connectionStats(): per-worker counters of connections the primary hands.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { scenario } = require('./run');

test('round robin: handed counts match the workers that answered; open is null without tracking', async () => {
  const found = await scenario('stats');
  const [{ tally }] = found.answers;
  const [{ stats }] = found.stats;
  assert.equal(stats.length, 2);
  for (const s of stats) {
    assert.equal(s.handed, tally[s.id] || 0, JSON.stringify({ stats, tally }));
    assert.equal(s.open, null);
  }
  assert.equal(stats.reduce((n, s) => n + s.handed, 0), 20);
});

test('trackConnections(): under round robin too, open counts come from the workers and drop to 0 once clients close', async () => {
  const found = await scenario('stats', { TRACK: '1' });
  const [{ stats }] = found.stats;
  assert.deepEqual(stats.map((s) => s.open), [0, 0]);
  assert.equal(stats.reduce((n, s) => n + s.handed, 0), 20);
});
