'use strict';
// Preloaded into a fixture's primary (NODE_OPTIONS=--require, see
// impl.js): when the primary exits, it writes to the file named by
// RUST_CLUSTER_IMPL_REPORT which cluster primary the process ran, so a
// side-by-side test can check that each side ran the implementation it is
// meant to compare, not node:cluster twice.
//
// It leaves no trace in what the fixture or its workers see: the variable
// and its own NODE_OPTIONS flag are taken out of process.env at once, so
// workers (forked with process.env) neither load it nor inherit it.
const fs = require('node:fs');
const path = require('node:path');

const FLAG = `--require ${JSON.stringify(__filename)}`;
const report = process.env.RUST_CLUSTER_IMPL_REPORT;
delete process.env.RUST_CLUSTER_IMPL_REPORT;
const options = process.env.NODE_OPTIONS || '';
const rest = options.startsWith(FLAG) ? options.slice(FLAG.length).trim() : options;
if (rest) process.env.NODE_OPTIONS = rest;
else delete process.env.NODE_OPTIONS;

const ROOT = path.resolve(__dirname, '../..');
const loaded = (file) => Object.prototype.hasOwnProperty.call(require.cache, path.join(ROOT, file));

if (report && process.env.NODE_UNIQUE_ID === undefined) {
  // Opened now: at exit the descriptor table may be full (faults/emfile).
  const fd = fs.openSync(report, 'w');
  process.on('exit', () => {
    const index = require.cache[path.join(ROOT, 'index.js')];
    fs.writeSync(fd, JSON.stringify({
      // rust-cluster's own word on its engine ('rust' or 'node'), if loaded...
      engine: index && index.exports && typeof index.exports.engine === 'string' ? index.exports.engine : null,
      // ...and the engines' modules: the Rust one, the portable one...
      rustPrimary: loaded('lib/primary.js'),
      portable: loaded('lib/portable/index.js'),
      // ...and Node's own cluster primary (which both of ours load too).
      nodePrimary: Array.isArray(process.moduleLoadList) &&
        process.moduleLoadList.includes('NativeModule internal/cluster/primary'),
    }));
  });
}
