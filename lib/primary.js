'use strict';
// The cluster module as the primary sees it, after
// lib/internal/cluster/primary.js: settings, fork, events. Connections,
// server handles and the channel protocol live in Rust (src/primary.rs).
const EventEmitter = require('node:events');
const Worker = require('./worker');
const errors = require('./errors');
const { forkWorker, getEngine, markServing } = require('./process');
const registry = require('./supervisor/registry');

const SCHED_NONE = 1;
const SCHED_RR = 2;
// Policies rust-cluster adds (README: Scheduling policies rust-cluster adds).
const SCHED_REUSEPORT = 3;
const SCHED_LEASTCONN = 4;
const SCHED_STICKY = 5;

// NODE_CLUSTER_SCHED_POLICY values; anything else means round robin, as in
// node.
const POLICY_NAMES = new Map([
  ['rr', SCHED_RR],
  ['none', SCHED_NONE],
  ['reuseport', SCHED_REUSEPORT],
  ['leastconn', SCHED_LEASTCONN],
  ['sticky', SCHED_STICKY],
]);
const POLICIES = new Set(POLICY_NAMES.values());
// Policies under which the primary listens and accepts, as under round robin.
const PRIMARY_ACCEPTS = new Set([SCHED_RR, SCHED_LEASTCONN, SCHED_STICKY]);

const cluster = new EventEmitter();
const intercom = new EventEmitter();

cluster.isWorker = false;
cluster.isMaster = true;
cluster.isPrimary = true;
cluster.Worker = Worker;
cluster.workers = {};
cluster.settings = {};
cluster.SCHED_NONE = SCHED_NONE;
cluster.SCHED_RR = SCHED_RR;
// Not enumerable: Object.keys(cluster) stays what node:cluster has.
for (const [name, value] of Object.entries({ SCHED_REUSEPORT, SCHED_LEASTCONN, SCHED_STICKY })) {
  Object.defineProperty(cluster, name, { value, writable: true, enumerable: false, configurable: true });
}

let ids = 0;
let initialized = false;

let schedulingPolicy = POLICY_NAMES.get(process.env.NODE_CLUSTER_SCHED_POLICY) ?? SCHED_RR;
cluster.schedulingPolicy = schedulingPolicy;

cluster.setupPrimary = function setupPrimary(options) {
  const settings = {
    args: process.argv.slice(2),
    exec: process.argv[1],
    execArgv: process.execArgv,
    silent: false,
    ...cluster.settings,
    ...options,
  };
  // One V8 profile log per process, as node:cluster arranges.
  // Array.prototype.some on whatever was given, as node's primordials do: a
  // bad execArgv only fails later, in fork().
  const some = (list, test) => Array.prototype.some.call(list, test);
  if (some(settings.execArgv, (s) => s.startsWith('--prof')) &&
      !some(settings.execArgv, (s) => s.startsWith('--logfile='))) {
    settings.execArgv = [...settings.execArgv, '--logfile=v8-%p.log'];
  }
  cluster.settings = settings;

  if (initialized === true) return process.nextTick(setupSettingsNT, settings);

  initialized = true;
  // Our extension: the first setupPrimary() also takes the policy from its
  // options (node:cluster ignores this key).
  if (options != null && options.schedulingPolicy !== undefined) {
    cluster.schedulingPolicy = options.schedulingPolicy;
  }
  schedulingPolicy = cluster.schedulingPolicy; // Freeze policy.
  // A bad policy gets shared handles, as in node (which also asserts, after
  // freezing the policy).
  getEngine().setSchedulingPolicy(POLICIES.has(schedulingPolicy) ? schedulingPolicy : SCHED_NONE);
  if (!POLICIES.has(schedulingPolicy)) {
    throw errors.internalAssertion(`Bad cluster.schedulingPolicy: ${schedulingPolicy}`);
  }
  process.nextTick(setupSettingsNT, settings);
  process.on('internalMessage', onDebugEnabled);
};

// Node emits this on process when the primary's inspector starts
// (inspector.open(), SIGUSR1): start the workers' inspectors too.
function onDebugEnabled(message) {
  if (message === null || typeof message !== 'object' || message.cmd !== 'NODE_DEBUG_ENABLED') return;
  for (const worker of Object.values(cluster.workers)) {
    if (worker.state === 'online' || worker.state === 'listening') {
      process._debugProcess(worker.process.pid);
    } else {
      worker.once('online', function debugOnline() {
        process._debugProcess(this.process.pid);
      });
    }
  }
}

cluster.setupMaster = cluster.setupPrimary;

function setupSettingsNT(settings) {
  cluster.emit('setup', settings);
}

const kInspectArgRegex = /--inspect(?:-brk|-port)?|--debug-port/;
let debugPortOffset = 1;

function isUsingInspector(execArgv) {
  return execArgv.some((arg) => kInspectArgRegex.test(arg)) ||
    kInspectArgRegex.test(process.env.NODE_OPTIONS);
}

