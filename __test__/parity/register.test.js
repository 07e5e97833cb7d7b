'use strict';
// rust-cluster/register: a program that keeps require('node:cluster') (or
// imports it), and libraries that use cluster themselves, run under
// rust-cluster when the process starts with `--require`/`--import
// rust-cluster/register`. Each program runs as it is under node:cluster and
// with the flag; what they print must match, except the marker saying which
// cluster the primary had.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { compareImpls, CONCURRENCY, IMPLS, RUST } = require('../helpers/harness');

// The fixtures require node:cluster themselves (CLUSTER_MODULE is ignored);
// the 'rust' side differs only by the preload. Comparing node:cluster with
// itself (RUST_CLUSTER_TEST_IMPL=node:cluster) drops the preload.
const withRegister = IMPLS.rust === RUST;
const register = path.join(RUST, 'register.js');
const env = (flag) => (impl) => (impl === 'rust' && withRegister ? { NODE_OPTIONS: `${flag} "${register}"` } : {});

const check = (r, impl) => {
  const primary = r.events.find((e) => e.ev === 'primary');
  assert.equal(primary.rust, impl === 'rust' && withRegister, 'which cluster the primary got');
  assert.equal(primary.same, true, 'every name for cluster is one object');
};
const normalize = (r) => r.events.map(({ rust, ...e }) => e);

describe('parity/register', { concurrency: CONCURRENCY }, () => {
  test('prom-client AggregatorRegistry sums the workers\' metrics', { timeout: 60000 }, async (t) => {
    const { node } = await compareImpls(t, 'parity-register-prom.js', { env: env('--require'), check }, (r) => {
      // Workers exit in either order, in node:cluster too.
      const events = normalize(r);
      return [...events.filter((e) => e.ev !== 'exit'), ...events.filter((e) => e.ev === 'exit').sort((a, b) => a.id - b.id)];
    });
    const metrics = node.events.find((e) => e.ev === 'metrics').lines;
    assert.ok(metrics.includes('jobs_total{kind="a"} 30'), metrics.join('\n'));
    assert.ok(metrics.includes('jobs_queued 6'), metrics.join('\n'));
  });

  test('ES module: import from node:cluster and cluster, and require', { timeout: 60000 }, async (t) => {
    await compareImpls(t, 'parity-register.mjs', { env: env('--import'), check }, (r) => {
      for (const e of r.events) if (e.ev === 'worker') assert.equal(e.same, true, 'worker: one object');
      return normalize(r);
    });
  });
});
