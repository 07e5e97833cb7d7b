'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

function run(fixture, clusterModule) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, fixture)], {
      env: { ...process.env, CLUSTER_MODULE: clusterModule },
      timeout: 30000,
    }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${clusterModule}: ${err.message}\n${stderr}`));
      resolve(stdout.trim().split('\n').map((line) => JSON.parse(line)));
    });
  });
}

// Events of one worker, in order; workers interleave freely in both.
function perWorker(events) {
  const byId = {};
  for (const e of events) (byId[e.id ?? 'all'] ||= []).push(e);
  return byId;
}

test('fork/online/listening/message/disconnect/exit match node:cluster', async () => {
  const [ours, theirs] = await Promise.all([run('fixture-lifecycle.js', ROOT), run('fixture-lifecycle.js', 'node:cluster')]);
  assert.deepEqual(perWorker(ours), perWorker(theirs));
  assert.ok(ours.some((e) => e.ev === 'requests' && e.ok === 40 && e.workers === 2));
});
