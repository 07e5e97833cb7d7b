'use strict';
// SCHED_LEASTCONN: the primary accepts and picks the worker with the fewest
// open connections, which workers report through rust-cluster's agent.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { scenario } = require('./run');

const step = (found, name) => found.stats.find((s) => s.step === name).stats;

function checkLeastConn(found) {
  // Equal counts: round-robin order.
  assert.deepEqual(found.first[0].workers, [1, 2, 1, 2, 1, 2]);
  assert.deepEqual(step(found, 'held'), [{ id: 1, handed: 3, open: 3 }, { id: 2, handed: 3, open: 3 }]);
  // Worker 1's clients closed: its count went down.
  assert.deepEqual(step(found, 'closed'), [{ id: 1, handed: 3, open: 0 }, { id: 2, handed: 3, open: 3 }]);
  // Worker 2 still holds 3: all new connections go to worker 1.
  assert.deepEqual(found.second[0].workers, [1, 1, 1]);
  assert.deepEqual(step(found, 'again'), [{ id: 1, handed: 6, open: 3 }, { id: 2, handed: 3, open: 3 }]);
  assert.deepEqual(step(found, 'end'), [{ id: 1, handed: 6, open: 0 }, { id: 2, handed: 3, open: 0 }]);
}

test('leastconn: a worker holding connections gets no new ones while another has fewer; counters follow closes', async () => {
  const found = await scenario('leastconnHold', { POLICY: 'SCHED_LEASTCONN' });
  assert.equal(found.policy[0].policy, 4);
  checkLeastConn(found);
});

test('leastconn with advanced serialization', async () => {
  checkLeastConn(await scenario('leastconnHold', { POLICY: 'SCHED_LEASTCONN', SERIALIZATION: 'advanced' }));
});

test('leastconn: a worker that requires rust-cluster late (after the primary first asked) is asked again when it listens', async () => {
  checkLeastConn(await scenario('leastconnHold', { POLICY: 'SCHED_LEASTCONN', LATE_AGENT: '1' }));
});

test('leastconn: workers that never load rust-cluster get round robin', async () => {
  const found = await scenario('leastconnHold', { POLICY: 'SCHED_LEASTCONN', NO_AGENT: '1' });
  assert.deepEqual(found.first[0].workers, [1, 2, 1, 2, 1, 2]);
  for (const s of step(found, 'again')) assert.equal(s.open, null);
  // Round robin goes on regardless of the connections worker 2 holds.
  assert.ok(found.second[0].workers.includes(2), JSON.stringify(found.second[0]));
});
