'use strict';
// `npm run test:matrix`: runs the JavaScript test suite (every *.test.js
// under __test__/ but those of the binaries and the release, see
// scripts/test-files.js) under Node 18, 20, 22 and 24 in
// turn, with the binaries of the `node` npm package (fetched by `npx`), and
// prints a summary table. The addon is N-API, so the one .node built for the
// host serves every version; the Rust tests are not repeated.
//
//   node scripts/test-matrix.js                      all four versions
//   node scripts/test-matrix.js --versions 18,24     some of them
//   node scripts/test-matrix.js -- __test__/parity   only these files/dirs
//   --verbose                                        stream the test output
//
// Each version's output goes to a log file whose path the table shows.
// NODE_MATRIX_<major>=/path/to/node uses that binary instead of npx's.
// Exits non-zero if any version fails (or its Node cannot be had); under CI a
// version with skipped tests fails (__test__/helpers/runner.js), and the
// environment is refused as by `npm test`.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { testFiles, perNodeFiles } = require('./test-files');
const { refusal, reporterFlags, judgeSkips } = require('../__test__/helpers/runner');

const root = path.join(__dirname, '..');
const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose');
const vi = argv.indexOf('--versions');
const versions = (vi === -1 ? '18,20,22,24' : argv[vi + 1]).split(',').map((v) => v.trim()).filter(Boolean);
const dd = argv.indexOf('--');
const only = dd === -1 ? [] : argv.slice(dd + 1);

function selectedFiles() {
  if (!only.length) return perNodeFiles(path.join(root, '__test__'));
  return only.flatMap((p) => {
    const full = path.resolve(root, p);
    return fs.statSync(full).isDirectory() ? testFiles(full) : [path.relative(root, full)];
  });
}

function nodeBinary(major) {
  const override = process.env[`NODE_MATRIX_${major}`];
  if (override) return { bin: override };
  const r = spawnSync('npx', ['--yes', '--package', `node@${major}`, '--', 'node', '-p', 'process.execPath'], {
    cwd: os.tmpdir(), encoding: 'utf8', timeout: 300000,
  });
  const bin = r.status === 0 && r.stdout.trim().split('\n').pop();
  if (!bin || !fs.existsSync(bin)) {
    return { error: `npx could not provide node@${major}: ${(r.error && r.error.message) || r.stderr.trim().split('\n').pop()}` };
  }
  return { bin };
}

function version(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// --test-concurrency appeared in Node 20.10/21; --test-reporter in 18.15.
function runnerFlags(v, reporters) {
  const [maj, min] = v.slice(1).split('.').map(Number);
  const flags = ['--test', ...reporters.flags];
  if (maj > 20 || (maj === 20 && min >= 10)) flags.push('--test-concurrency=2');
  return flags;
}

function runSuite(bin, v, files, log) {
  const reporters = reporterFlags('spec');
  return new Promise((resolve) => {
    const started = Date.now();
    const out = fs.createWriteStream(log);
    // PATH is left as it is: the tests start workers with process.execPath,
    // and npm keeps running on the Node it was installed for.
    const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
    delete env.NODE_OPTIONS;
    const child = spawn(bin, [...runnerFlags(v, reporters), ...files], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const take = (d) => {
      text += d;
      out.write(d);
      if (verbose) process.stdout.write(d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code, signal) => {
      out.end();
      resolve({ code, signal, text, seconds: (Date.now() - started) / 1000, skipped: reporters.skipped() });
    });
  });
}

function summary(text) {
  const count = (name) => {
    const m = new RegExp(`^(?:ℹ|#) ${name} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  // The spec reporter repeats failures after "failing tests:".
  const tail = text.includes('failing tests:') ? text.slice(text.lastIndexOf('failing tests:')) : text;
  const failing = [...new Set(tail.split('\n')
    .filter((l) => /^\s*✖ /.test(l))
    .map((l) => l.trim().replace(/\s*\([\d.]+m?s\)$/, '')))];
  return {
    tests: count('tests'), pass: count('pass'), fail: count('fail'),
    skipped: count('skipped'), cancelled: count('cancelled'), todo: count('todo'), failing,
  };
}

async function main() {
  const refused = refusal();
  if (refused) {
    console.error(`test-matrix: refusing to run: ${refused}`);
    process.exit(1);
  }
  const files = selectedFiles();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rust-cluster-matrix-'));
  console.log(`test-matrix: ${files.length} test files under Node ${versions.join(', ')}; logs in ${logDir}`);
  const rows = [];
  for (const major of versions) {
    const { bin, error } = nodeBinary(major);
    const v = bin && version(bin);
    if (!v) {
      rows.push({ major, version: '-', status: 'NO NODE', note: error || `${bin} does not run` });
      console.log(`\n== node@${major}: ${error || 'binary does not run'}`);
      continue;
    }
    const log = path.join(logDir, `node-${v}.log`);
    console.log(`\n== Node ${v} (${bin})`);
    const r = await runSuite(bin, v, files, log);
    const s = summary(r.text);
    const ok = r.code === 0 && judgeSkips(r.skipped, `Node ${v}: `) === 0;
    rows.push({ major, version: v, status: ok ? 'PASS' : 'FAIL', ...s, seconds: r.seconds, log });
    console.log(`   ${ok ? 'passed' : `FAILED (exit ${r.code}${r.signal ? `, ${r.signal}` : ''})`}: ` +
      `${s.pass} pass, ${s.fail} fail, ${s.skipped} skipped, ${s.cancelled} cancelled in ${r.seconds.toFixed(1)} s`);
    for (const f of s.failing.slice(0, 30)) console.log(`   ${f}`);
  }

  const header = ['node', 'version', 'result', 'tests', 'pass', 'fail', 'skipped', 'cancelled', 'time'];
  const table = rows.map((r) => [r.major, r.version, r.status, r.tests, r.pass, r.fail, r.skipped, r.cancelled,
    r.seconds === undefined ? '-' : `${r.seconds.toFixed(1)}s`].map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log('\nNode version matrix');
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table) console.log(line(row));
  for (const r of rows) if (r.note) console.log(`node@${r.major}: ${r.note}`);
  const failed = rows.filter((r) => r.status !== 'PASS');
  console.log(failed.length ? `\n${failed.length} of ${rows.length} versions failed; logs in ${logDir}`
    : `\nall ${rows.length} versions passed`);
  process.exit(failed.length ? 1 : 0);
}

main();
