'use strict';
// The cluster module as the primary sees it, after
// lib/internal/cluster/primary.js: settings, fork, events, and the cluster
// protocol (queryServer, listening, close). Server handles are made here,
// as Node makes them (lib/round_robin_handle.js, lib/shared_handle.js); the
// engine (src/primary/) accepts and hands out connections.
const EventEmitter = require('node:events');
const path = require('node:path');
const Worker = require('./worker');
const errors = require('./errors');
const { forkWorker, getEngine, sendInternal, askToCount } = require('./process');
const { RoundRobinHandle } = require('./round_robin_handle');
const { SharedHandle } = require('./shared_handle');
const { ReusePortHandle, EngineSocket } = require('./reuseport_handle');
const registry = require('./supervisor/registry');
const inherited = require('./supervisor/inherited');
const contract = require('./contract.json');

const {
  SCHED_NONE, SCHED_RR, SCHED_REUSEPORT, SCHED_LEASTCONN, SCHED_STICKY, POLICY_NAMES,
} = require('./policies');

// Every policy; NODE_CLUSTER_SCHED_POLICY names one (POLICY_NAMES), and
// anything else there means round robin, as in node.
const POLICIES = new Set(POLICY_NAMES.values());
// Policies under which the primary listens and accepts, as under round robin.
const PRIMARY_ACCEPTS = new Set(contract.primaryAccepts.map((name) => contract.policies[name]));

// Server handles by key, as in Node's primary.
const handles = new Map();

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

