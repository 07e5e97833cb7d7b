'use strict';
// Test harness: runs a fixture script (a cluster primary that prints one JSON
// line per observed event) under node:cluster and under rust-cluster, and
// compares what the two primaries (and their workers) printed.
//
// A fixture selects the implementation with
//   const cluster = require(process.env.CLUSTER_MODULE || 'node:cluster');
// CLUSTER_MODULE is 'node:cluster' or the package root of rust-cluster.
const { spawn } = require('node:child_process');
const path = require('node:path');
const util = require('node:util');
const assert = require('node:assert/strict');

const { fixtureEnv, assertImpl } = require('./impl');

const RUST = path.resolve(__dirname, '../..');
const FIXTURES = path.resolve(__dirname, '../fixtures');
// Knobs for developing tests with `node --test` (`npm test` refuses both):
// RUST_CLUSTER_SKIP_RUST=1 runs node:cluster only; with
// RUST_CLUSTER_TEST_IMPL=node:cluster the 'rust' side runs node:cluster too,
// which checks that the normalizations leave no nondeterminism.
const SKIP_RUST = process.env.RUST_CLUSTER_SKIP_RUST === '1';
const TEST_IMPL = process.env.RUST_CLUSTER_TEST_IMPL;
if (TEST_IMPL !== undefined && TEST_IMPL !== 'node:cluster') {
  throw new Error(`RUST_CLUSTER_TEST_IMPL may only be node:cluster, not ${JSON.stringify(TEST_IMPL)}`);
}
const IMPLS = { node: 'node:cluster', rust: TEST_IMPL || RUST };
// The implementation each side must be seen to run (see assertImpl).
const EXPECTED = { node: 'node', rust: TEST_IMPL ? 'node' : 'rust' };
const IMPL_NAMES = SKIP_RUST ? ['node'] : ['node', 'rust'];
// Tests of one file run this many at a time (each runs both implementations
// at once). node --test runs files one at a time on a 2-core machine.
const CONCURRENCY = Number(process.env.RUST_CLUSTER_TEST_CONCURRENCY || 3);
// Time limits are multiplied by this: under emulation (scripts/test-arm64.js)
// everything is 10-50x slower, node:cluster's side as much as ours.
const TIME_SCALE = Number(process.env.RUST_CLUSTER_TEST_TIME_SCALE || 1);
/** A test's time limit, scaled for emulation. */
const scaled = (ms) => ms * TIME_SCALE;

// Every fixture runs in its own process group (detached), so a hang can be
// ended by killing the group: the primary and every worker it forked.
const live = new Set();
function killGroup(pid) {
  try { process.kill(-pid, 'SIGKILL'); return true; } catch { return false; }
}
process.on('exit', () => { for (const pid of live) killGroup(pid); });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const pid of live) killGroup(pid);
    process.kill(process.pid, sig);
  });
}

function groupAlive(pid) {
  try { process.kill(-pid, 0); return true; } catch { return false; }
}

/**
 * Run one fixture.
 * @returns {Promise<{impl, code, signal, events, stdout, stderr, timedOut, strays, ran}>}
 *   events: every stdout line that parses as a JSON object, in order;
 *   stdout: the remaining (non-JSON) lines joined with '\n';
 *   strays: whether processes of the fixture's group were still alive when
 *   the primary exited (they are killed);
 *   ran: the implementation report of the primary, engine: the
 *   rust-cluster engine its environment asks for (helpers/impl.js).
 */
function runScenario(fixture, opts = {}) {
  const { impl = 'node', args = [], timeout = 30000, stdin, cwd = FIXTURES, execPath = process.execPath } = opts;
  if (!IMPLS[impl]) throw new Error(`unknown impl ${impl}`);
  const { env, report, engine } = fixtureEnv({ ...opts.env, CLUSTER_MODULE: IMPLS[impl] });
  const file = path.isAbsolute(fixture) ? fixture : path.join(FIXTURES, fixture);
  return new Promise((resolve) => {
    const child = spawn(execPath, [file, ...args], {
      cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(child.pid);
    let out = '';
    let err = '';
    let timedOut = false;
    let exitInfo = null;
    let strays = false;
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    child.stdin.on('error', () => {});
    if (stdin != null) child.stdin.end(stdin); else child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeout * TIME_SCALE);
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      // Workers still alive once the primary has gone are strays: note and
      // kill them, so that their copies of stdout/stderr close.
      strays = groupAlive(child.pid);
      killGroup(child.pid);
    });
    child.on('close', () => {
      clearTimeout(timer);
      live.delete(child.pid);
      const events = [];
      const rest = [];
      for (const line of out.split('\n')) {
        if (line.startsWith('{')) {
          try { events.push(JSON.parse(line)); continue; } catch { /* not JSON */ }
        }
        if (line !== '') rest.push(line);
      }
      resolve({
        impl,
        ran: report(),
        engine,
        code: exitInfo ? exitInfo.code : null,
        signal: exitInfo ? exitInfo.signal : null,
        events,
        stdout: rest.join('\n'),
        rawStdout: out,
        stderr: err,
        timedOut,
        strays,
      });
    });
  });
}

