'use strict';
// Handles that travel with messages, after `handleConversion` in Node's
// lib/internal/child_process.js: what descriptor to pass for a net.Socket,
// net.Server or dgram.Socket, and how to rebuild one from a received fd.
const net = require('node:net');
const dgram = require('node:dgram');
const errors = require('./errors');

function dgramState(socket) {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  return sym ? socket[sym] : undefined;
}

function nativeType(handle) {
  const name = handle && handle.constructor && handle.constructor.name;
  if (name === 'TCP' || name === 'Pipe') return 'net.Native';
  if (name === 'UDP') return 'dgram.Native';
  return null;
}

let httpCommon;

/**
 * Work out how `handle` travels. Returns `{ type, fd, release }` where
 * `release()` runs once the descriptor is on its way (Rust holds its own
 * copy), or `{ type, fd: null }` when there is nothing to send. `lists` are
 * the channel's SocketLists (lib/socket-list.js).
 */
function prepare(message, handle, options, lists) {
  if (handle instanceof net.Socket) {
    if (!handle._handle) return { type: 'net.Socket', fd: null };
    if (handle.server) {
      message.key = handle.server._connectionKey;
      // The server now asks the worker about this connection.
      lists.sent(handle, message.key);
      if (!options.keepOpen) handle.server._connections--;
    }
    const native = handle._handle;
    const fd = native.fd;
    let release = () => {};
    if (!options.keepOpen) {
      native.onread = () => {};
      handle._handle = null;
      handle.setTimeout(0);
      if (httpCommon === undefined) httpCommon = require('node:_http_common');
      if (handle.parser && handle.parser instanceof httpCommon.HTTPParser) {
        httpCommon.freeParser(handle.parser, null, handle);
        if (handle._httpMessage) handle._httpMessage.detachSocket(handle);
      }
      release = () => native.close();
    }
    return { type: 'net.Socket', fd, release };
  }
  if (handle instanceof net.Server) {
    return { type: 'net.Server', fd: handle._handle ? handle._handle.fd : null };
  }
  if (handle instanceof dgram.Socket) {
    message.dgramType = handle.type;
    const state = dgramState(handle);
    return { type: 'dgram.Socket', fd: state && state.handle ? state.handle.fd : null };
  }
  const type = nativeType(handle);
  if (type) return { type, fd: handle.fd };
  throw errors.invalidHandleType();
}

/**
 * Rebuild a handle of `message.type` around a received descriptor. A
 * net.Socket of a worker's server is counted in `lists` for that server.
 */
function receive(message, fd, emit, lists) {
  switch (message.type) {
    case 'net.Server': {
      const server = new net.Server();
      server.listen({ fd }, () => emit(server));
      return;
    }
    case 'net.Socket': {
      const socket = new net.Socket({ fd, readable: true, writable: true });
      if (message.key) lists.received(socket, message.key);
      emit(socket);
      return;
    }
    case 'dgram.Socket': {
      const socket = new dgram.Socket(message.dgramType);
      socket.bind({ fd }, () => emit(socket));
      return;
    }
    case 'dgram.Native': {
      const socket = new dgram.Socket('udp4');
      socket.bind({ fd }, () => emit(dgramState(socket).handle));
      return;
    }
    default: {
      const socket = new net.Socket({ fd });
      emit(socket._handle);
    }
  }
}

module.exports = { prepare, receive, dgramState };
