'use strict';
// npm's install script of rust-cluster. It never fails an install: it says
// once which engine rust-cluster will run on here, building the Rust
// engine's addon from source first when that is possible and needed:
//
//   - a binary that loads (the prebuilt @rust-cluster/binding-<platform>
//     package npm installed, or one built before): the Rust engine;
//   - else, with cargo on PATH (or RUST_CLUSTER_BUILD_FROM_SOURCE=1, which
//     also replaces a binary that loads): `cargo build --release`, and the
//     result is copied beside index.js as rust_cluster.<platform>.node;
//   - else, or if the build fails: the portable engine (node:cluster's own
//     primary, lib/portable/).
//
// This is the one part of the build @napi-rs/cli does not do: the CLI is a
// development dependency, absent when rust-cluster is installed as a
// dependency, so this builds with cargo alone. Developers build with
// `npm run build` (napi build).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { platformTriple, bindingFileName } = require('../lib/platform');

const root = path.join(__dirname, '..');
const say = (line) => console.log(`rust-cluster: ${line}`);
const fromSource = /^(1|true)$/i.test(process.env.RUST_CLUSTER_BUILD_FROM_SOURCE || '');
const triple = platformTriple();

// Whether the Rust engine's addon loads, in a fresh process (so that a
// binary built below is seen): the path of the .node file, or an error.
function probe() {
  const code = `require(${JSON.stringify(path.join(root, 'binding.js'))});
    process.stdout.write(Object.keys(require.cache).find((f) => f.endsWith('.node')) || '');`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout) return { file: r.stdout };
  const lines = (r.stderr || '').split('\n').filter((l) => /Error/.test(l));
  return { error: lines[0] || `exit ${r.status}` };
}

function cargoVersion() {
  const r = spawnSync(process.env.CARGO || 'cargo', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function libName() {
  if (process.platform === 'win32') return 'rust_cluster.dll';
  if (process.platform === 'darwin') return 'librust_cluster.dylib';
  return 'librust_cluster.so';
}

function build() {
  const cargo = process.env.CARGO || 'cargo';
  say(`building the Rust engine from source for ${triple}: ${cargo} build --release --lib --locked`);
  const r = spawnSync(cargo, ['build', '--release', '--lib', '--locked'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) return `cargo failed (${r.error ? r.error.message : `exit ${r.status}`})`;
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target');
  fs.copyFileSync(path.join(targetDir, 'release', libName()), path.join(root, bindingFileName(triple)));
  return null;
}

function portable(why) {
  say(`${why}: rust-cluster will run on its portable engine (node:cluster's own primary, with ` +
    'the same API; rust-cluster\'s own scheduling policies fall back to round robin). ' +
    'See "Supported platforms" in its README.');
}

function main() {
  const before = fromSource ? null : probe();
  if (before && before.file) {
    say(`Rust engine (${path.relative(root, before.file)})`);
    return;
  }
  const cargo = cargoVersion();
  if (!cargo && !fromSource) {
    portable(`no prebuilt binary for ${triple} and no Rust toolchain (cargo) to build one`);
    return;
  }
  const failed = cargo ? build() : 'RUST_CLUSTER_BUILD_FROM_SOURCE is set but cargo is not on PATH';
  const after = failed ? null : probe();
  if (after && after.file) say(`Rust engine (built from source: ${path.relative(root, after.file)})`);
  else portable(`building from source failed (${failed || after.error})`);
}

main();
