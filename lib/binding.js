'use strict';
// Loads the native addon: a prebuilt per-platform package when one is
// installed, else the binary `npm install` built from source beside index.js.
const path = require('node:path');
const { platformTriple, bindingFileName } = require('./platform');

function load() {
  const candidates = [
    path.join(__dirname, '..', bindingFileName()),
    `@rust-cluster/${platformTriple()}`,
  ];
  const errors = [];
  for (const candidate of candidates) {
    try {
      return require(candidate);
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') errors.push(`${candidate}: ${err.message}`);
    }
  }
  const detail = errors.length ? `\n${errors.join('\n')}` : '';
  throw new Error(
    `rust-cluster: no native binary for ${platformTriple()} (Node ${process.version}).` +
    ' Build it from source with `npm run build` (needs a Rust toolchain).' + detail);
}

module.exports = load();
