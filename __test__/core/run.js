'use strict';
// Runs a fixture under node:cluster and under rust-cluster and returns what
// each primary printed: one JSON object per line. Every run asserts that its
// primary ran the implementation asked for (helpers/impl.js).
const { spawn } = require('node:child_process');
const path = require('node:path');
const { fixtureEnv, assertImpl } = require('../helpers/impl');

const ROOT = path.resolve(__dirname, '../..');
const IMPLS = { node: 'node:cluster', rust: ROOT };

// Each fixture runs in its own process group, killed once the primary has
// exited (or timed out): a worker left behind, say one stuck in a busy
// loop, cannot outlive the test.
const live = new Set();
const killGroup = (pid) => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } };
process.on('exit', () => { for (const pid of live) killGroup(pid); });

/**
 * `code` is the primary's exit code (null if a signal ended it: `signal`).
 * `ran` is the implementation report; checked here unless the primary was
 * ended by a signal (then it could write none, and the caller fails on code).
 */
function run(fixture, impl, { env = {}, args = [], timeout = 60000 } = {}) {
  const { env: childEnv, report, engine } = fixtureEnv({ ...env, CLUSTER_MODULE: IMPLS[impl] });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', fixture), ...args], {
      env: childEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child.pid);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let exit = null;
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { timedOut = true; killGroup(child.pid); }, timeout);
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      killGroup(child.pid);
    });
    child.on('close', () => {
      clearTimeout(timer);
      live.delete(child.pid);
      const ran = report();
      if (timedOut) return reject(new Error(`${impl}: ${fixture} timed out\n${stdout}\n${stderr}`));
      const events = [];
      for (const line of stdout.split('\n')) {
        if (line.startsWith('{')) events.push(JSON.parse(line));
      }
      if (!exit.signal) {
        try {
          assertImpl(ran, impl, { engine, context: `${fixture}\n${stderr}` });
        } catch (e) {
          return reject(e);
        }
      }
      resolve({ code: exit.code, signal: exit.signal, events, stdout, stderr, ran });
    });
  });
}

/** Both implementations, concurrently. */
async function both(fixture, opts) {
  const [node, rust] = await Promise.all([run(fixture, 'node', opts), run(fixture, 'rust', opts)]);
  return { node, rust };
}

/** Events grouped by worker id (workers interleave freely in both). */
function perWorker(events) {
  const byId = {};
  for (const e of events) (byId[e.id ?? '-'] ||= []).push(e);
  return byId;
}

module.exports = { run, both, perWorker, ROOT };
