// Run by __test__/esm.test.js as `node cluster-esm.mjs`. Imports rust-cluster
// through its ESM entry (index.mjs) in every way an ES module can, checks the
// primary's view, forks one worker (which runs this same file) and collects
// the worker's view over IPC. Prints one JSON line `{ primary, worker }` with
// the observations; the test makes the assertions.
import cluster, * as ns from '../../index.mjs';
import {
  isPrimary,
  isMaster,
  isWorker,
  fork,
  workers,
  worker,
  settings,
  setupPrimary,
  setupMaster,
  disconnect,
  schedulingPolicy,
  SCHED_RR,
  SCHED_NONE,
  Worker,
} from '../../index.mjs';
// The package's own name resolves here too (self-reference through the
// "exports" map of package.json, whose "import" condition is index.mjs).
import * as byName from 'rust-cluster';
import * as nodeNs from 'node:cluster';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cjs = require('../../index.js');
const nodeCluster = require('node:cluster');

// The names node:cluster's ES module namespace has in this role, and ours.
// Ours has the names of both roles, those the cluster object lacks here
// being `undefined`; the defined ones must be exactly node's, plus in the
// primary the supervision functions and `engine` rust-cluster adds.
const SUPERVISION = ['engine', 'reload', 'scale', 'shutdown', 'stats', 'supervise', 'upgrade'];
const definedNames = (n) => Object.keys(n).filter((k) => n[k] !== undefined).sort();
const names = {
  node: [...definedNames(nodeNs), ...(cluster.isPrimary ? SUPERVISION : [])].sort(),
  ours: definedNames(ns),
  missing: Object.keys(nodeNs).filter((k) => !(k in ns)),
  // Named exports are the cluster object's own properties.
  mismatched: Object.keys(ns).filter((k) => k !== 'default' && ns[k] !== cluster[k]),
};

if (isPrimary) {
  const watchdog = setTimeout(() => {
    console.log(JSON.stringify({ error: 'timed out waiting for the worker' }));
    process.exit(1);
  }, 20000);

  const settingsAtImport = cluster.settings;
  const primary = {
    defaultIsRequire: cluster === cjs,
    byNameIsSameModule: byName === ns,
    namespaceDefault: ns.default === cluster,
    isPrimary,
    isMaster,
    isWorker,
    usesNodeClusterInPrimary: cluster === nodeCluster,
    sameFunctions: {
      fork: cluster.fork === fork,
      setupPrimary: cluster.setupPrimary === setupPrimary,
      setupMaster: cluster.setupMaster === setupMaster,
      disconnect: cluster.disconnect === disconnect,
      Worker: cluster.Worker === Worker,
    },
    forkIsFunction: typeof fork === 'function',
    workersIsClusterWorkers: workers === cluster.workers,
    settingsIsClusterSettings: settings === settingsAtImport,
    worker: worker === undefined ? 'undefined' : typeof worker,
    schedulingPolicy: schedulingPolicy === cluster.schedulingPolicy,
    constants: [SCHED_NONE, SCHED_RR, cluster.SCHED_NONE, cluster.SCHED_RR],
    names,
  };

  // setupPrimary() replaces cluster.settings; like node:cluster's, the named
  // `settings` export keeps the object it had at import time.
  setupPrimary({ silent: false });
  primary.afterSetup = {
    liveSettingsExec: cluster.settings.exec,
    namedSettingsUnchanged: settings === settingsAtImport,
    liveSettingsReplaced: cluster.settings !== settingsAtImport,
  };

  const w = fork({ RUST_CLUSTER_ESM_TEST: '1' });
  primary.forkedIsWorker = w instanceof Worker;
  primary.forkedInWorkers = workers[w.id] === w;

  let fromWorker = null;
  w.on('message', (msg) => {
    if (msg && msg.esmWorker) {
      fromWorker = msg.esmWorker;
      w.disconnect();
    }
  });
  w.on('exit', (code, signal) => {
    clearTimeout(watchdog);
    primary.workerExit = { code, signal };
    console.log(JSON.stringify({ primary, worker: fromWorker }));
  });
} else {
  const view = {
    defaultIsRequire: cluster === cjs,
    byNameIsSameModule: byName === ns,
    isPrimary,
    isMaster,
    isWorker,
    workerId: worker && worker.id,
    workerIsClusterWorker: worker === cluster.worker,
    workerIsWorker: worker instanceof Worker,
    fork: typeof fork,
    workers: typeof workers,
    env: process.env.RUST_CLUSTER_ESM_TEST,
    names,
  };
  worker.send({ esmWorker: view });
}
