'use strict';
// rust-cluster: a drop-in replacement for node:cluster. In a worker, Node's
// own cluster worker side already speaks to our primary over the IPC
// channel, so a worker gets node:cluster itself; the primary is ours.
const nodeCluster = require('node:cluster');

// The worker also gets our agent (lib/agent), passive unless our primary
// asks it to report.
if (nodeCluster.isWorker) require('./lib/agent').install();

module.exports = nodeCluster.isWorker ? nodeCluster : require('./lib/primary');
