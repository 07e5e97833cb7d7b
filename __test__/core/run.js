'use strict';
// Runs a fixture under node:cluster and under rust-cluster and returns what
// each primary printed: one JSON object per line.
const { execFile } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const IMPLS = { node: 'node:cluster', rust: ROOT };

function run(fixture, impl, { env = {}, args = [], timeout = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, 'fixtures', fixture), ...args], {
      env: { ...process.env, ...env, CLUSTER_MODULE: IMPLS[impl] },
      timeout,
      maxBuffer: 16 << 20,
    }, (err, stdout, stderr) => {
      if (err && err.killed) return reject(new Error(`${impl}: ${fixture} timed out\n${stdout}\n${stderr}`));
      const events = [];
      for (const line of stdout.split('\n')) {
        if (line.startsWith('{')) events.push(JSON.parse(line));
      }
      resolve({ code: err ? err.code : 0, events, stdout, stderr });
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
