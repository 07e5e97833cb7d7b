'use strict';
// Runs Node's own cluster tests (test/parallel/test-cluster-*.js and
// test/sequential/test-cluster-*.js of a local copy of Node's test/ tree,
// with test/common and test/fixtures beside them) twice each: as they are
// (node:cluster), then with `cluster` resolved to rust-cluster in every
// process (NODE_OPTIONS=--require scripts/node-suite/preload.js, so
// process.execArgv stays as the test expects). Not part of `npm test`: Node's
// tests are not in this repository. Take them from the Node release you run
// (`node -v`): its source tarball has test/.
//
//   node scripts/node-suite.js <node-root-or-test-dir> [filter...]
//     NODE_SUITE_DIR          instead of the first argument
//     NODE_SUITE_TIMEOUT=60   seconds per test run
//     NODE_SUITE_JOBS=2       test runs at once (sequential/ always alone)
//     NODE_SUITE_MODES=node,rust
//     NODE_SUITE_JSON=<file>  write the results as JSON too
//     NODE_SUITE_VERBOSE=1    print the output of runs that differ
//     NODE_SUITE_ALL=1        also every other test there that requires cluster
//
// Prints one line per test: name, node:cluster result, rust-cluster result
// (pass, fail(<code or signal>), timeout, skip), marked `<-` where they
// differ, or where the error lines the processes printed differ (a worker's
// uncaught exception that the test's primary ignores); `known` where KNOWN
// below explains why. Exits 1 if a test that passes under node:cluster
// differs under rust-cluster and is not known.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
let dir = process.env.NODE_SUITE_DIR || args.shift();
if (!dir) {
  console.error('usage: node scripts/node-suite.js <node-root-or-test-dir> [filter...]');
  process.exit(2);
}
dir = path.resolve(dir);
if (fs.existsSync(path.join(dir, 'test', 'common'))) dir = path.join(dir, 'test');
if (!fs.existsSync(path.join(dir, 'common', 'index.js'))) {
  console.error(`no common/index.js under ${dir}`);
  process.exit(2);
}
const filters = args;
const timeout = (Number(process.env.NODE_SUITE_TIMEOUT) || 60) * 1000;
const jobs = Math.max(1, Number(process.env.NODE_SUITE_JOBS) || 2);
const modes = (process.env.NODE_SUITE_MODES || 'node,rust').split(',');
const verbose = !!process.env.NODE_SUITE_VERBOSE;
const preload = path.join(__dirname, 'node-suite', 'preload.js');

// Tests whose rust-cluster result differs for a reason that is not a bug of
// ours: they look at how Node's primary is built inside. Marked `known`, not
// counted as regressions.
const KNOWN = {
  'parallel/test-cluster-worker-handle-close.js':
    'listens for Node\'s internal `newconn` message in the worker (process \'internalMessage\') ' +
    'to close the connection first; a worker that loads rust-cluster takes its connections ' +
    'over the connection channel instead, so the hook sees none and the server\'s mustNotCall ' +
    'handler gets the connection (the process exits 0 either way)',
  'parallel/test-cluster-accept-fail.js':
    'patches RoundRobinHandle.prototype.distribute of node:cluster\'s primary ' +
    '(--expose-internals) to drop the connection; our primary does not use it, so the ' +
    'worker gets the connection and its mustNotCall fails (the primary exits 0 either way)',
};

