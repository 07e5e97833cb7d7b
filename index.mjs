// ESM entry of rust-cluster. The implementation is the CommonJS module
// (index.js); this file re-exports it so that
//
//   import cluster from 'rust-cluster';            // same object as require('rust-cluster')
//   import { isPrimary, fork } from 'rust-cluster';
//
// behave like the same imports from 'node:cluster'.
//
// Named exports mirror Node's ES module facade for node:cluster, which has
// one export per own property of the cluster object, holding its value as
// of the moment the module is first evaluated. Like Node's, they are not
// updated later: after cluster.setupPrimary() replaces cluster.settings, or
// after cluster.schedulingPolicy is assigned, the named `settings` and
// `schedulingPolicy` still hold the old values (read cluster.settings).
// `workers` is the same object as cluster.workers, so it does see workers
// come and go, and functions are the very same function objects
// (`cluster.fork === fork`).
//
// Node's facade has different names in the primary and in a worker (a worker
// has `worker` but no `fork`, `workers`, `settings`...), while an ES module
// needs one fixed list. So this exports the union of both lists, and a name
// the cluster object lacks in this process is exported with the value
// `undefined` (`fork` in a worker, `worker` in the primary). Where Node's
// facade would throw a SyntaxError for importing a missing name, this gives
// `undefined`; every name Node exports is here with the same value.
//
// Like Node's, this does not export the EventEmitter methods (on, once,
// emit...), which the cluster object inherits rather than owns: use
// `cluster.on(...)` on the default export.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cluster = require('./index.js');

export default cluster;

// Both roles.
export const isWorker = cluster.isWorker;
export const isMaster = cluster.isMaster;
export const isPrimary = cluster.isPrimary;
export const Worker = cluster.Worker;
export const _events = cluster._events;
export const _eventsCount = cluster._eventsCount;
export const _maxListeners = cluster._maxListeners;

// Primary only.
export const workers = cluster.workers;
export const settings = cluster.settings;
export const SCHED_NONE = cluster.SCHED_NONE;
export const SCHED_RR = cluster.SCHED_RR;
// rust-cluster's own policies (node:cluster has no such names).
export const SCHED_REUSEPORT = cluster.SCHED_REUSEPORT;
export const SCHED_LEASTCONN = cluster.SCHED_LEASTCONN;
export const SCHED_STICKY = cluster.SCHED_STICKY;
export const schedulingPolicy = cluster.schedulingPolicy;
export const setupPrimary = cluster.setupPrimary;
export const setupMaster = cluster.setupMaster;
export const fork = cluster.fork;
export const disconnect = cluster.disconnect;

// rust-cluster's supervision (primary only; not own enumerable properties
// of the cluster object, so node:cluster's key list is unchanged).
export const supervise = cluster.supervise;
export const reload = cluster.reload;
export const scale = cluster.scale;
export const stats = cluster.stats;
export const shutdown = cluster.shutdown;
export const upgrade = cluster.upgrade;
// Which engine runs the primary: 'rust' or 'node' (undefined in a worker).
export const engine = cluster.engine;

// Worker only (`_getServer` and `_setupWorker` are node:cluster internals
// that its facade exposes in a worker).
export const worker = cluster.worker;
export const _getServer = cluster._getServer;
export const _setupWorker = cluster._setupWorker;
