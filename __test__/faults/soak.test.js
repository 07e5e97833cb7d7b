'use strict';
// A short form of `npm run soak`: connections and worker restarts, then the
// primary's descriptors and anonymous memory must be back within 5% of the
// baseline (see scripts/soak.js on file-backed RSS).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');

test('soak (short): 5,000 connections, 20 restarts, no fd or memory growth', { timeout: 300000 }, async () => {
  const script = path.join(__dirname, '..', '..', 'scripts', 'soak.js');
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile(process.execPath, ['--expose-gc', script, '5000', '20'], { timeout: 290000 }, (err, out, errOut) => {
      resolve({ code: err ? err.code : 0, stdout: out, stderr: errOut });
    });
  });
  const report = JSON.parse(stdout.trim().split('\n').pop());
  assert.equal(report.connections, 5000, stderr);
  assert.equal(report.failed, 0);
  assert.equal(report.restarts, 20);
  assert.ok(report.after.fds <= report.before.fds * 1.05, JSON.stringify(report));
  assert.ok(report.after.rssAnonKiB <= report.before.rssAnonKiB * 1.05 + 2048, JSON.stringify(report));
  assert.equal(code, 0, stderr);
});
