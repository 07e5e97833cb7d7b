'use strict';
// A socket every worker listens on itself (SCHED_NONE, and UDP always),
// as Node's lib/internal/cluster/shared_handle.js makes it: bound by Node's
// own net._createServerHandle / dgram._createSocketHandle, sent to each
// worker, closed when the last one leaves.
const dgram = require('node:dgram');
const net = require('node:net');
const { dgramState } = require('./handles');

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
  constructor(key, address, { port, addressType, fd, flags }) {
    this.key = key;
    this.workers = new Map();
    this.handle = null;
    this.errno = 0;
    const rval = addressType === 'udp4' || addressType === 'udp6'
      ? createSocketHandle(address, port, addressType, fd, flags)
      : net._createServerHandle(address, port, addressType, fd, flags);
    if (typeof rval === 'number') this.errno = rval;
    else this.handle = rval;
  }

  add(worker, send) {
    this.workers.set(worker.id, worker);
    send(this.errno, null, this.handle);
  }

  remove(worker) {
    if (!this.workers.has(worker.id)) return false;
    this.workers.delete(worker.id);
    if (this.workers.size !== 0) return false;
    if (this.handle) this.handle.close();
    this.handle = null;
    return true;
  }
}

module.exports = { SharedHandle };
