'use strict';
// SCHED_STICKY: the same client IP always lands on the same live worker.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { scenario } = require('./run');

test('sticky (NODE_CLUSTER_SCHED_POLICY=sticky): each client IP lands on one worker; when it dies its clients move and stay', async () => {
  const found = await scenario('sticky', { NODE_CLUSTER_SCHED_POLICY: 'sticky' });
  assert.equal(found.policy[0].policy, 5);
  const [{ seen: before }] = found.before;
  const [{ victim, seen: after, again }] = found.after;
  // 5 connections at once from each of 8 addresses: one worker each.
  for (const [ip, workers] of Object.entries(before)) assert.equal(workers.length, 1, `${ip}: ${workers}`);
  const used = new Set(Object.values(before).map(([w]) => w));
  assert.ok(used.size >= 2, `clients spread over workers: ${[...used]}`);
  for (const [ip, [was]] of Object.entries(before)) {
    assert.equal(after[ip].length, 1, `${ip} after: ${after[ip]}`);
    const [now] = after[ip];
    if (was === victim) assert.notEqual(now, victim, `${ip} moved off the dead worker`);
    else assert.equal(now, was, `${ip} stayed on its live worker`);
    // ...and stays where it moved.
    assert.deepEqual(again[ip], after[ip], `${ip} stays`);
  }
});

test('sticky on a Unix socket (no client address): the primary hands connections to any ready worker', async () => {
  const found = await scenario('unix', { POLICY: 'SCHED_STICKY' });
  assert.equal(Object.values(found.answers[0].tally).reduce((a, b) => a + b, 0), 20);
  assert.equal(found.stats[0].stats.reduce((n, s) => n + s.handed, 0), 20);
});
