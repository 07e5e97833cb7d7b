'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both } = require('./run');
const { assertIPv6 } = require('../helpers/env');

// Which worker answers varies; what each server kind reports must not.
function summary(events) {
  const listening = events.filter((e) => e.ev === 'listening')
    .map(({ kind, addressType, address, fd, keys }) => JSON.stringify({ kind, addressType, address, fd, keys })).sort();
  const answers = events.filter((e) => e.ev === 'answer').map((e) => `${e.kind}:${e.body}`).sort();
  const other = events.filter((e) => !['listening', 'answer'].includes(e.ev));
  return { listening, answers, other };
}

for (const [name, env] of [
  ['round robin (default)', { TAG: 'rr' }],
  ['SCHED_NONE via cluster.schedulingPolicy', { TAG: 'none', POLICY: 'none' }],
  ['SCHED_NONE via NODE_CLUSTER_SCHED_POLICY=none', { TAG: 'envnone', NODE_CLUSTER_SCHED_POLICY: 'none' }],
  ['NODE_CLUSTER_SCHED_POLICY=rr', { TAG: 'envrr', NODE_CLUSTER_SCHED_POLICY: 'rr' }],
]) {
  test(`TCP4, TCP6 (ipv6Only), UDP4, UDP6, Unix socket, same port per server: ${name}`, async () => {
    await assertIPv6();
    const { node, rust } = await both('servers.js', { env });
    assert.equal(rust.code, 0, rust.stderr);
    assert.deepEqual(summary(rust.events), summary(node.events));
    assert.equal(rust.events.filter((e) => e.ev === 'answer').length, 9);
    assert.ok(rust.events.some((e) => e.ev === 'done'));
    assert.ok(!rust.events.some((e) => e.ev === 'port-mismatch'));
    const shared = env.POLICY === 'none' || env.NODE_CLUSTER_SCHED_POLICY === 'none';
    const tcp4 = rust.events.find((e) => e.ev === 'answer' && e.kind === 'tcp4');
    assert.match(tcp4.body, shared ? /^tcp4 TCP from/ : /^tcp4 Object from/);
  });
}