function describeRun(r, n = 3000) {
  const tail = (s) => (s.length > n ? '...' + s.slice(-n) : s);
  return `[${r.impl}] code=${r.code} signal=${r.signal} timedOut=${r.timedOut} strays=${r.strays}\n` +
    `--- stdout ---\n${tail(r.rawStdout)}\n--- stderr ---\n${tail(r.stderr)}`;
}

/**
 * The run finished on its own, exited 0 (or as expected), left no strays,
 * and its primary ran the implementation this side stands for.
 */
function assertClean(r, { code = 0, strays = false } = {}) {
  assert.equal(r.timedOut, false, `fixture timed out\n${describeRun(r)}`);
  assert.ok(!r.events.some((e) => e.ev === 'SAFETY-TIMEOUT'), `fixture safety timer fired\n${describeRun(r)}`);
  if (code !== undefined) assert.equal(r.code, code, `unexpected exit code\n${describeRun(r)}`);
  if (strays === false) assert.equal(r.strays, false, `worker processes outlived the primary\n${describeRun(r)}`);
  assertImpl(r.ran, EXPECTED[r.impl], { engine: r.engine, context: `${r.impl} side\n${describeRun(r)}` });
}

/**
 * Run `fixture` under node:cluster and rust-cluster (concurrently) and
 * deep-equal normalize(result) of both. opts:
 *   env, args, timeout, stdin: as for runScenario (env may be a function of impl);
 *   check(result, impl): extra assertions applied to each run (node first);
 *   code: expected exit code of the primary (default 0);
 *   strays: false (default) to require that no worker outlives the primary.
 * Returns { node, rust } (rust absent when RUST_CLUSTER_SKIP_RUST=1).
 */
async function compareImpls(t, fixture, opts = {}, normalize = (r) => r.events) {
  const runs = await Promise.all(IMPL_NAMES.map((impl) => runScenario(fixture, {
    ...opts,
    impl,
    env: typeof opts.env === 'function' ? opts.env(impl) : opts.env,
  })));
  const [node, rust] = runs;
  const clean = { code: opts.code === undefined ? 0 : opts.code, strays: opts.strays };
  // The reference must itself behave, or the comparison means nothing.
  assertClean(node, clean);
  if (opts.check) opts.check(node, 'node');
  const expected = normalize(node);
  if (!rust) {
    if (t && t.diagnostic) t.diagnostic('rust-cluster side skipped (RUST_CLUSTER_SKIP_RUST=1)');
    return { node };
  }
  // Before comparing: what ran on this side must be what it stands for.
  assertImpl(rust.ran, EXPECTED.rust, { engine: rust.engine, context: `rust side\n${describeRun(rust)}` });
  let actual;
  try {
    actual = normalize(rust);
  } catch (e) {
    e.message += `\n${describeRun(rust)}`;
    throw e;
  }
  try {
    assert.deepEqual(actual, expected);
  } catch (e) {
    // Keep assert's own diff (it is dropped when a message is passed).
    const paths = diffPaths(expected, actual);
    e.message = `rust-cluster differs from node:cluster for ${fixture} ` +
      `(+ actual = rust-cluster, - expected = node:cluster)\n` +
      `differences (${paths.length}):\n${paths.slice(0, 25).join('\n')}${paths.length > 25 ? '\n...' : ''}\n` +
      `${e.message}\n${describeRun(rust, 1500)}`;
    throw e;
  }
  assertClean(rust, clean);
  if (opts.check) {
    try {
      opts.check(rust, 'rust');
    } catch (e) {
      e.message += `\n${describeRun(rust)}`;
      throw e;
    }
  }
  return { node, rust };
}

/** Every path at which two JSON-like values differ, with both values. */
function diffPaths(a, b, at = '$', out = []) {
  const show = (v) => {
    const j = JSON.stringify(v);
    return j === undefined ? String(v) : j.length > 300 ? `${j.slice(0, 300)}...` : j;
  };
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return out;
  const isObj = (v) => v !== null && typeof v === 'object';
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const p = Array.isArray(a) ? `${at}[${k}]` : `${at}.${k}`;
      if (!(k in a)) out.push(`${p}: only in rust-cluster: ${show(b[k])}`);
      else if (!(k in b)) out.push(`${p}: only in node:cluster: ${show(a[k])}`);
      else diffPaths(a[k], b[k], p, out);
    }
    return out;
  }
  out.push(`${at}: node:cluster ${show(a)} / rust-cluster ${show(b)}`);
  return out;
}

