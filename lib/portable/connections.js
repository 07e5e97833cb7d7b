'use strict';
// Per-worker connection counters on the portable engine, the source of
// cluster.stats()'s `connections` (the Rust engine counts in
// src/stats.rs). The same meaning: `handed` is the connections node's
// round-robin handle passed to the worker and the worker accepted (its
// `{ ack, accepted: true }` answer to a `newconn`); `open` is handed minus
// the closes the worker's agent reports (lib/agent/connections.js), null
// until it reports.
const { tell } = require('../supervisor/drain');
const { agent: AGENT } = require('../contract.json');

// worker id -> { worker, handed, closed (null until reported) }
const counters = new Map();
let tracking = false;

function askToCount(entry) {
  if (tracking && entry.closed === null) tell(entry.worker, { act: AGENT.countConnections });
}

/** A worker was forked. */
function add(worker) {
  counters.set(worker.id, { worker, handed: 0, closed: null });
}

/** A worker's process exited. */
function remove(worker) {
  counters.delete(worker.id);
}

/** A worker came online or listens: ask its agent, if counting is on. */
function onReady(worker) {
  const entry = counters.get(worker.id);
  if (entry) askToCount(entry);
}

/** An internal message from a worker (cmd NODE_CLUSTER or NODE_RUST_CLUSTER). */
function onInternalMessage(worker, message) {
  const entry = counters.get(worker.id);
  if (!entry) return;
  if (message.cmd === 'NODE_CLUSTER') {
    if (message.accepted === true && message.ack !== undefined) entry.handed++;
  } else if (message.act === AGENT.conns && Number.isFinite(message.closed) && message.closed >= 0) {
    entry.closed = Math.floor(message.closed);
  }
}

// The interface lib/supervisor/stats.js reads (lib/process.js has the Rust
// engine's): [{ id, handed, open }], and a call that asks agents to report.
function connectionStats() {
  return [...counters.values()].map(({ worker, handed, closed }) => ({
    id: worker.id,
    handed,
    open: closed === null ? null : Math.max(0, handed - closed),
  }));
}

function trackConnections() {
  tracking = true;
  for (const entry of counters.values()) askToCount(entry);
}

module.exports = { add, remove, onReady, onInternalMessage, connectionStats, trackConnections };
