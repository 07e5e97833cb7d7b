'use strict';
// Which cluster implementation a fixture's primary actually ran. Every run
// started through fixtureEnv() preloads impl-probe.js, which reports at the
// primary's exit; assertImpl() checks the report, so that a comparison can
// never silently be node:cluster against node:cluster (an environment
// variable, a preloaded rust-cluster/register on the node side, a fixture
// that ignores CLUSTER_MODULE...).
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PROBE = path.join(__dirname, 'impl-probe.js');
const PROBE_FLAG = `--require ${JSON.stringify(PROBE)}`;

// Environment variables that would change how a fixture behaves if they
// leaked in from whoever runs the tests (node --test itself sets some).
const SCRUB = [
  'NODE_UNIQUE_ID', 'NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE',
  'NODE_CLUSTER_SCHED_POLICY', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS',
  'CLUSTER_MODULE', 'RUST_CLUSTER_IMPL_REPORT',
];

/**
 * The environment for a fixture's primary: process.env without SCRUB, plus
 * `extra` (whose NODE_OPTIONS, if any, follows the probe's flag). Returns
 * { env, report, engine }: report() reads the probe's report once the
 * primary has exited (null if it wrote none) and removes the file; engine is
 * the rust-cluster engine this environment asks for ('node' with
 * RUST_CLUSTER_ENGINE=node, the portable one; else 'rust').
 */
function fixtureEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of SCRUB) delete env[k];
  Object.assign(env, extra);
  const file = path.join(os.tmpdir(), `rust-cluster-impl-${process.pid}-${crypto.randomUUID()}.json`);
  env.RUST_CLUSTER_IMPL_REPORT = file;
  env.NODE_OPTIONS = extra.NODE_OPTIONS ? `${PROBE_FLAG} ${extra.NODE_OPTIONS}` : PROBE_FLAG;
  const report = () => {
    try {
      const text = fs.readFileSync(file, 'utf8');
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    } finally {
      fs.rmSync(file, { force: true });
    }
  };
  return { env, report, engine: env.RUST_CLUSTER_ENGINE === 'node' ? 'node' : 'rust' };
}

const NODE_CLUSTER = { engine: null, rustPrimary: false, portable: false, nodePrimary: true };

/**
 * Assert that a primary whose probe reported `report` ran `expected`:
 * 'node' (node:cluster: Node's own cluster primary, nothing of
 * rust-cluster's) or 'rust' (rust-cluster, on `engine`: 'rust' for the Rust
 * engine, lib/primary.js; 'node' for the portable one, lib/portable/).
 */
function assertImpl(report, expected, { engine = 'rust', context = '' } = {}) {
  const where = context ? ` (${context})` : '';
  assert.ok(report, `the primary wrote no implementation report: it did not exit normally${where}`);
  if (expected === 'node') {
    assert.deepEqual(report, NODE_CLUSTER, `the node:cluster side did not run node:cluster's primary alone${where}`);
  } else if (expected === 'rust') {
    const want = engine === 'node'
      ? { engine: 'node', rustPrimary: false, portable: true, nodePrimary: true }
      : { engine: 'rust', rustPrimary: true, portable: false, nodePrimary: report.nodePrimary };
    assert.deepEqual(report, want, `the rust-cluster side did not run rust-cluster's ${engine} engine${where}`);
  } else {
    throw new Error(`unknown implementation ${expected}`);
  }
}

module.exports = { fixtureEnv, assertImpl, SCRUB, PROBE };
