'use strict';
// rust-cluster's agent in a worker process. It installs itself when the
// worker's program requires rust-cluster (index.js) or when it is preloaded
// with `node --require rust-cluster/agent` (as the CLI does), and stays
// passive until the primary asks it for something. Its messages carry
// `cmd: 'NODE_RUST_CLUSTER'`: Node treats any `NODE_` cmd as internal, so
// they reach 'internalMessage' listeners only, never user 'message'
// listeners, and node's own cluster code ignores them (it reads
// `NODE_CLUSTER` only). A primary that is node:cluster never asks.
//
// From the primary:  { cmd, act: 'countConnections' }  (connections.js)
//                    { cmd, act: 'drain', timeout }    (drain.js)
//                    { cmd, act: 'ping', seq }         (heartbeat.js)
//                    { cmd, act: 'maxRequests', limit } (requests.js)
// To the primary:    { cmd, act: 'conns', closed }
//                    { cmd, act: 'pong', seq, rss, heapUsed, cpu }
//                    { cmd, act: 'served', served }
//
// Every worker loads this at start-up, where each file costs ~0.3 ms of
// CPU (all of the agent: ~4.5 ms, on a Node boot of ~20 ms). So the parts
// load when first needed: the sender with the first message sent, drain.js
// and conn_channel.js with the first server, the rest with the primary's
// first message for it.
const cluster = require('node:cluster');

const { agent: AGENT } = require('../contract.json');
const kInstalled = Symbol.for('rust-cluster.agent');

function noop() {}

function send(message) {
  if (!process.connected) return;
  // With a callback, a failed write is reported there and not as 'error'.
  process.send({ cmd: AGENT.cmd, ...message }, undefined, { swallowErrors: true }, noop);
}

function onInternalMessage(message) {
  if (message === null || typeof message !== 'object' || message.cmd !== AGENT.cmd) return;
  if (message.act === AGENT.ping) {
    require('./heartbeat').onPing(message);
  } else if (message.act === AGENT.countConnections) {
    require('./connections').start((closed) => send({ act: AGENT.conns, closed }));
  } else if (message.act === AGENT.maxRequests) {
    require('./requests').setLimit(message.limit, send);
  } else if (message.act === AGENT.drain) {
    require('./drain').start();
  }
}

// Replace `object[name]` with a function that, on its first call, runs
// `load` (which may wrap the original) and from then on calls the result.
// Code that wrapped `object[name]` in the meantime stays outside ours, as it
// would have been had the agent loaded everything at start-up.
function onFirstCall(object, name, load) {
  const original = object[name];
  if (typeof original !== 'function') return;
  let inner = null;
  object[name] = function firstCall(...args) {
    if (inner === null) {
      const outer = object[name];
      object[name] = original;
      load();
      inner = object[name];
      if (outer !== firstCall) object[name] = outer;
    }
    return Reflect.apply(inner, this, args);
  };
}

function install() {
  if (!cluster.isWorker || globalThis[kInstalled] || typeof process.send !== 'function') return;
  Object.defineProperty(globalThis, kInstalled, { value: true });
  // Every write goes through process._send, the agent's own messages too.
  onFirstCall(process, '_send', () => require('./sender').install());
  process.on('internalMessage', onInternalMessage);
  onFirstCall(cluster, '_getServer', () => {
    require('./drain').install();
    require('./conn_channel').install();
  });
}

install();

module.exports = { install };
