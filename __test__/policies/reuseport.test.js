'use strict';
// SCHED_REUSEPORT: a SO_REUSEPORT socket per worker, the kernel balances.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { scenario } = require('./run');

const SCHED_REUSEPORT = 3;

test('reuseport: every worker serves from its own socket on the listen(0) port; the primary accepts nothing', async () => {
  const found = await scenario('reuseportServe', { POLICY: 'SCHED_REUSEPORT' });
  assert.equal(found.policy[0].policy, SCHED_REUSEPORT);
  const [{ ports }] = found.ports;
  assert.equal(ports.length, 3);
  assert.ok(ports[0] > 0);
  assert.deepEqual(ports, [ports[0], ports[0], ports[0]]);
  // Three listening sockets on that port, not one shared.
  assert.equal(found.listeners[0].count, 3);
  const [{ tally }] = found.answers;
  assert.deepEqual(Object.keys(tally).sort(), ['1', '2', '3'], JSON.stringify(tally));
  const [{ stats }] = found.stats;
  assert.deepEqual(stats.map((s) => s.handed), [0, 0, 0]);
});

test('reuseport via NODE_CLUSTER_SCHED_POLICY=reuseport', async () => {
  const found = await scenario('reuseportServe', { NODE_CLUSTER_SCHED_POLICY: 'reuseport' });
  assert.equal(found.policy[0].policy, SCHED_REUSEPORT);
  assert.equal(found.listeners[0].count, 3);
  assert.deepEqual(found.stats[0].stats.map((s) => s.handed), [0, 0, 0]);
});

test('reuseport: connections queued on a stuck worker\'s socket are answered by another when it is killed', async () => {
  const found = await scenario('reuseportKill', { POLICY: 'SCHED_REUSEPORT' });
  const [{ queued }] = found.queued;
  assert.ok(queued > 0);
  const [{ tally, b }] = found.answers;
  // All 30 answered, by the surviving worker only.
  assert.deepEqual(tally, { [b]: 30 });
  // The ones that were queued went through the primary's handoff.
  const [{ stats }] = found.stats;
  assert.deepEqual(stats, [{ id: b, handed: queued, open: null }]);
});

test('reuseport: a worker closing its server or disconnecting takes its socket out; the others serve', async () => {
  const found = await scenario('reuseportClose', { POLICY: 'SCHED_REUSEPORT' });
  const [{ tally, closed, others }] = found.answers;
  assert.equal(tally[closed], undefined);
  assert.deepEqual(Object.keys(tally).map(Number).sort(), others.sort());
  const [{ tally: last }] = found.last;
  assert.deepEqual(Object.keys(last).map(Number), [others.find((id) => id !== 2)]);
  assert.equal(Object.values(last)[0], 10);
});

test('reuseport on a Unix socket falls back to a shared socket', async () => {
  const found = await scenario('unix', { POLICY: 'SCHED_REUSEPORT', EXPECT_HANDED: '0' });
  assert.equal(Object.values(found.answers[0].tally).reduce((a, b) => a + b, 0), 20);
  assert.deepEqual(found.stats[0].stats.map((s) => s.handed), [0, 0]);
});
