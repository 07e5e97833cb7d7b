'use strict';
// Preloaded (NODE_OPTIONS=--require) by scripts/node-suite.js in every
// process of a test run with rust-cluster: require('cluster') and
// require('node:cluster') give rust-cluster, except inside rust-cluster
// itself, which needs node:cluster. RUST_CLUSTER_PATH names the package
// directory (default: this checkout).
const Module = require('node:module');
const path = require('node:path');

const root = path.resolve(process.env.RUST_CLUSTER_PATH || path.join(__dirname, '..', '..'));
const entry = require.resolve(root);
const inside = root + path.sep;
const load = Module._load;

Module._load = function _load(request, parent, isMain) {
  if ((request === 'cluster' || request === 'node:cluster') &&
      !(parent && typeof parent.filename === 'string' && parent.filename.startsWith(inside))) {
    return load.call(this, entry, parent, isMain);
  }
  return load.call(this, request, parent, isMain);
};
