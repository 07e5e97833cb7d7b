'use strict';
// The portable engine: node:cluster's own primary, for where the Rust
// engine's addon does not load (no binary for this platform, none built) or
// RUST_CLUSTER_ENGINE=node asks for it. It is node:cluster itself, the same
// object, with rust-cluster's extensions that do not need the Rust engine
// added as non-enumerable properties (Object.keys stays node's):
// supervise(), reload(), scale(), stats(), shutdown() (lib/supervisor/), and
// the SCHED_* names of rust-cluster's policies, which are served round robin
// here (policy.js). Workers are node:cluster's either way, so they need
// nothing different.
const cluster = require('node:cluster');
const policy = require('./policy');
const workers = require('./workers');
const connections = require('./connections');

const kInstalled = Symbol.for('rust-cluster.portable');

if (!cluster[kInstalled]) {
  Object.defineProperty(cluster, kInstalled, { value: true });
  policy.install(cluster);
  workers.install(cluster);
  require('../supervisor').attach(cluster, { connections });
}

module.exports = cluster;
