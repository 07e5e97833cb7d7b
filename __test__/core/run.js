'use strict';
// Runs a fixture under node:cluster and under rust-cluster and returns what
// each primary printed: one JSON object per line. Every run asserts that its
// primary ran the implementation asked for (helpers/impl.js).
const { execFile } = require('node:child_process');
const path = require('node:path');
const { fixtureEnv, assertImpl } = require('../helpers/impl');

const ROOT = path.resolve(__dirname, '../..');
const IMPLS = { node: 'node:cluster', rust: ROOT };

/**
 * `code` is the primary's exit code (null if a signal ended it: `signal`).
 * `ran` is the implementation report; checked here unless the primary was
 * ended by a signal (then it could write none, and the caller fails on code).
 */
function run(fixture, impl, { env = {}, args = [], timeout = 30000 } = {}) {
  const { env: childEnv, report } = fixtureEnv({ ...env, CLUSTER_MODULE: IMPLS[impl] });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, 'fixtures', fixture), ...args], {
      env: childEnv,
      timeout,
      maxBuffer: 16 << 20,
    }, (err, stdout, stderr) => {
      const ran = report();
      if (err && err.killed) return reject(new Error(`${impl}: ${fixture} timed out\n${stdout}\n${stderr}`));
      const events = [];
      for (const line of stdout.split('\n')) {
        if (line.startsWith('{')) events.push(JSON.parse(line));
      }
      const signal = err ? err.signal : null;
      if (!signal) {
        try {
          assertImpl(ran, impl, `${fixture}\n${stderr}`);
        } catch (e) {
          return reject(e);
        }
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, signal, events, stdout, stderr, ran });
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
