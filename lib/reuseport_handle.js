'use strict';
// SCHED_REUSEPORT: every worker of a TCP server gets its own SO_REUSEPORT
// socket for the address, made by the engine (src/reuseport_handle.rs),
// and the kernel spreads connections over them. When a worker leaves, the
// connections still queued on its socket go to the others through a
// round-robin handle of the engine that has no listener of its own.
//
// Across a primary upgrade the new primary's workers take over the old
// workers' sockets (`inherited`), one each, so that none leaves the group
// (closing one resets what the kernel queued on it); until a new worker
// takes one, and for any left over, the new primary accepts on it itself
// (lib/inherited_listener.js). The old primary closes its copies at once
// (handOver()); its workers accept on theirs until they are drained.
const { getEngine } = require('./process');
const { UV_TCP_IPV6ONLY } = require('./round_robin_handle');
const { InheritedListener } = require('./inherited_listener');
const { policies } = require('./contract.json');

let warned = false;

function warnUnsupported() {
  if (warned) return;
  warned = true;
  process.emitWarning(`scheduling policy reuseport (SCHED_REUSEPORT) spreads connections only on Linux, ` +
    `not on ${process.platform}: workers share one listening socket, as under SCHED_NONE`,
  { code: 'RUST_CLUSTER_POLICY_UNSUPPORTED' });
}

/** A socket the engine owns, sent to a worker as a listening handle. */
class EngineSocket {
  constructor(fd) {
    this.fd = fd;
  }
}

class ReusePortHandle {
  /**
   * TCP on an address, on Linux; Unix sockets and listen({ fd }) share one
   * socket, and so does everything where SO_REUSEPORT does not spread
   * connections over the sockets (macOS gives them all to one).
   */
  static appliesTo({ addressType, fd }) {
    if (process.platform !== 'linux') {
      warnUnsupported();
      return false;
    }
    return (addressType === 4 || addressType === 6) && !(fd >= 0);
  }

  /** `inherited`: the old workers' sockets of this key ([{ fd }]). */
  constructor(key, address, { port, flags }, { inherited = [] } = {}) {
    this.key = key;
    this.address = typeof address === 'string' ? address : null;
    this.port = port;
    this.ipv6Only = Boolean(flags & UV_TCP_IPV6ONLY);
    this.all = new Map();
    // Our workers' sockets (the engine's), by worker id.
    this.fds = new Map();
    const engine = getEngine();
    engine.listen(key, -1, policies.SCHED_RR);
    this.inheritedListeners = inherited.map((s) => new InheritedListener(key, s.fd, engine))
      .filter((l) => l.handle !== null);
    // listen(0): the port the old sockets were given.
    const old = this.inheritedListeners.length ? this.inheritedListeners[0].address() : null;
    if (old && !this.port) this.port = old.port;
  }

  /** The sockets a new primary inherits: [{ fd, kind }]. */
  inheritable() {
    return [...this.fds.values(), ...this.inheritedListeners.map((l) => l.fd)]
      .filter((fd) => fd >= 0).map((fd) => ({ fd, kind: 'reuseport' }));
  }

  /**
   * The new primary accepts on copies of our sockets: close ours now
   * (without taking what waits on them, which it takes); our workers
   * accept on theirs until they are drained.
   */
  handOver() {
    getEngine().reuseportClose(this.key);
    this.fds.clear();
    this.closeInherited();
  }

  closeInherited() {
    for (const l of this.inheritedListeners) l.close();
    this.inheritedListeners = [];
  }

  add(worker, send) {
    const engine = getEngine();
    // An old worker's socket, while there is one nobody took.
    const old = this.inheritedListeners.shift();
    const fd = engine.reuseportSocket(this.key, worker.id, this.address, this.port, this.ipv6Only,
      old ? old.fd : undefined);
    // The engine has its own copy now.
    if (old) old.close();
    if (fd < 0) {
      if (this.all.size === 0) this.close();
      return send(fd, null);
    }
    this.fds.set(worker.id, fd);
    this.all.set(worker.id, worker);
    send(null, null, new EngineSocket(fd));
    engine.addWorker(this.key, worker.id);
  }

  // worker.disconnect() (`retiring`): no more connections drained from
  // others, but its socket stays until it is gone (it may still be using
  // it). Then what waits in its queue goes to the others.
  remove(worker, retiring) {
    if (!this.all.has(worker.id)) return false;
    const engine = getEngine();
    engine.removeWorker(this.key, worker.id);
    if (retiring) return false;
    this.all.delete(worker.id);
    this.fds.delete(worker.id);
    engine.reuseportRelease(this.key, worker.id);
    if (this.all.size !== 0) return false;
    this.close();
    return true;
  }

  close() {
    const engine = getEngine();
    engine.closeHandle(this.key);
    engine.reuseportClose(this.key);
    this.fds.clear();
    this.closeInherited();
  }
}

module.exports = { ReusePortHandle, EngineSocket };