const usesCluster = /require\(['"](node:)?cluster['"]\)/;

function wanted(folder, f) {
  if (/^test-cluster-.*\.js$/.test(f)) return true;
  return !!process.env.NODE_SUITE_ALL && /^test-.*\.js$/.test(f) &&
    usesCluster.test(fs.readFileSync(path.join(folder, f), 'utf8'));
}

function list(sub) {
  const folder = path.join(dir, sub);
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder)
    .filter((f) => wanted(folder, f))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
    .sort()
    .map((f) => ({ name: `${sub}/${f}`, file: path.join(folder, f), serial: sub === 'sequential' }));
}

function runOne(test, mode, slot) {
  return new Promise((resolve) => {
    const env = { ...process.env, TEST_THREAD_ID: String(slot) };
    delete env.NODE_OPTIONS;
    if (mode === 'rust') env.NODE_OPTIONS = `--require ${preload}`;
    const child = spawn(process.execPath, [test.file], {
      cwd: path.dirname(dir), env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let out = '';
    const keep = (d) => { if (out.length < 200000) out += d; };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeout);
    const started = Date.now();
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever the test left behind (workers of a failed primary).
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      let result;
      if (timedOut) result = 'timeout';
      else if (code === 0 && /^1\.\.0 # Skipped/m.test(out)) result = 'skip';
      else if (code === 0) result = 'pass';
      else result = `fail(${signal || code})`;
      resolve({ result, ms: Date.now() - started, out, errors: errorLines(out) });
    });
  });
}

// A worker's uncaught exception or failed mustCall check does not fail a
// test whose primary ignores how workers exit: compare these lines too.
function errorLines(out) {
  return out.split('\n')
    .filter((l) => /^\w*Error\b.*:|^Mismatched .* function calls/.test(l))
    .map((l) => l.replace(/\d+/g, 'N'))
    .sort()
    .join('\n');
}

function differs(row) {
  if (modes.length !== 2) return false;
  const [a, b] = modes;
  return row[a] !== row[b] || row[`${a}Errors`] !== row[`${b}Errors`];
}

async function pool(tests, width) {
  const results = [];
  let next = 0;
  async function lane(slot) {
    while (next < tests.length) {
      const test = tests[next++];
      const row = { name: test.name };
      for (const mode of modes) {
        const r = await runOne(test, mode, slot);
        row[mode] = r.result;
        row[`${mode}Ms`] = r.ms;
        row[`${mode}Out`] = r.out;
        row[`${mode}Errors`] = r.errors;
      }
      print(row);
      results.push(row);
    }
  }
  await Promise.all(Array.from({ length: width }, (_, i) => lane(i)));
  return results;
}

function print(row) {
  const cols = modes.map((m) => String(row[m]).padEnd(14));
  const diff = differs(row);
  const output = diff && row[modes[0]] === row[modes[1]] ? ' (errors printed differ)' : '';
  const mark = !diff ? '' : KNOWN[row.name] ? ' known' : ' <-';
  console.log(`${row.name.padEnd(62)} ${cols.join(' ')}${mark}${output}`);
  if (diff && verbose) {
    for (const m of modes) console.log(`--- ${m} ---\n${row[`${m}Out`].trim()}\n`);
  }
}

async function main() {
  const parallel = list('parallel');
  const sequential = list('sequential');
  console.log(`${'test'.padEnd(62)} ${modes.map((m) => (m === 'node' ? 'node:cluster' : 'rust-cluster').padEnd(14)).join(' ')}`);
  const results = [...await pool(parallel, jobs), ...await pool(sequential, 1)];
  results.sort((a, b) => a.name.localeCompare(b.name));
  const regressions = results.filter((r) => r.node === 'pass' && r.rust && differs(r) && !KNOWN[r.name]);
  for (const r of results) {
    if (KNOWN[r.name] && differs(r)) console.log(`known: ${r.name}: ${KNOWN[r.name]}`);
  }
  const count = (m, v) => results.filter((r) => r[m] === v).length;
  for (const m of modes) {
    console.log(`${m}: ${count(m, 'pass')} pass, ${count(m, 'skip')} skip, ` +
      `${results.length - count(m, 'pass') - count(m, 'skip')} fail or timeout`);
  }
  if (regressions.length) console.log(`passing under node:cluster only: ${regressions.map((r) => r.name).join(', ')}`);
  if (process.env.NODE_SUITE_JSON) {
    fs.writeFileSync(process.env.NODE_SUITE_JSON, JSON.stringify(results, null, 2));
  }
  process.exit(regressions.length ? 1 : 0);
}

main();
