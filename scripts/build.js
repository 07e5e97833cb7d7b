'use strict';
// Builds the native addon from source with cargo and copies it next to
// index.js as rust_cluster.<platform>.node, the name lib/binding.js loads.
// `--if-missing` skips the build when a binary is already there (npm install).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { bindingFileName } = require('../lib/platform');

const root = path.join(__dirname, '..');
const target = path.join(root, bindingFileName());

if (process.argv.includes('--if-missing') && fs.existsSync(target)) {
  process.exit(0);
}

const debug = process.argv.includes('--debug');
const cargo = process.env.CARGO || 'cargo';
const args = ['build', '--lib', '--locked'];
if (!debug) args.push('--release');

const result = spawnSync(cargo, args, { cwd: root, stdio: 'inherit' });
if (result.error) {
  console.error(`rust-cluster: could not run '${cargo}' (${result.error.code}). ` +
    'Building from source needs a Rust toolchain: https://rustup.rs');
  process.exit(1);
}
if (result.status !== 0) process.exit(result.status || 1);

const built = path.join(root, 'target', debug ? 'debug' : 'release', 'librust_cluster.so');
fs.copyFileSync(built, target);
console.log(`rust-cluster: built ${path.basename(target)}`);
