'use strict';
// A server the primary accepts for, after Node's
// lib/internal/cluster/round_robin_handle.js. The primary listens with
// net.Server#listen, as Node's does, so every listen option and error is
// Node's own; the engine then takes the socket by descriptor and accepts and
// hands out connections in Rust (src/round_robin_handle.rs), with the
// scheduler of the policy (round robin, leastconn, sticky).
const assert = require('node:assert');
const net = require('node:net');
const { getEngine } = require('./process');

// libuv's UV_TCP_IPV6ONLY, the only listen flag net.Server takes.
const UV_TCP_IPV6ONLY = 1;

class RoundRobinHandle {
  constructor(key, address, { port, fd, flags, backlog, readableAll, writableAll }, policy) {
    this.key = key;
    this.policy = policy;
    this.all = new Map();
    // A Unix socket's listening handle stays here: closing it unlinks the
    // path, as in Node, so it is closed only with the handle.
    this.handle = null;
    this.sockname = null;
    this.errno = 0;
    this.server = net.createServer(assert.fail);
    if (fd >= 0) {
      this.server.listen({ fd, backlog });
    } else if (port >= 0) {
      this.server.listen({
        port,
        host: address,
        ipv6Only: Boolean(flags & UV_TCP_IPV6ONLY),
        backlog,
      });
    } else {
      this.server.listen({ path: address, backlog, readableAll, writableAll });
    }
    this.server.once('listening', () => this.listening());
  }

  // Runs before any add()'s own 'listening' listener: in the same tick as
  // listen() finished, so libuv has not accepted anything yet.
  listening() {
    const handle = this.server._handle;
    this.server._handle = null;
    this.server = null;
    const engine = getEngine();
    if (typeof handle.getsockname === 'function') {
      // TCP: the engine accepts on its own copy of the socket.
      const out = {};
      handle.getsockname(out);
      this.sockname = out;
      this.errno = engine.listen(this.key, handle.fd, this.policy);
      handle.close();
    } else {
      // A Unix socket: libuv accepts, the engine hands out.
      this.errno = engine.listen(this.key, -1, this.policy);
      this.handle = handle;
      handle.onconnection = (err, client) => {
        if (err) return;
        engine.connection(this.key, client.fd);
        client.close();
      };
    }
  }

  add(worker, send) {
    assert(this.all.has(worker.id) === false, 'worker already added');
    this.all.set(worker.id, worker);
    const done = () => {
      if (this.errno) return send(this.errno, null);
      send(null, this.sockname ? { sockname: this.sockname } : null, null);
      getEngine().addWorker(this.key, worker.id);
    };
    if (this.server === null) return done();
    this.server.once('listening', done);
    this.server.once('error', (err) => send(err.errno, null));
  }

  // `retiring` (worker.disconnect()) changes nothing here: the worker gets
  // no more connections either way.
  remove(worker) {
    if (!this.all.delete(worker.id)) return false;
    const engine = getEngine();
    engine.removeWorker(this.key, worker.id);
    if (this.all.size !== 0) return false;
    engine.closeHandle(this.key);
    if (this.handle) {
      this.handle.close();
      this.handle = null;
    }
    if (this.server) {
      this.server.close();
      this.server = null;
    }
    return true;
  }
}

module.exports = { RoundRobinHandle, UV_TCP_IPV6ONLY };
