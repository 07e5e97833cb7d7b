'use strict';
// Connections that crossed the channel with their server's key, after Node's
// lib/internal/socket_list.js. A net.Socket of a net.Server sent one way
// leaves the server's `_connections`; the sender's server asks the receiver
// (NODE_SOCKET_GET_COUNT, NODE_SOCKET_NOTIFY_CLOSE) how many it still holds
// and waits for them in server.close().
const EventEmitter = require('node:events');
const errors = require('./errors');

// The sender's side: one per server key, given to the server's
// `_setupWorker()` as Node's child_process does.
class SocketListSend extends EventEmitter {
  constructor(child, key, send) {
    super();
    this.key = key;
    this.child = child;
    this.send = send;
    child.once('exit', () => this.emit('exit', this));
  }

  request(message, cmd, swallowErrors, callback) {
    const child = this.child;
    const onclose = () => {
      child.removeListener('internalMessage', onreply);
      callback(errors.childClosedBeforeReply());
    };
    const onreply = (reply) => {
      if (!(reply.cmd === cmd && reply.key === this.key)) return;
      child.removeListener('disconnect', onclose);
      child.removeListener('internalMessage', onreply);
      callback(null, reply);
    };
    if (!child.connected) return onclose();
    this.send(message, swallowErrors);
    child.once('disconnect', onclose);
    child.on('internalMessage', onreply);
  }

  close(callback) {
    this.request({ cmd: 'NODE_SOCKET_NOTIFY_CLOSE', key: this.key },
                 'NODE_SOCKET_ALL_CLOSED', true, callback);
  }

  getConnections(callback) {
    this.request({ cmd: 'NODE_SOCKET_GET_COUNT', key: this.key }, 'NODE_SOCKET_COUNT', false,
                 (err, reply) => (err ? callback(err) : callback(null, reply.count)));
  }
}

// The receiver's side: counts the sockets it got under one key and answers
// the sender's questions about them.
class SocketListReceive extends EventEmitter {
  constructor(child, key, send) {
    super();
    this.connections = 0;
    this.key = key;
    this.child = child;
    const onempty = () => {
      if (child.connected) send({ cmd: 'NODE_SOCKET_ALL_CLOSED', key }, true);
    };
    child.on('internalMessage', (message) => {
      if (message.key !== key) return;
      if (message.cmd === 'NODE_SOCKET_NOTIFY_CLOSE') {
        if (this.connections === 0) return onempty();
        this.once('empty', onempty);
      } else if (message.cmd === 'NODE_SOCKET_GET_COUNT') {
        send({ cmd: 'NODE_SOCKET_COUNT', key, count: this.connections }, false);
      }
    });
  }

  add(socket) {
    this.connections++;
    socket.once('close', () => {
      this.connections--;
      if (this.connections === 0) this.emit('empty', this);
    });
  }
}

/**
 * The socket lists of one channel. `send(message, swallowErrors)` writes an
 * internal message to the worker.
 */
class SocketLists {
  constructor(child, send) {
    this.child = child;
    this.sendInternal = send;
    this.send = new Map();
    this.got = new Map();
  }

  /** A net.Socket of `socket.server` leaves for the worker under `key`. */
  sent(socket, key) {
    if (this.send.has(key)) return;
    const list = new SocketListSend(this.child, key, this.sendInternal);
    this.send.set(key, list);
    socket.server._setupWorker(list);
  }

  /** A net.Socket arrived from the worker under `key`. */
  received(socket, key) {
    let list = this.got.get(key);
    if (list === undefined) {
      list = new SocketListReceive(this.child, key, this.sendInternal);
      this.got.set(key, list);
    }
    list.add(socket);
  }
}

module.exports = { SocketLists };
