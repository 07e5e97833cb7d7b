'use strict';
// Which primary rust-cluster runs. The Rust engine (lib/primary.js) needs
// the native addon; where it does not load (no prebuilt binary for this
// platform, none built from source) the portable engine (lib/portable/,
// node:cluster's own primary) takes its place, with the same API and events.
//
//   RUST_CLUSTER_ENGINE=rust   the Rust engine, or an error saying why not
//   RUST_CLUSTER_ENGINE=node   the portable engine, even where Rust loads
//   unset (or auto)            Rust where it loads, else portable
//
// `cluster.engine` (not enumerable) says which: 'rust' or 'node'.
// NODE_DEBUG=rust-cluster tells why the addon did not load.
const { debuglog } = require('node:util');

const debug = debuglog('rust-cluster');
const CHOICES = new Set(['rust', 'node', 'auto', '']);

function requested() {
  const value = process.env.RUST_CLUSTER_ENGINE;
  if (value === undefined) return 'auto';
  if (CHOICES.has(value)) return value || 'auto';
  process.emitWarning(`RUST_CLUSTER_ENGINE=${JSON.stringify(value)} is not one of rust, node, auto: ` +
    'using auto (Rust where its addon loads)', { code: 'RUST_CLUSTER_ENGINE_UNKNOWN' });
  return 'auto';
}

function addonError(cause) {
  const err = new Error('rust-cluster: RUST_CLUSTER_ENGINE=rust, but the Rust engine\'s native addon ' +
    `does not load here (${process.platform}-${process.arch}, Node ${process.version}): ${cause.message}\n` +
    'npm installs the prebuilt binary of a supported platform as an optional dependency ' +
    '(@rust-cluster/binding-<platform>); elsewhere, with a Rust toolchain (https://rustup.rs), ' +
    '`npm rebuild rust-cluster` builds it from source. Unset RUST_CLUSTER_ENGINE to fall back to ' +
    'the portable engine (node:cluster\'s own primary).', { cause });
  err.code = 'ERR_RUST_CLUSTER_NO_ADDON';
  return err;
}

function load(name) {
  const cluster = name === 'rust' ? require('./primary') : require('./portable');
  if (!Object.prototype.hasOwnProperty.call(cluster, 'engine')) {
    Object.defineProperty(cluster, 'engine', { value: name, enumerable: false, configurable: true });
  }
  return cluster;
}

/** The primary's cluster object of the engine in use. */
function primary() {
  const want = requested();
  if (want === 'node') return load('node');
  try {
    require('./binding');
  } catch (err) {
    if (want === 'rust') throw addonError(err);
    debug('the native addon does not load (%s): portable engine', err.message);
    return load('node');
  }
  return load('rust');
}

module.exports = { primary };
