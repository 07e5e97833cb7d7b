'use strict';
// `npm test`: formatting and clippy (warnings are errors), the Rust unit
// tests, then every test under __test__/ with
// Node's test runner, then the same JS suite under one more Node major
// (scripts/test-matrix.js; default 22, RUST_CLUSTER_TEST_NODE=24 picks
// another, RUST_CLUSTER_TEST_NODE=none skips it). Exits non-zero if any fails.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { testFiles } = require('./test-files');

const root = path.join(__dirname, '..');

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`cannot run ${cmd}: ${result.error.message}`);
    return 1;
  }
  return result.status === null ? 1 : result.status;
}

const only = process.argv.slice(2);
let failed = 0;
if (!only.includes('--js-only')) {
  failed |= run('cargo', ['fmt', '--check']);
  failed |= run('cargo', ['clippy', '--all-targets', '--locked', '--quiet', '--', '-D', 'warnings']);
  failed |= run('cargo', ['test', '--lib', '--locked', '--quiet']);
}
if (!only.includes('--rust-only')) {
  failed |= run(process.execPath, ['--test', '--test-concurrency=2', ...testFiles(path.join(root, '__test__'))]);
  const other = process.env.RUST_CLUSTER_TEST_NODE || '22';
  const hostMajor = process.versions.node.split('.')[0];
  if (other !== 'none' && other !== hostMajor) {
    failed |= run(process.execPath, [path.join(__dirname, 'test-matrix.js'), '--versions', other]);
  }
}
process.exit(failed ? 1 : 0);
