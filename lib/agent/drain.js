'use strict';
// Draining, on the worker's side. When the primary is about to disconnect
// this worker it first sends { cmd: 'NODE_RUST_CLUSTER', act: 'drain' }.
// From then on:
//   - every HTTP response whose headers are not sent yet says
//     `Connection: close`, so keep-alive clients leave after their answer;
//   - keep-alive connections that sit idle are closed: those that read
//     nothing between two sweeps SWEEP_MS apart.
// Stopping to accept is node:cluster's own disconnect, which follows.
//
// Why not server.closeIdleConnections() at once (which is also what
// http.Server#close() does since Node 19)? "Idle" there includes a
// connection whose response just ended and whose client is sending its next
// request right now: destroying it resets that request. Under keep-alive load
// that cost 2-3 failed requests per reload of two workers; waiting until a
// connection has stayed silent for a sweep cost none.
//
// Until asked, this only remembers which servers went through the cluster
// (cluster._getServer is wrapped to note them; nothing else changes).
const net = require('node:net');
const cluster = require('node:cluster');

const SWEEP_MS = 100;

const servers = new Set();
// Idle socket -> bytesRead when a sweep last saw it idle.
const seenIdle = new WeakMap();
let draining = false;

function eachServer(fn) {
  for (const ref of servers) {
    const server = ref.deref();
    if (server === undefined) servers.delete(ref);
    else fn(server);
  }
}

// The server's idle connections (http's own list of them), or null where
// that list is not there (older Node).
function idleSockets(server) {
  const sym = Object.getOwnPropertySymbols(server).find((s) => s.description === 'http.server.connections');
  const list = sym === undefined ? undefined : server[sym];
  if (!list || typeof list.idle !== 'function') return null;
  return list.idle().map((parser) => parser.socket).filter(Boolean);
}

function sweep() {
  eachServer((server) => {
    const sockets = idleSockets(server);
    if (sockets === null) {
      if (typeof server.closeIdleConnections === 'function') server.closeIdleConnections();
      return;
    }
    const silent = [];
    for (const socket of sockets) {
      if (socket._httpMessage && !socket._httpMessage.finished) continue;
      if (seenIdle.get(socket) === socket.bytesRead) silent.push(socket);
      else seenIdle.set(socket, socket.bytesRead);
    }
    // Timers run before the loop polls for I/O: a starved worker can find
    // bytesRead unchanged while the next request already waits unread in
    // the socket. Look again after the poll phase has read it.
    if (silent.length > 0) setImmediate(destroyStill, silent);
  });
}

function destroyStill(sockets) {
  for (const socket of sockets) {
    if (socket.destroyed || seenIdle.get(socket) !== socket.bytesRead) continue;
    if (socket._httpMessage && !socket._httpMessage.finished) continue;
    socket.destroy();
  }
}

function startDrain() {
  if (draining) return;
  draining = true;
  // Loaded here, not at start-up: a worker that never drains (or never
  // serves HTTP) should not pay for loading node:http.
  const { ServerResponse } = require('node:http');
  const writeHead = ServerResponse.prototype.writeHead;
  ServerResponse.prototype.writeHead = function drainingWriteHead(...args) {
    if (!this.headersSent) this.shouldKeepAlive = false;
    return Reflect.apply(writeHead, this, args);
  };
  eachServer((server) => {
    // node:cluster's disconnect closes the server next; skip http's
    // closeIdleConnections() there (see above), the sweeps do it.
    server.close = function close(...args) {
      return Reflect.apply(net.Server.prototype.close, this, args);
    };
  });
  sweep();
  // Only while something else keeps the process alive.
  setInterval(sweep, SWEEP_MS).unref();
}

function install() {
  const getServer = cluster._getServer;
  if (typeof getServer === 'function') {
    cluster._getServer = function _getServer(obj, ...rest) {
      // http.Server and https.Server (which is not an http.Server).
      if (obj instanceof net.Server && typeof obj.closeIdleConnections === 'function') {
        servers.add(new WeakRef(obj));
      }
      return Reflect.apply(getServer, this, [obj, ...rest]);
    };
  }
}

module.exports = { install, start: startDrain };
