'use strict';
// Selecting a policy: constants, NODE_CLUSTER_SCHED_POLICY, setupPrimary().
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { runScenario, assertClean, describeRun } = require('../helpers/harness');
const { scenario } = require('./run');

const PRIMARY = path.join(__dirname, 'fixtures', 'primary.js');
const ROOT = path.resolve(__dirname, '../..');

async function policyUnder(impl, env) {
  const r = await runScenario(PRIMARY, { impl, env: { SCENARIO: 'policy', ...env } });
  assertClean(r);
  const found = r.events.find((e) => e.ev === 'policy');
  assert.ok(found, describeRun(r));
  return found.policy;
}

test('the added constants, in the primary', () => {
  const cluster = require(ROOT);
  assert.deepEqual(
    [cluster.SCHED_NONE, cluster.SCHED_RR, cluster.SCHED_REUSEPORT, cluster.SCHED_LEASTCONN, cluster.SCHED_STICKY],
    [1, 2, 3, 4, 5]);
});

test('NODE_CLUSTER_SCHED_POLICY selects reuseport, leastconn, sticky', async () => {
  for (const [value, policy] of [['reuseport', 3], ['leastconn', 4], ['sticky', 5], ['none', 1], ['rr', 2]]) {
    assert.equal(await policyUnder('rust', { NODE_CLUSTER_SCHED_POLICY: value }), policy, value);
  }
});

test('an unknown NODE_CLUSTER_SCHED_POLICY means round robin, as in node:cluster', async () => {
  for (const value of ['bogus', 'RR', 'Reuseport', '', 'constructor']) {
    const node = await policyUnder('node', { NODE_CLUSTER_SCHED_POLICY: value });
    const rust = await policyUnder('rust', { NODE_CLUSTER_SCHED_POLICY: value });
    assert.deepEqual({ value, rust }, { value, rust: node });
    assert.equal(rust, 2);
  }
  // And connections really go through the primary's round robin.
  const found = await scenario('stats', { NODE_CLUSTER_SCHED_POLICY: 'bogus' });
  assert.equal(found.stats[0].stats.reduce((n, s) => n + s.handed, 0), 20);
});

test('setupPrimary({ schedulingPolicy }) is honoured (node:cluster ignores the key)', async () => {
  assert.equal(await policyUnder('rust', { SETUP_POLICY: 'SCHED_STICKY' }), 5);
  assert.equal(await policyUnder('rust', { SETUP_POLICY: 'SCHED_NONE' }), 1);
  assert.equal(await policyUnder('node', { SETUP_POLICY: 'SCHED_NONE' }), 2);
  // The property, set before, is overridden by the setting.
  assert.equal(await policyUnder('rust', { POLICY: 'SCHED_NONE', SETUP_POLICY: 'SCHED_REUSEPORT' }), 3);
});
