'use strict';
// Round-robin connections for a worker that loads rust-cluster, the fast
// way: not one IPC message per connection (newconn, its descriptor's ACK,
// an `accepted` answer, one connection in flight), but batches of
// descriptors on a connection channel of their own (src/conn_channel.rs),
// answered one batch per write, with up to contract.connChannel.window in
// flight. The worker's code sees the same: each connection reaches its
// server as Node's cluster code gives it one, `server._handle.onconnection`,
// and a closed server or one at maxConnections refuses it, which sends it
// to another worker.
//
// How: Node's cluster code asks the primary for a server (`queryServer`)
// and gets a round-robin handle back, whose key is in the answer. We
// remember that answer, and when a net.Server gets such a handle we name it
// (an id of ours) to the primary: { act: 'connServer', key, id }. The
// primary then sends the channel (a socket, as a NODE_HANDLE message), once,
// and hands that server's connections over it.
//
// Off where it could be noticed: process.binding (for TCP and Pipe handles
// from descriptors) warns under --pending-deprecation, so then, or with
// RUST_CLUSTER_CONN_CHANNEL=0, Node's own way stays.
const cluster = require('node:cluster');
const net = require('node:net');
const { agent: AGENT } = require('../contract.json');

// Loaded with the first connection (index.js: start-up loads little).
let connections = null;

let wraps = null;
let binding = null;
let child = null;
const servers = new Map();
let nextId = 0;
let lastReply = null;

function noop() {}

function pendingDeprecation() {
  return process.execArgv.includes('--pending-deprecation') ||
    /--pending-deprecation/.test(process.env.NODE_OPTIONS || '') ||
    process.env.NODE_PENDING_DEPRECATION === '1';
}

// The addon and the handle classes, loaded on the first round-robin server.
function ready() {
  if (wraps !== null) return wraps !== false;
  wraps = false;
  if (process.env.RUST_CLUSTER_CONN_CHANNEL === '0' || pendingDeprecation()) return false;
  try {
    const tcp = process.binding('tcp_wrap');
    const pipe = process.binding('pipe_wrap');
    binding = require('../binding');
    wraps = { TCP: tcp.TCP, tcpSocket: tcp.constants.SOCKET, Pipe: pipe.Pipe, pipeSocket: pipe.constants.SOCKET };
  } catch {
    return false;
  }
  return true;
}

function send(message) {
  if (!process.connected) return;
  process.send({ cmd: AGENT.cmd, ...message }, undefined, { swallowErrors: true }, noop);
}

// Answers to `queryServer` carry the server's key; Node's cluster code
// hands the handle to net.Server within the same emit, after this listener.
function remember(message) {
  if (message !== null && typeof message === 'object' && message.cmd === 'NODE_CLUSTER' &&
      message.ack !== undefined && typeof message.key === 'string') {
    lastReply = message;
  }
}

function onInternalMessage(message, handle) {
  if (message === null || typeof message !== 'object' || message.cmd !== AGENT.cmd ||
      message.act !== AGENT.connChannel || !handle) return;
  if (child !== null) child.close();
  try {
    child = new binding.Child(handle.fd, onConnections);
  } catch {
    child = null;
  }
  handle.close();
}

// A round-robin handle is a plain object of Node's cluster code; a shared
// one is a real TCP or Pipe handle.
function isRoundRobin(handle) {
  return handle !== null && typeof handle === 'object' && Object.getPrototypeOf(handle) === Object.prototype;
}

function register(server, handle, key) {
  const id = nextId++;
  servers.set(id, { server, pipe: typeof handle.getsockname !== 'function' });
  const close = handle.close;
  handle.close = function closeAndForget(...args) {
    servers.delete(id);
    return Reflect.apply(close, this, args);
  };
  send({ act: AGENT.connServer, key, id });
}

// A batch of connections (handed by the primary, or accepted by this worker
// for a server it accepts for itself): which of our servers, and the
// descriptors. Returns 1 for each connection taken (its socket handle owns
// the descriptor now), 0 for each refused (as Node's cluster code answers
// `accepted`), whose descriptor the engine keeps: it closes our copy of a
// handed one, or returns one we accepted to the primary. The taken ones
// reach their servers on the next tick, after the answer is written.
function onConnections(ids, fds) {
  const answers = new Uint8Array(ids.length);
  const taken = [];
  const pending = new Map();
  for (let i = 0; i < ids.length; i++) {
    const entry = servers.get(ids[i]);
    const server = entry && entry.server;
    const handle = server && server._handle;
    let ok = handle != null;
    if (ok && server.maxConnections != null) {
      const count = (pending.get(server) || 0) + server._connections;
      ok = count < server.maxConnections;
    }
    if (ok) {
      const socket = entry.pipe ? new wraps.Pipe(wraps.pipeSocket) : new wraps.TCP(wraps.tcpSocket);
      if (socket.open(fds[i]) === 0) {
        answers[i] = 1;
        pending.set(server, (pending.get(server) || 0) + 1);
        taken.push(handle, socket);
        continue;
      }
      socket.close();
    }
  }
  if (taken.length > 0) process.nextTick(serve, taken);
  return answers;
}

function serve(taken) {
  if (connections === null) connections = require('./connections');
  for (let i = 0; i < taken.length; i += 2) {
    connections.handing();
    taken[i].onconnection(0, taken[i + 1]);
  }
}

function install() {
  if (typeof cluster._getServer !== 'function') return;
  process.prependListener('internalMessage', remember);
  process.on('internalMessage', onInternalMessage);
  const getServer = cluster._getServer;
  cluster._getServer = function getServerThenRegister(obj, options, cb) {
    return Reflect.apply(getServer, this, [obj, options, function onServer(err, handle) {
      const reply = lastReply;
      lastReply = null;
      if (!err && reply !== null && obj instanceof net.Server && isRoundRobin(handle) && ready()) {
        register(obj, handle, reply.key);
      }
      return Reflect.apply(cb, this, arguments);
    }]);
  };
}

module.exports = { install };
