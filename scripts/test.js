'use strict';
// `npm test`, in this order:
//   1. formatting and clippy (warnings are errors), for Linux and for macOS
//      (x64, arm64: it must compile there), the Rust unit tests;
//   2. the linux-arm64-gnu binary, cross-built (`npm run build:arm64`), for
//      __test__/arm64/ and the registry test;
//   3. every test under __test__/ with Node's test runner;
//   4. the parity, docs, supervision and operations tests again on the
//      portable engine (RUST_CLUSTER_ENGINE=node);
//   5. the JS suite under more Node majors (scripts/test-matrix.js;
//      default 22 and 24, whose libuvs differ in how a channel's end is
//      read; RUST_CLUSTER_TEST_NODE=18 or =20,24 picks others,
//      RUST_CLUSTER_TEST_NODE=none skips it), less __test__/arm64/ and
//      __test__/release/, which test binaries and the release, not Node.
//      The host's own major is not run twice.
// --rust-only runs 1, --js-only 2 to 5. The tools steps 2 and 3 need come
// from scripts/setup.sh. Exits non-zero if any step fails.
//
// It refuses to run where a side-by-side test could compare node:cluster
// with itself, and under CI a skipped test fails the run
// (__test__/helpers/runner.js).
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { testFiles } = require('./test-files');
const { refusal, reporterFlags, judgeSkips } = require('../__test__/helpers/runner');

const root = path.join(__dirname, '..');
const tests = path.join(root, '__test__');
// The supervision features' tests are in supervision/ and operations/.
const PORTABLE = ['parity', 'docs', 'supervision', 'operations'];

const refused = refusal();
if (refused) {
  console.error(`npm test: refusing to run: ${refused}`);
  process.exit(1);
}

// The engine is the tests' business: one left in the environment would
// change what every test runs on.
const env = { ...process.env };
delete env.RUST_CLUSTER_ENGINE;

function run(cmd, args, runEnv = env) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: runEnv });
  if (result.error) {
    console.error(`cannot run ${cmd}: ${result.error.message}`);
    return 1;
  }
  return result.status === null ? 1 : result.status;
}

function buildArm64() {
  let PATH;
  try {
    PATH = require('./tools').pathWithTools();
  } catch (err) {
    console.error(`\ncannot build the arm64 binary: ${err.message}`);
    return 1;
  }
  return run('npm', ['run', 'build:arm64'], { ...env, PATH });
}

// The engine compiles for macOS (its binaries are not run or published yet).
const MACOS_TARGETS = ['aarch64-apple-darwin', 'x86_64-apple-darwin'];

const only = process.argv.slice(2);
let failed = 0;
if (!only.includes('--js-only')) {
  failed |= run('cargo', ['fmt', '--check']);
  failed |= run('cargo', ['clippy', '--all-targets', '--locked', '--quiet', '--', '-D', 'warnings']);
  for (const target of MACOS_TARGETS) {
    failed |= run('cargo', ['clippy', '--target', target, '--all-targets', '--locked', '--quiet', '--', '-D', 'warnings']);
  }
  failed |= run('cargo', ['test', '--lib', '--locked', '--quiet']);
}
if (!only.includes('--rust-only')) {
  failed |= buildArm64();
  // Node's default reporter (spec on a terminal, tap otherwise), and the
  // skip reporter beside it.
  const node = (files, runEnv) => {
    const reporters = reporterFlags(process.stdout.isTTY ? 'spec' : 'tap');
    const status = run(process.execPath, ['--test', '--test-concurrency=2', ...reporters.flags, ...files], runEnv);
    return status | judgeSkips(reporters.skipped());
  };
  failed |= node(testFiles(tests));
  console.log(`\n# The ${PORTABLE.join(', ')} tests again on the portable engine (RUST_CLUSTER_ENGINE=node)`);
  failed |= node(PORTABLE.flatMap((d) => testFiles(path.join(tests, d))), { ...env, RUST_CLUSTER_ENGINE: 'node' });
  const hostMajor = process.versions.node.split('.')[0];
  const others = (process.env.RUST_CLUSTER_TEST_NODE || '22,24').split(',').map((v) => v.trim())
    .filter((v) => v && v !== 'none' && v !== hostMajor);
  if (others.length) {
    failed |= run(process.execPath, [path.join(__dirname, 'test-matrix.js'), '--versions', others.join(',')]);
  }
}
process.exit(failed ? 1 : 0);
