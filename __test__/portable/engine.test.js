'use strict';
// Which engine runs (lib/engine.js), and the portable engine's own rules:
// rust-cluster's policies fall back to round robin with one warning, and
// cluster.stats() counts connections there too. (The parity, docs and
// supervision suites run under RUST_CLUSTER_ENGINE=node as well: npm test.)
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runScenario, assertClean, describeRun } = require('../helpers/harness');

const ROOT = path.resolve(__dirname, '../..');
const SERVE = path.join(__dirname, 'fixtures', 'serve.js');

async function serve(env) {
  const r = await runScenario(SERVE, { impl: 'rust', env, timeout: 60000 });
  assertClean(r);
  const found = {};
  for (const e of r.events) found[e.ev] = e;
  assert.ok(found.done, describeRun(r));
  return { r, ...found };
}

function warningsOf(r, code) {
  return r.stderr.split('\n').filter((l) => l.includes(`[${code}]`));
}

// The package as it is published, without any native binary: what a
// platform with no prebuilt package and no Rust toolchain gets.
function copyWithoutAddon(t) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rust-cluster-noaddon-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = path.join(tmp, 'rust-cluster');
  fs.mkdirSync(dir);
  for (const f of ['package.json', 'index.js', 'index.mjs', 'register.js', 'binding.js', 'lib']) {
    if (fs.existsSync(path.join(ROOT, f))) fs.cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
  }
  return dir;
}

function probe(dir, env) {
  const code = `const c = require(${JSON.stringify(dir)});
    console.log(JSON.stringify({ engine: c.engine, node: c === require('node:cluster'), supervise: typeof c.supervise }));`;
  const childEnv = { ...process.env, ...env };
  if (env.RUST_CLUSTER_ENGINE === undefined) delete childEnv.RUST_CLUSTER_ENGINE;
  return spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: childEnv });
}

test('engine: Rust where the addon loads, portable with RUST_CLUSTER_ENGINE=node; not enumerable, node\'s keys', async () => {
  const rust = await serve({ RUST_CLUSTER_ENGINE: '' });
  assert.equal(rust.engine.engine, 'rust');
  assert.equal(rust.engine.sameAsNode, false);
  const portable = await serve({ RUST_CLUSTER_ENGINE: 'node' });
  assert.equal(portable.engine.engine, 'node');
  // The portable engine is node:cluster itself.
  assert.equal(portable.engine.sameAsNode, true);
  for (const { engine } of [rust, portable]) {
    assert.equal(engine.enumerable, false);
    assert.deepEqual(engine.keys, engine.nodeKeys);
  }
  for (const run of [rust, portable]) assert.deepEqual(run.answers.workers, [1, 2], describeRun(run.r));
});

test('engine: no addon falls back to the portable engine; RUST_CLUSTER_ENGINE=rust makes it an error', (t) => {
  const dir = copyWithoutAddon(t);
  let r = probe(dir, {});
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { engine: 'node', node: true, supervise: 'function' });
  assert.equal(r.stderr, '', 'the fallback is silent');

  r = probe(dir, { RUST_CLUSTER_ENGINE: 'rust' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ERR_RUST_CLUSTER_NO_ADDON/);
  assert.match(r.stderr, /RUST_CLUSTER_ENGINE=rust, but the Rust engine's native addon does not load here/);

  // The same package here, with its addon: Rust.
  r = probe(ROOT, {});
  assert.deepEqual(JSON.parse(r.stdout), { engine: 'rust', node: false, supervise: 'function' });
});

for (const [how, name, env] of [
  ['cluster.schedulingPolicy = SCHED_LEASTCONN', 'leastconn', { POLICY: 'SCHED_LEASTCONN' }],
  ['NODE_CLUSTER_SCHED_POLICY=sticky', 'sticky', { NODE_CLUSTER_SCHED_POLICY: 'sticky' }],
  ['setupPrimary({ schedulingPolicy: SCHED_REUSEPORT })', 'reuseport', { POLICY: 'setup:SCHED_REUSEPORT' }],
]) {
  test(`portable engine: ${how} is served round robin, with one warning naming the policy`, async () => {
    const { r, policy, answers } = await serve({ RUST_CLUSTER_ENGINE: 'node', ...env });
    const warnings = warningsOf(r, 'RUST_CLUSTER_POLICY_UNSUPPORTED');
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0], new RegExp(`scheduling policy ${name} \\(SCHED_${name.toUpperCase()}\\)`));
    assert.equal(policy.after, 2, 'SCHED_RR once the first fork() froze it');
    assert.deepEqual(answers.workers, [1, 2], describeRun(r));
  });
}

test('portable engine: node\'s own policies and no policy at all give no warning', async () => {
  for (const env of [{}, { POLICY: 'SCHED_NONE' }]) {
    const { r, policy } = await serve({ RUST_CLUSTER_ENGINE: 'node', ...env });
    assert.deepEqual(warningsOf(r, 'RUST_CLUSTER_POLICY_UNSUPPORTED'), []);
    assert.equal(policy.after, env.POLICY ? 1 : 2);
  }
});

test('portable engine: stats() counts handed connections per worker, and open ones from the agents', async () => {
  const { r, stats, answers } = await serve({ RUST_CLUSTER_ENGINE: 'node' });
  const handed = stats.connections.map((c) => c.handed);
  assert.equal(handed.reduce((a, b) => a + b, 0), answers.requests, describeRun(r));
  // Round robin over two workers.
  assert.ok(handed.every((n) => n >= 4), JSON.stringify(stats));
  assert.deepEqual(stats.connections.map((c) => c.open), [0, 0]);
});
