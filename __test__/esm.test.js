'use strict';
// The ESM entry (index.mjs): `import cluster from 'rust-cluster'` is the same
// object as `require('rust-cluster')`, the named exports are its own members
// with the same names and values as node:cluster's ES module namespace has,
// and it works in a forked worker too.
const { test } = require('node:test');
const assert = require('node:assert');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.join(__dirname, '..');
const indexMjs = pathToFileURL(path.join(root, 'index.mjs')).href;
const indexJs = path.join(root, 'index.js');

// Runs node with `args`; resolves to the JSON printed on the last line.
function runNode(args) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_UNIQUE_ID; // run as a primary even if the test runner is a worker
    execFile(process.execPath, args, { cwd: root, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const lines = stdout.trim().split('\n');
      let result;
      try {
        result = JSON.parse(lines[lines.length - 1]);
      } catch {
        return reject(new Error(`no JSON result (${err ? err.message : 'exit 0'})\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }
      if (err) return reject(new Error(`${err.message}\nresult: ${JSON.stringify(result)}\nstderr:\n${stderr}`));
      resolve(result);
    });
  });
}

// The names `import * as c from 'node:cluster'` has in a primary, here:
// all of them, and those with a value other than undefined.
const namesScript = (specifier) => `
  import * as c from ${JSON.stringify(specifier)};
  console.log(JSON.stringify({
    all: Object.keys(c),
    defined: Object.keys(c).filter((k) => c[k] !== undefined).sort(),
  }));`;
const nodeNames = runNode(['--input-type=module', '-e', namesScript('node:cluster')]);
nodeNames.catch(() => {}); // reported by the test that awaits it

test('default and named imports by file URL (node --input-type=module -e)', async () => {
  const script = `
    import cluster, * as ns from ${JSON.stringify(indexMjs)};
    import { isPrimary, isMaster, isWorker, fork, setupPrimary, setupMaster, disconnect, Worker,
             workers, worker, settings, schedulingPolicy, SCHED_RR, SCHED_NONE } from ${JSON.stringify(indexMjs)};
    import { createRequire } from 'node:module';
    const cjs = createRequire(import.meta.url)(${JSON.stringify(indexJs)});
    console.log(JSON.stringify({
      sameAsRequire: cluster === cjs,
      isPrimary, isMaster, isWorker,
      fork: cluster.fork === fork && typeof fork === 'function',
      setupPrimary: cluster.setupPrimary === setupPrimary,
      setupMaster: cluster.setupMaster === setupMaster,
      disconnect: cluster.disconnect === disconnect,
      Worker: cluster.Worker === Worker && typeof Worker === 'function',
      workers: workers === cluster.workers && typeof workers === 'object',
      worker: worker === undefined,
      settings: settings === cluster.settings,
      schedulingPolicy: schedulingPolicy === cluster.schedulingPolicy,
      constants: [SCHED_RR === cluster.SCHED_RR, SCHED_NONE === cluster.SCHED_NONE],
      ownMembers: Object.keys(ns).filter((k) => k !== 'default' && ns[k] !== cluster[k]),
    }));
  `;
  const r = await runNode(['--input-type=module', '-e', script]);
  assert.strictEqual(r.sameAsRequire, true, 'default export is require(index.js)');
  assert.strictEqual(r.isPrimary, true);
  assert.strictEqual(r.isMaster, true);
  assert.strictEqual(r.isWorker, false);
  for (const k of ['fork', 'setupPrimary', 'setupMaster', 'disconnect', 'Worker', 'workers', 'worker', 'settings', 'schedulingPolicy']) {
    assert.strictEqual(r[k], true, `named export ${k}`);
  }
  assert.deepStrictEqual(r.constants, [true, true]);
  assert.deepStrictEqual(r.ownMembers, [], 'named exports are the values of the default export');
});

test('the same names as node:cluster exports', async () => {
  const node = await nodeNames;
  const ours = await runNode(['--input-type=module', '-e', namesScript(indexMjs)]);
  // Every name node:cluster has, and with a value exactly where it has one.
  // (Ours also has the names of the other role, as undefined: `worker` here.)
  assert.deepStrictEqual(node.all.filter((k) => !ours.all.includes(k)), [], 'names missing');
  // Plus what rust-cluster adds in the primary: supervision functions and
  // scheduling policies.
  const added = ['SCHED_LEASTCONN', 'SCHED_REUSEPORT', 'SCHED_STICKY', 'engine', 'reload', 'scale', 'shutdown', 'stats', 'supervise', 'upgrade'];
  assert.deepStrictEqual(ours.defined, [...node.defined, ...added].sort());
  assert.ok(ours.all.includes('worker'), 'worker is exported in the primary too (undefined)');
  // Like node:cluster, no EventEmitter methods: they are inherited, not own.
  for (const k of ['on', 'once', 'emit']) assert.ok(!ours.all.includes(k), `${k} is not a named export`);
});

test('ESM in the primary and in a forked worker (fixtures-esm/cluster-esm.mjs)', { timeout: 90_000 }, async () => {
  const { primary: p, worker: w, error } = await runNode([path.join(__dirname, 'fixtures-esm', 'cluster-esm.mjs')]);
  assert.strictEqual(error, undefined, error);

  // Primary.
  assert.strictEqual(p.defaultIsRequire, true, 'default export is require(index.js)');
  assert.strictEqual(p.byNameIsSameModule, true, "import 'rust-cluster' resolves to index.mjs");
  assert.strictEqual(p.namespaceDefault, true);
  assert.deepStrictEqual([p.isPrimary, p.isMaster, p.isWorker], [true, true, false]);
  assert.strictEqual(p.usesNodeClusterInPrimary, false, 'the primary is rust-cluster, not node:cluster');
  assert.deepStrictEqual(p.sameFunctions, { fork: true, setupPrimary: true, setupMaster: true, disconnect: true, Worker: true });
  assert.strictEqual(p.forkIsFunction, true);
  assert.strictEqual(p.workersIsClusterWorkers, true);
  assert.strictEqual(p.settingsIsClusterSettings, true);
  assert.strictEqual(p.worker, 'undefined');
  assert.strictEqual(p.schedulingPolicy, true);
  assert.deepStrictEqual(p.constants, [1, 2, 1, 2]);
  assert.deepStrictEqual(p.names.missing, [], 'names node:cluster exports in the primary');
  // rust-cluster's added policies are the only extra names in the primary.
  const added = ['SCHED_LEASTCONN', 'SCHED_REUSEPORT', 'SCHED_STICKY'];
  assert.deepStrictEqual(p.names.ours.filter((k) => !added.includes(k)), p.names.node, 'names with a value in the primary');
  assert.deepStrictEqual(added.filter((k) => !p.names.ours.includes(k)), [], 'added policies exported in the primary');
  assert.deepStrictEqual(p.names.mismatched, [], 'named exports are the members of the default export');
  // Named `settings` is a snapshot, as with node:cluster.
  assert.deepStrictEqual(p.afterSetup, {
    liveSettingsExec: path.join(__dirname, 'fixtures-esm', 'cluster-esm.mjs'),
    namedSettingsUnchanged: true,
    liveSettingsReplaced: true,
  });
  assert.strictEqual(p.forkedIsWorker, true);
  assert.strictEqual(p.forkedInWorkers, true);
  assert.deepStrictEqual(p.workerExit, { code: 0, signal: null });

  // Worker.
  assert.ok(w, 'the worker reported back');
  assert.strictEqual(w.defaultIsRequire, true);
  assert.strictEqual(w.byNameIsSameModule, true);
  assert.deepStrictEqual([w.isPrimary, w.isMaster, w.isWorker], [false, false, true]);
  assert.strictEqual(w.workerId, 1);
  assert.strictEqual(w.workerIsClusterWorker, true);
  assert.strictEqual(w.workerIsWorker, true);
  assert.strictEqual(w.fork, 'undefined', 'no fork() in a worker, as in node:cluster');
  assert.strictEqual(w.workers, 'undefined');
  assert.strictEqual(w.env, '1', 'fork(env) reached the worker');
  assert.deepStrictEqual(w.names.missing, [], 'names node:cluster exports in a worker');
  assert.deepStrictEqual(w.names.ours, w.names.node, 'names with a value in a worker');
  assert.deepStrictEqual(w.names.mismatched, [], 'named exports are the members of the default export');
});

test('named exports mirror node:cluster: a snapshot taken at import time', async () => {
  // The reference behaviour, checked against node:cluster itself, so that a
  // change in Node's facade shows up here rather than as a silent mismatch.
  const script = `
    import cluster, { settings, schedulingPolicy } from 'node:cluster';
    const before = settings;
    cluster.setupPrimary({ exec: 'x.js' });
    cluster.schedulingPolicy = cluster.SCHED_NONE === schedulingPolicy ? cluster.SCHED_RR : cluster.SCHED_NONE;
    await new Promise((resolve) => setImmediate(resolve)); // past the 'setup' event
    console.log(JSON.stringify({ settingsSame: settings === before, liveChanged: cluster.settings !== before,
                                 schedulingPolicyStale: schedulingPolicy !== cluster.schedulingPolicy }));
  `;
  const node = await runNode(['--input-type=module', '-e', script]);
  const ours = await runNode(['--input-type=module', '-e', script.replaceAll("'node:cluster'", JSON.stringify(indexMjs))]);
  assert.deepStrictEqual(node, { settingsSame: true, liveChanged: true, schedulingPolicyStale: true });
  assert.deepStrictEqual(ours, node);
});
