'use strict';
// What `npm test` and `npm run test:matrix` (scripts/) hold the environment
// and the results to, beyond the tests' own assertions:
//  - no variable that could make a side-by-side test compare node:cluster
//    with itself (or skip rust-cluster): those runs would pass for the
//    wrong reason;
//  - under CI (CI set, and not 'false' or '0'), a skipped or todo test is a
//    failure: what CI skips, nobody checks.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPORTER = path.join(__dirname, 'skip-reporter.js');

// Flags that load code into every Node process started with NODE_OPTIONS:
// --require rust-cluster/register would make node:cluster rust-cluster.
const PRELOAD = /(^|\s)(-r|--require|--import|--loader|--experimental-loader)(\s|=|$)/;

/** Why this environment may not run the suite, or null. */
function refusal(env = process.env) {
  for (const name of ['RUST_CLUSTER_TEST_IMPL', 'RUST_CLUSTER_SKIP_RUST']) {
    if (env[name] !== undefined) {
      return `${name} is set: the side-by-side tests would not compare rust-cluster with node:cluster ` +
        `(it is for developing tests with node --test; unset it for npm test)`;
    }
  }
  if (env.NODE_OPTIONS && PRELOAD.test(env.NODE_OPTIONS)) {
    return `NODE_OPTIONS preloads code (${JSON.stringify(env.NODE_OPTIONS)}): a preloaded rust-cluster/register ` +
      'would turn node:cluster into rust-cluster in the processes the tests start; unset it for npm test';
  }
  return null;
}

function isCI(env = process.env) {
  return Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
}

/**
 * node --test flags that keep `reporter` on stdout and add the skip
 * reporter, writing to a fresh file. Returns { flags, skipped() }, where
 * skipped() lists the skipped/todo tests once the run is over.
 */
function reporterFlags(reporter) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rust-cluster-skips-')), 'skips.jsonl');
  return {
    flags: [
      `--test-reporter=${reporter}`, '--test-reporter-destination=stdout',
      `--test-reporter=${REPORTER}`, `--test-reporter-destination=${file}`,
    ],
    skipped() {
      let text = '';
      try { text = fs.readFileSync(file, 'utf8'); } catch { /* none written */ }
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
  };
}

/** Fails the run (returns 1) under CI when tests were skipped. */
function judgeSkips(skipped, label = '') {
  if (!skipped.length) return 0;
  const lines = skipped.map((s) => `  ${path.relative(path.join(__dirname, '../..'), s.file || '?')}: ` +
    `${s.name} (${s.todo !== undefined ? `todo ${s.todo}` : `skipped: ${s.skip}`})`);
  if (isCI()) {
    console.error(`\n${label}${skipped.length} test(s) skipped under CI, which counts as a failure:\n${lines.join('\n')}`);
    return 1;
  }
  console.log(`\n${label}${skipped.length} test(s) skipped (a failure under CI):\n${lines.join('\n')}`);
  return 0;
}

module.exports = { refusal, isCI, reporterFlags, judgeSkips };
