'use strict';
// A server the primary accepts for, after Node's
// lib/internal/cluster/round_robin_handle.js. The primary listens with
// net.Server#listen, as Node's does, so every listen option and error is
// Node's own; the engine then takes the socket by descriptor and accepts and
// hands out connections in Rust (src/round_robin_handle.rs), with the
// scheduler of the policy (round robin, leastconn, sticky).
//
// Across a primary upgrade (lib/supervisor/upgrade.js) the new primary
// listens on the socket it inherited (`adopt`, listen({ fd })) instead of
// binding, and the old one hands its socket over (inheritable(), handOver()).
const assert = require('node:assert');
const net = require('node:net');
const { getEngine } = require('./process');
const { InheritedListener } = require('./inherited_listener');
const { closeKeepingPath, removePath } = require('./socket_path');

// libuv's UV_TCP_IPV6ONLY, the only listen flag net.Server takes.
const UV_TCP_IPV6ONLY = 1;

class RoundRobinHandle {
  /**
   * `adopt`: an inherited socket ({ fd }) to listen on instead; `extra`:
   * more inherited sockets of this key (an old SO_REUSEPORT group's), to
   * accept on beside it until the old primary is gone.
   */
  constructor(key, address, { port, fd, flags, backlog, readableAll, writableAll }, policy,
    { adopt = null, extra = [] } = {}) {
    this.key = key;
    this.policy = policy;
    this.all = new Map();
    // A Unix socket's listening handle stays here: closing it unlinks the
    // path, as in Node, so it is closed only with the handle.
    this.handle = null;
    this.sockname = null;
    this.errno = 0;
    // A Unix socket's path; whether we opened it from an inherited
    // descriptor (so libuv will not remove the path), or handed it over.
    this.path = !(fd >= 0) && port < 0 ? address : null;
    this.adopted = adopt !== null;
    this.handedOver = false;
    this.extra = extra;
    this.inheritedListeners = [];
    this.server = net.createServer(assert.fail);
    if (adopt !== null) {
      this.server.listen({ fd: adopt.fd, backlog });
    } else if (fd >= 0) {
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
    if (this.errno === 0) {
      this.inheritedListeners = this.extra.map((s) => new InheritedListener(this.key, s.fd, engine));
    }
    this.extra = [];
  }

  /** The sockets a new primary inherits from this handle: [{ fd, kind }]. */
  inheritable() {
    if (this.server !== null || this.errno !== 0) return [];
    const fd = this.handle ? this.handle.fd : getEngine().listenerFd(this.key);
    const out = fd >= 0 ? [{ fd, kind: 'rr' }] : [];
    for (const l of this.inheritedListeners) if (l.fd >= 0) out.push({ fd: l.fd, kind: 'reuseport' });
    return out;
  }

  /**
   * The new primary listens on our sockets: stop accepting where JS
   * accepts (a Unix socket, whose path stays), leave what the engine has
   * accepted to our workers. The engine's own copy of a TCP socket closes
   * with the handle, once our last worker leaves (after being handed what
   * the engine still held: Worker#disconnect()).
   */
  handOver() {
    this.handedOver = true;
    for (const l of this.inheritedListeners) l.close();
    this.inheritedListeners = [];
    if (this.handle) {
      if (this.adopted) this.handle.close();
      else closeKeepingPath(this.handle, this.path);
      this.handle = null;
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
    for (const l of this.inheritedListeners) l.close();
    this.inheritedListeners = [];
    if (this.handle) {
      this.handle.close();
      // libuv removes the path it bound; one we inherited, we remove.
      if (this.adopted && !this.handedOver) removePath(this.path);
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
