'use strict';
// Loads the native addon: the binary built from source beside index.js
// (`npm run build`, or `npm install` when no prebuilt package fits), else the
// prebuilt per-platform package @rust-cluster/<triple>, an optional
// dependency that npm installs only on the matching os/cpu/libc.
const path = require('node:path');
const { TARGETS, platformTriple, bindingFileName, packageName } = require('./platform');

function load() {
  const triple = platformTriple();
  const local = path.join(__dirname, '..', bindingFileName(triple));
  const candidates = [
    { id: local, label: `./${bindingFileName(triple)} (built from source)` },
    { id: packageName(triple), label: `${packageName(triple)} (prebuilt package)` },
  ];
  const tried = [];
  for (const { id, label } of candidates) {
    try {
      return require(id);
    } catch (err) {
      // Not there at all: say so briefly. Anything else (a binary that exists
      // but does not load) is the interesting part of the message.
      const missing = err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(id);
      tried.push(`  - ${label}: ${missing ? 'not found' : err.message}`);
    }
  }
  const prebuilt = Object.prototype.hasOwnProperty.call(TARGETS, triple)
    ? `The prebuilt binary comes in ${packageName(triple)}, an optional dependency ` +
      'that npm installs only where os, cpu and libc match: check that optional ' +
      'dependencies were not omitted (--omit=optional, --no-optional) and that ' +
      'node_modules was installed on this kind of machine.'
    : `No prebuilt binary exists for ${triple}.`;
  throw new Error(
    `rust-cluster: could not load the native addon for ${triple} ` +
    `(Node ${process.version}, N-API ${process.versions.napi}, ${process.platform}/${process.arch}).\n` +
    `Tried:\n${tried.join('\n')}\n` +
    `${prebuilt}\n` +
    'To build it from source, install a Rust toolchain (https://rustup.rs) and run ' +
    '`npm rebuild rust-cluster` in your project (or `npm run build` in the rust-cluster package directory).');
}

module.exports = load();