// `retiring`: worker.disconnect(), the worker may still use its sockets.
function removeHandlesForWorker(worker, retiring = false) {
  for (const [key, handle] of handles) {
    if (handle.remove(worker, retiring)) handles.delete(key);
  }
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
    if (!worker.isConnected()) {
      removeHandlesForWorker(worker);
      removeWorker(worker);
    }
    worker.exitedAfterDisconnect = !!worker.exitedAfterDisconnect;
    worker.state = 'dead';
    registry.onExit(worker);
    worker.emit('exit', exitCode, signalCode);
    cluster.emit('exit', worker, exitCode, signalCode);
  });

  worker.process.once('disconnect', () => {
    // Its handles go now: it is not connected to the primary any more.
    removeHandlesForWorker(worker);
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

// The cluster protocol, as `onmessage` in Node's primary: every internal
// message but the engine's own (newconn answers, descriptor ACKs, the
// agent's connection counts, which never leave Rust).
function onInternalMessage(worker, message) {
  // Answers of the worker agent (lib/agent/), for the supervisor.
  if (message.cmd === contract.agent.cmd) return registry.onAgentMessage(worker, message);
  if (message.cmd !== 'NODE_CLUSTER') return;
  switch (message.act) {
    case 'online': return online(worker);
    case 'queryServer': return queryServer(worker, message);
    case 'listening': return listening(worker, message);
    case 'close': return close(worker, message);
    case 'exitedAfterDisconnect': return exitedAfterDisconnect(worker, message);
    default:
  }
}

// Workers report closed connections when leastconn needs them (or stats()
// asked), once they load rust-cluster's agent: ask when they appear.
function askWorkerToCount(worker) {
  askToCount(worker.id, schedulingPolicy === SCHED_LEASTCONN);
}

function online(worker) {
  askWorkerToCount(worker);
  worker.state = 'online';
  worker.emit('online');
  cluster.emit('online', worker);
}

function exitedAfterDisconnect(worker, message) {
  worker.exitedAfterDisconnect = true;
  send(worker, { ack: message.seq });
}

function queryServer(worker, message) {
  // Stop processing if worker already disconnecting.
  if (worker.exitedAfterDisconnect) return;
  askWorkerToCount(worker);
  const key = `${message.address}:${message.port}:${message.addressType}:` +
              `${message.fd}:${message.index}`;
  let handle = handles.get(key);
  if (handle === undefined) {
    let address = message.address;
    // Find shortest path for unix sockets because of the ~100 byte limit.
    if (message.port < 0 && typeof address === 'string') {
      address = path.relative(process.cwd(), address);
      if (message.address.length < address.length) address = message.address;
    }
    handle = createHandle(key, address, message);
    handles.set(key, handle);
  }
  if (!handle.data) handle.data = message.data;
  handle.add(worker, (errno, reply, socket) => {
    const { data } = handles.get(key);
    if (errno) handles.delete(key); // Gives other workers a chance to retry.
    send(worker, { errno, key, ack: message.seq, data, ...reply }, socket);
  });
}

// A new server handle for `key`. A primary started by an upgrade takes
// the socket the old primary had for the same key (lib/supervisor/
// inherited.js) instead of binding one: the same socket, so that no
// connection is refused in between. A policy changed across the upgrade
// keeps the socket in whatever handle the new policy can use it.
function createHandle(key, address, message) {
  // UDP is connectionless: always shared.
  const udp = message.addressType === 'udp4' || message.addressType === 'udp6';
  const reuseport = !udp && schedulingPolicy === SCHED_REUSEPORT && ReusePortHandle.appliesTo(message);
  let adopt = inherited.take(key, ['rr', 'shared']);
  // Old SO_REUSEPORT sockets: new ones join them, or, under another
  // policy (which cannot bind beside them), one of them is adopted.
  if (adopt === null && !reuseport) adopt = inherited.take(key, ['reuseport']);
  if (!udp && (PRIMARY_ACCEPTS.has(schedulingPolicy) || (reuseport && adopt !== null))) {
    const policy = PRIMARY_ACCEPTS.has(schedulingPolicy) ? schedulingPolicy : SCHED_RR;
    return new RoundRobinHandle(key, address, message, policy,
      { adopt, extra: inherited.takeAll(key, 'reuseport') });
  }
  if (reuseport) return new ReusePortHandle(key, address, message, { inherited: inherited.takeAll(key, 'reuseport') });
  return new SharedHandle(key, address, message, { adopt });
}

/** Every listening socket a new primary must inherit: [{ fd, kind, key }]. */
function inheritableSockets() {
  const out = [];
  for (const [key, handle] of handles) {
    for (const s of handle.inheritable()) out.push({ ...s, key });
  }
  return out;
}

/** The new primary serves on our sockets: stop accepting where we can. */
function handOverSockets() {
  for (const handle of handles.values()) handle.handOver();
}

function listening(worker, message) {
  const info = {
    addressType: message.addressType,
    address: message.address,
    port: message.port,
    fd: message.fd,
  };
  worker.state = 'listening';
  registry.onListening(worker);
  worker.emit('listening', info);
  cluster.emit('listening', worker, info);
}

// Server in worker is closing, remove from list. The handle may have been
// removed by a prior call to removeHandlesForWorker(), so guard against that.
function close(worker, message) {
  const key = message.key;
  const handle = handles.get(key);
  if (handle && handle.remove(worker)) handles.delete(key);
}

// `sendHelper` of Node's cluster/utils.js: one `seq` counter for every
// message the primary sends (shared with the engine's newconn messages).
// `socket` is a handle to pass: Node's own, or an engine's socket.
function send(worker, message, socket) {
  if (!worker.process.connected) return false;
  message = { cmd: 'NODE_CLUSTER', ...message, seq: getEngine().nextSeq() };
  if (socket instanceof EngineSocket) return sendInternal(worker.id, message, socket.fd, 'net.Native');
  return worker.process.send(message, socket);
}

Worker.prototype.disconnect = function disconnect() {
  this.exitedAfterDisconnect = true;
  if (this.process.connected) getEngine().handOverLeftovers(this.id);
  send(this, { act: 'disconnect' });
  removeHandlesForWorker(this, true);
  removeWorker(this);
  return this;
};

Worker.prototype.destroy = function destroy(signo) {
  const signal = signo || 'SIGTERM';
  this.process.kill(signal);
};

// Supervision (lib/supervisor/): reload, scale, stats, shutdown, supervise.
// Not enumerable, so the cluster object has node:cluster's own keys.
require('./supervisor').attach(cluster, {
  connections: require('./process'),
  sockets: { inheritable: inheritableSockets, handOver: handOverSockets },
});

module.exports = cluster;
