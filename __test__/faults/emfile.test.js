'use strict';
// The primary out of descriptors: fork() fails the way node:cluster's does.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { ROOT } = require('../core/run');
const { fixtureEnv, assertImpl } = require('../helpers/impl');

const FIXTURE = path.join(__dirname, 'fixtures', 'emfile.js');

function runWithFdLimit(impl, fill) {
  const { env, report, engine } = fixtureEnv({ CLUSTER_MODULE: impl === 'node' ? 'node:cluster' : ROOT, FILL: fill ? '1' : '0' });
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', 'ulimit -n 64 && exec "$0" "$@"', process.execPath, FIXTURE], {
      env,
      timeout: 120000,
    }, (err, stdout, stderr) => {
      const ran = report();
      if (err && err.killed) return reject(new Error(`${impl} timed out\n${stdout}\n${stderr}`));
      try {
        assertImpl(ran, impl, { engine, context: stderr });
      } catch (e) {
        return reject(e);
      }
      resolve({ code: err ? err.code : 0, events: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)), stderr });
    });
  });
}

for (const fill of [false, true]) {
  const when = fill ? 'one descriptor left' : 'forking until the table is full';
  test(`fork() out of descriptors (${when}): an EMFILE spawn error, as in node:cluster`, { timeout: 300000 }, async () => {
    const node = await runWithFdLimit('node', fill);
    const rust = await runWithFdLimit('rust', fill);
    assert.equal(node.code, 0, node.stderr);
    assert.deepEqual(node.events.map((e) => e.ev), ['fork', 'error', 'close', 'tick', 'later'], JSON.stringify(node.events));
    assert.deepEqual(rust.events, node.events, rust.stderr);
    assert.equal(rust.code, 0, rust.stderr);
  });
}
