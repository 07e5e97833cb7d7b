'use strict';
// A socket every worker listens on itself (SCHED_NONE, and UDP always),
// as Node's lib/internal/cluster/shared_handle.js makes it: bound by Node's
// own net._createServerHandle / dgram._createSocketHandle, sent to each
// worker, closed when the last one leaves.
// Across a primary upgrade the new primary opens the socket it inherited
// (`adopt`) instead of binding.
const dgram = require('node:dgram');
const net = require('node:net');
const { dgramState } = require('./handles');
const { closeKeepingPath, removePath } = require('./socket_path');

// What Node's internal dgram `_createSocketHandle` does, without its public
// alias, which is deprecated (DEP0112: a warning, or a throw under
// --throw-deprecation). A new dgram.Socket's UDP handle (bind6 for udp6,
// as Node's newHandle sets up), bound or opened on `fd`, then taken from
// the socket. Returns the handle or a negative errno.
function createSocketHandle(address, port, addressType, fd, flags) {
  const socket = dgram.createSocket(addressType);
  const state = dgramState(socket);
  const handle = state.handle;
  state.handle = null;
  let err = 0;
  if (Number.isInteger(fd) && fd > 0) err = handle.open(fd);
  else if (port || address) err = handle.bind(address, port || 0, flags);
  if (err) {
    handle.close();
    return err;
  }
  return handle;
}

class SharedHandle {
  constructor(key, address, { port, addressType, fd, flags }, { adopt = null } = {}) {
    this.key = key;
    this.workers = new Map();
    this.handle = null;
    this.errno = 0;
    const udp = addressType === 'udp4' || addressType === 'udp6';
    // A Unix socket's path (see lib/socket_path.js).
    this.path = !udp && !(fd >= 0) && port < 0 ? address : null;
    this.adopted = adopt !== null;
    this.handedOver = false;
    let rval;
    if (udp) rval = createSocketHandle(adopt ? null : address, adopt ? 0 : port, addressType, adopt ? adopt.fd : fd, flags);
    else if (adopt) rval = net._createServerHandle(null, 0, -1, adopt.fd);
    else rval = net._createServerHandle(address, port, addressType, fd, flags);
    if (typeof rval === 'number') this.errno = rval;
    else this.handle = rval;
  }

  /** The socket a new primary inherits: [{ fd, kind }]. */
  inheritable() {
    return this.handle && this.handle.fd >= 0 ? [{ fd: this.handle.fd, kind: 'shared' }] : [];
  }

  /**
   * The new primary has our socket: our workers go on accepting on their
   * copies until they are drained; ours closes with the last of them, and
   * leaves a Unix socket's path to the new primary.
   */
  handOver() {
    this.handedOver = true;
  }

  add(worker, send) {
    this.workers.set(worker.id, worker);
    send(this.errno, null, this.handle);
  }

  remove(worker) {
    if (!this.workers.has(worker.id)) return false;
    this.workers.delete(worker.id);
    if (this.workers.size !== 0) return false;
    if (this.handle) {
      if (this.path !== null && this.handedOver && !this.adopted) closeKeepingPath(this.handle, this.path);
      else this.handle.close();
      // libuv removes the path it bound; one we inherited, we remove.
      if (this.path !== null && this.adopted && !this.handedOver) removePath(this.path);
    }
    this.handle = null;
    return true;
  }
}

module.exports = { SharedHandle };
