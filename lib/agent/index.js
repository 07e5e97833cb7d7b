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
const cluster = require('node:cluster');
const connections = require('./connections');
const requests = require('./requests');

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
  if (message.act === AGENT.countConnections) {
    connections.start((closed) => send({ act: AGENT.conns, closed }));
  } else if (message.act === AGENT.maxRequests) {
    requests.setLimit(message.limit, send);
  }
}

function install() {
  if (!cluster.isWorker || globalThis[kInstalled] || typeof process.send !== 'function') return;
  Object.defineProperty(globalThis, kInstalled, { value: true });
  // First: the agent's own messages go through it too.
  require('./sender').install();
  process.on('internalMessage', onInternalMessage);
  require('./drain').install();
  require('./heartbeat').install();
  require('./conn_channel').install();
}

install();

module.exports = { install };
