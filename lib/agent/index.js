'use strict';
// The worker side of rust-cluster's supervision, loaded in every worker
// (by index.js, or with `node --require rust-cluster/lib/agent`). Passive:
// it only acts on { cmd: 'NODE_RUST_CLUSTER' } messages from our primary.
const cluster = require('node:cluster');

const kInstalled = Symbol.for('rust-cluster.agent');
if (cluster.isWorker && !globalThis[kInstalled]) {
  Object.defineProperty(globalThis, kInstalled, { value: true });
  require('./drain').install();
  require('./heartbeat').install();
}
