'use strict';
// rust-cluster's agent in a worker process. It is installed when the
// worker's program requires rust-cluster, and stays passive until the
// primary asks it for something. Its messages carry
// `cmd: 'NODE_RUST_CLUSTER'`: Node treats any `NODE_` cmd as internal, so
// they reach 'internalMessage' listeners only, never user 'message'
// listeners, and node's own cluster code ignores them (it reads
// `NODE_CLUSTER` only). A primary that is node:cluster never asks.
//
// From the primary:  { cmd, act: 'countConnections' }
// To the primary:    { cmd, act: 'conns', closed }  (see connections.js)
const connections = require('./connections');

const CMD = 'NODE_RUST_CLUSTER';
let installed = false;

function noop() {}

function send(message) {
  if (!process.connected) return;
  // With a callback, a failed write is reported there and not as 'error'.
  process.send({ cmd: CMD, ...message }, undefined, { swallowErrors: true }, noop);
}

function onInternalMessage(message) {
  if (message === null || typeof message !== 'object' || message.cmd !== CMD) return;
  if (message.act === 'countConnections') {
    connections.start((closed) => send({ act: 'conns', closed }));
  }
}

function install() {
  if (installed || typeof process.send !== 'function') return;
  installed = true;
  process.on('internalMessage', onInternalMessage);
}

module.exports = { install };
