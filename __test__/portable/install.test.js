'use strict';
// The install script (scripts/install.js) never fails an install: without a
// binary that loads, and without cargo or with a build that fails, it exits
// 0 and says once that the portable engine will run. (With a prebuilt
// binary, and with none and no cargo, as a user installs:
// __test__/release/registry.test.js; a build from source: every npm install
// of this checkout.)
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { platformTriple } = require('../../lib/platform');

const ROOT = path.resolve(__dirname, '../..');

// The package without any binary, in a directory of its own.
function copyWithoutAddon(t) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rust-cluster-install-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = path.join(tmp, 'rust-cluster');
  fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  for (const f of ['package.json', 'index.js', 'binding.js', 'lib', 'scripts/install.js']) {
    fs.cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
  }
  return { tmp, dir };
}

function install(dir, env) {
  const childEnv = { ...process.env };
  delete childEnv.RUST_CLUSTER_BUILD_FROM_SOURCE;
  Object.assign(childEnv, env);
  return spawnSync(process.execPath, [path.join(dir, 'scripts', 'install.js')], { cwd: dir, encoding: 'utf8', env: childEnv });
}

test('install without a binary and without cargo: exit 0, one line naming the portable engine', (t) => {
  const { tmp, dir } = copyWithoutAddon(t);
  const r = install(dir, { CARGO: path.join(tmp, 'no-such-cargo') });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, r.stdout);
  assert.match(lines[0], new RegExp(`^rust-cluster: no prebuilt binary for ${platformTriple()} and no Rust toolchain ` +
    '\\(cargo\\) to build one: rust-cluster will run on its portable engine'));
});

test('install whose source build fails (or RUST_CLUSTER_BUILD_FROM_SOURCE without cargo): exit 0, portable engine', (t) => {
  const { tmp, dir } = copyWithoutAddon(t);
  // A cargo that knows its version and fails every build.
  const cargo = path.join(tmp, 'cargo');
  fs.writeFileSync(cargo, '#!/bin/sh\n[ "$1" = --version ] && { echo "cargo 1.95.0"; exit 0; }\necho "error: no" >&2\nexit 101\n');
  fs.chmodSync(cargo, 0o755);
  let r = install(dir, { CARGO: cargo });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^rust-cluster: building the Rust engine from source for [\w-]+: .*cargo build --release --lib --locked$/m);
  assert.match(r.stdout, /^rust-cluster: building from source failed \(cargo failed \(exit 101\)\): rust-cluster will run on its portable engine/m);

  r = install(dir, { CARGO: path.join(tmp, 'no-such-cargo'), RUST_CLUSTER_BUILD_FROM_SOURCE: '1' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^rust-cluster: building from source failed \(RUST_CLUSTER_BUILD_FROM_SOURCE is set but cargo is not on PATH\): rust-cluster will run on its portable engine/m);
});
