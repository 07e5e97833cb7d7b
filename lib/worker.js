'use strict';
// The Worker class of the primary, after lib/internal/cluster/worker.js and
// the primary's additions in lib/internal/cluster/primary.js.
const EventEmitter = require('node:events');

// Marks the listener a Worker puts on its process's 'error' event, so the
// channel can tell whether anybody really handles errors.
const kForwardsTo = Symbol('rust-cluster.forwardsTo');

function Worker(options) {
  if (!(this instanceof Worker)) return new Worker(options);
  EventEmitter.call(this);
  if (options === null || typeof options !== 'object') options = {};
  this.exitedAfterDisconnect = undefined;
  this.state = options.state || 'none';
  this.id = options.id | 0;
  if (options.process) {
    this.process = options.process;
    const forward = (code, signal) => this.emit('error', code, signal);
    forward[kForwardsTo] = this;
    this.process.on('error', forward);
    this.process.on('message', (message, handle) => this.emit('message', message, handle));
  }
}

Object.setPrototypeOf(Worker.prototype, EventEmitter.prototype);
Object.setPrototypeOf(Worker, EventEmitter);

Worker.prototype.kill = function kill(...args) {
  return Reflect.apply(this.destroy, this, args);
};

Worker.prototype.send = function send(...args) {
  return Reflect.apply(this.process.send, this.process, args);
};

Worker.prototype.isDead = function isDead() {
  return this.process.exitCode != null || this.process.signalCode != null;
};

Worker.prototype.isConnected = function isConnected() {
  return this.process.connected;
};

module.exports = Worker;
module.exports.kForwardsTo = kForwardsTo;
