'use strict';
// What the supervisor knows of each worker beyond its Worker object: the env
// it was forked with, when it started, how many times its place was taken
// over, how many servers it listens on, its last heartbeat answer. Filled in
// by cluster.fork() (lib/primary.js) whether or not supervision is on: one
// WeakMap entry per worker, nothing visible on the objects.
const EventEmitter = require('node:events');

const meta = new WeakMap();
// Every worker whose process has not exited yet, including those already
// disconnected (and so gone from cluster.workers) that are still draining.
const live = new Map();
// Messages from worker agents ({ cmd: 'NODE_RUST_CLUSTER', ... }).
const agentEvents = new EventEmitter();

function onFork(worker, env) {
  meta.set(worker, {
    env,
    startedAt: Date.now(),
    restarts: 0,
    // The place this worker holds: its own id, or the slot of the worker it
    // replaced. Crashes are counted per slot (respawn.js).
    slot: worker.id,
    listening: 0,
    // Sent 'ready' (readySignal).
    ready: false,
    // Why the supervisor is taking this worker down ('reload', 'memory',
    // 'hang', 'scale', 'shutdown'), or null.
    retiring: null,
    // Set while a replacement is being started: its failure is reported by
    // whoever started it, not treated as a crash.
    pending: false,
    agent: false,
    lastSeen: Date.now(),
    heartbeat: null,
  });
  live.set(worker.id, worker);
}

function onListening(worker) {
  const m = meta.get(worker);
  if (m) m.listening++;
}

function onExit(worker) {
  live.delete(worker.id);
}

function onAgentMessage(worker, message) {
  const m = meta.get(worker);
  if (!m) return;
  m.agent = true;
  m.lastSeen = Date.now();
  agentEvents.emit(String(message.act), worker, message, m);
}

function get(worker) {
  return meta.get(worker);
}

/** Workers still running, oldest first (draining ones included). */
function liveWorkers() {
  return [...live.values()];
}

/** Workers serving: connected and not being taken down, oldest first. */
function activeWorkers() {
  return liveWorkers().filter((w) => {
    const m = meta.get(w);
    return w.isConnected() && !w.isDead() && !m.retiring && !m.pending && !w.exitedAfterDisconnect;
  });
}

module.exports = { onFork, onListening, onExit, onAgentMessage, get, liveWorkers, activeWorkers, agentEvents };