function getInspectPort(inspectPort) {
  if (typeof inspectPort === 'function') {
    inspectPort = inspectPort();
  } else if (inspectPort == null) {
    inspectPort = process.debugPort + debugPortOffset;
    if (inspectPort > 65535) inspectPort = inspectPort - 65535 + 1024 - 1;
    debugPortOffset++;
  }
  if ((typeof inspectPort !== 'number' && typeof inspectPort !== 'string') ||
      (typeof inspectPort === 'string' && inspectPort.trim().length === 0) ||
      +inspectPort !== (+inspectPort >>> 0) || inspectPort > 0xFFFF) {
    throw errors.socketBadPort('Port', inspectPort, true);
  }
  return inspectPort | 0;
}

function createWorkerProcess(id, env) {
  const workerEnv = { ...process.env, ...env, NODE_UNIQUE_ID: `${id}` };
  const execArgv = [...cluster.settings.execArgv];
  if (cluster.settings.inspectPort === null) {
    throw errors.socketBadPort('Port', null, true);
  }
  if (isUsingInspector(cluster.settings.execArgv)) {
    execArgv.push(`--inspect-port=${getInspectPort(cluster.settings.inspectPort)}`);
  }
  return forkWorker(id, cluster.settings, workerEnv, execArgv);
}

function removeWorker(worker) {
  delete cluster.workers[worker.id];
  if (Object.keys(cluster.workers).length === 0) intercom.emit('disconnect');
}

cluster.fork = function fork(env) {
  cluster.setupPrimary();
  const id = ++ids;
  const workerProcess = createWorkerProcess(id, env);
  const worker = new Worker({ id, process: workerProcess });
  registry.onFork(worker, env);

  worker.on('message', function onMessage(message, handle) {
    cluster.emit('message', this, message, handle);
  });

  worker.process.once('exit', (exitCode, signalCode) => {
    // Keep the worker listed until it has disconnected too.
    if (!worker.isConnected()) removeWorker(worker);
    worker.exitedAfterDisconnect = !!worker.exitedAfterDisconnect;
    worker.state = 'dead';
    registry.onExit(worker);
    worker.emit('exit', exitCode, signalCode);
    cluster.emit('exit', worker, exitCode, signalCode);
  });

  worker.process.once('disconnect', () => {
    if (worker.isDead()) removeWorker(worker);
    worker.exitedAfterDisconnect = !!worker.exitedAfterDisconnect;
    worker.state = 'disconnected';
    worker.emit('disconnect');
    cluster.emit('disconnect', worker);
  });

  worker.process.on('internalMessage', (message, handle) => onInternalMessage(worker, message, handle));
  process.nextTick(emitForkNT, worker);
  cluster.workers[worker.id] = worker;
  return worker;
};

function emitForkNT(worker) {
  cluster.emit('fork', worker);
}

cluster.disconnect = function disconnect(cb) {
  const workers = Object.values(cluster.workers);
  if (workers.length === 0) {
    process.nextTick(() => intercom.emit('disconnect'));
  } else {
    for (const worker of workers) {
      if (worker.isConnected()) worker.disconnect();
    }
  }
  if (typeof cb === 'function') intercom.once('disconnect', cb);
};

// Lifecycle messages the Rust engine passes up; the rest of the protocol
// (queryServer, close, newconn replies) never leaves Rust.
function onInternalMessage(worker, message) {
  // Answers of the worker agent (lib/agent/), for the supervisor.
  if (message.cmd === 'NODE_RUST_CLUSTER') return registry.onAgentMessage(worker, message);
  if (message.cmd !== 'NODE_CLUSTER') return;
  switch (message.act) {
    case 'online':
      worker.state = 'online';
      worker.emit('online');
      cluster.emit('online', worker);
      break;
    case 'listening': {
      const info = {
        addressType: message.addressType,
        address: message.address,
        port: message.port,
        fd: message.fd,
      };
      worker.state = 'listening';
      if (PRIMARY_ACCEPTS.has(schedulingPolicy) && info.addressType !== 'udp4' && info.addressType !== 'udp6') {
        markServing(worker.id);
      }
      registry.onListening(worker);
      worker.emit('listening', info);
      cluster.emit('listening', worker, info);
      break;
    }
    case 'exitedAfterDisconnect':
      worker.exitedAfterDisconnect = true;
      break;
    default:
  }
}

Worker.prototype.disconnect = function disconnect() {
  this.exitedAfterDisconnect = true;
  if (this.process.connected) getEngine().disconnectWorker(this.id);
  removeWorker(this);
  return this;
};

Worker.prototype.destroy = function destroy(signo) {
  const signal = signo || 'SIGTERM';
  this.process.kill(signal);
};

// Supervision (lib/supervisor/): reload, scale, stats, shutdown, supervise.
// Not enumerable, so the cluster object has node:cluster's own keys.
require('./supervisor').attach(cluster);

module.exports = cluster;
