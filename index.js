'use strict';
// rust-cluster: a drop-in replacement for node:cluster. In a worker, Node's
// own cluster worker side already speaks to our primary over the IPC
// channel, so a worker gets node:cluster itself (plus a passive agent that
// answers the supervisor, lib/agent/); the primary is the Rust engine, or
// node:cluster's own where that does not load (lib/engine.js).
const nodeCluster = require('node:cluster');

if (nodeCluster.isWorker) require('./lib/agent');

module.exports = nodeCluster.isWorker ? nodeCluster : require('./lib/engine').primary();
