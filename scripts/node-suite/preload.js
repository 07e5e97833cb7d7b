'use strict';
// Preloaded (NODE_OPTIONS=--require) by scripts/node-suite.js in every
// process of a test run with rust-cluster: rust-cluster/register, so that
// require('cluster') and require('node:cluster') give rust-cluster.
// RUST_CLUSTER_PATH names the package directory (default: this checkout).
const path = require('node:path');

require(path.join(path.resolve(process.env.RUST_CLUSTER_PATH || path.join(__dirname, '..', '..')), 'register.js'));