// ---- normalization helpers ------------------------------------------------

/** Events printed by the primary (no `w` field). */
function primaryEvents(events) {
  return events.filter((e) => e.w === undefined);
}

/** Events printed by workers, grouped by worker id: { [id]: event[] }. */
function workerEvents(events) {
  const out = {};
  for (const e of events) if (e.w !== undefined) (out[e.w] ||= []).push(e);
  return out;
}

/**
 * Primary events grouped by the worker they concern (field `id`); events
 * without an id go under '-'. Workers interleave freely, in node:cluster too,
 * but each worker's own sequence is ordered.
 */
function perWorker(events, key = 'id') {
  const out = {};
  for (const e of events) (out[e[key] ?? '-'] ||= []).push(e);
  return out;
}

/** Deep copy without the given keys (at any depth). */
function omit(value, keys) {
  const drop = new Set(keys);
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = {};
      for (const [k, x] of Object.entries(v)) if (!drop.has(k)) o[k] = walk(x);
      return o;
    }
    return v;
  };
  return walk(value);
}

/** Sort a list by a stable JSON rendering (for sets with no meaningful order). */
function sortByJSON(list) {
  return [...list].sort((a, b) => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/**
 * One worker's primary-side event sequence, with the 'disconnect' and 'exit'
 * events put in a canonical order. node:cluster documents that "the order
 * between these two events cannot be determined in advance" (channel EOF vs
 * SIGCHLD), so either order is accepted, but the state each event reports
 * must be consistent with the order actually observed:
 *  - whichever comes first sees the other not yet happened (at a first
 *    'disconnect' isDead() is false; at a first 'exit' isConnected() is true),
 *    whichever comes second sees it happened;
 *  - the worker is gone from cluster.workers at the second one;
 *  - events of one kind are contiguous (worker:X then cluster:X).
 * Order-dependent fields (isDead at disconnect, isConnected at exit,
 * inWorkers at both) are checked here and replaced by one summary record.
 * Events are recognised by `ev` ending in ':disconnect' or ':exit'.
 */
function settleDisconnectExit(seq) {
  const isD = (e) => /:disconnect$/.test(e.ev);
  const isE = (e) => /:exit$/.test(e.ev);
  const idx = seq.map((e, i) => (isD(e) || isE(e) ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) return seq;
  const tail = idx.map((i) => seq[i]);
  const kinds = tail.map((e) => (isD(e) ? 'D' : 'E')).join('');
  const nD = kinds.split('').filter((k) => k === 'D').length;
  const nE = kinds.length - nD;
  const dFirst = kinds === 'D'.repeat(nD) + 'E'.repeat(nE);
  const eFirst = kinds === 'E'.repeat(nE) + 'D'.repeat(nD);
  assert.ok(dFirst || eFirst, `disconnect/exit events interleaved: ${tail.map((e) => e.ev)}`);
  const order = nD && nE ? (dFirst ? 'disconnect-first' : 'exit-first') : (nD ? 'disconnect-only' : 'exit-only');
  const summary = { ev: 'disconnect/exit', order: nD && nE ? 'both' : order };
  for (const e of tail) {
    const first = (isD(e) && dFirst) || (isE(e) && eFirst);
    if (nD && nE) {
      if (isD(e) && 'isDead' in e) assert.equal(e.isDead, !first, `isDead() at ${e.ev} (${order})`);
      if (isE(e) && 'isConnected' in e) assert.equal(e.isConnected, first, `isConnected() at ${e.ev} (${order})`);
      if ('inWorkers' in e) {
        if (!first) assert.equal(e.inWorkers, false, `still in cluster.workers at ${e.ev} (${order})`);
        else summary.inWorkersAtFirst = e.inWorkers;
      }
    }
  }
  const strip = (e) => {
    const o = { ...e };
    if (nD && nE) {
      if (isD(e)) delete o.isDead;
      if (isE(e)) delete o.isConnected;
      delete o.inWorkers;
    }
    return o;
  };
  const canon = [...tail.filter(isD), ...tail.filter(isE)].map(strip);
  const out = [];
  let k = 0;
  for (let i = 0; i < seq.length; i++) {
    if (idx.includes(i)) { if (k === 0) out.push(...canon, summary); k++; } else out.push(seq[i]);
  }
  return out;
}

module.exports = {
  scaled,
  settleDisconnectExit,
  RUST,
  FIXTURES,
  SKIP_RUST,
  IMPLS,
  IMPL_NAMES,
  CONCURRENCY,
  runScenario,
  compareImpls,
  assertClean,
  describeRun,
  diffPaths,
  primaryEvents,
  workerEvents,
  perWorker,
  omit,
  sortByJSON,
  inspect: util.inspect,
};
