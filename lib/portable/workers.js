'use strict';
// What the supervisor learns of each worker on the portable engine: the
// same calls lib/primary.js makes on the Rust engine (registry.onFork,
// onListening, onExit, onAgentMessage), hooked around node:cluster's own
// fork(). The worker agent's NODE_RUST_CLUSTER messages reach the primary
// as worker.process 'internalMessage' events (Node hands every `NODE_` cmd
// to those), where node's cluster code ignores them.
const registry = require('../supervisor/registry');
const connections = require('./connections');
const { agent: AGENT } = require('../contract.json');

function watch(worker, env) {
  registry.onFork(worker, env);
  connections.add(worker);
  // Before node's own listener, which emits 'exit': by then the worker is
  // no longer live, as on the Rust engine.
  worker.process.prependOnceListener('exit', () => {
    registry.onExit(worker);
    connections.remove(worker);
  });
  // Before any user listener: the supervisor counts servers first.
  worker.on('listening', () => {
    registry.onListening(worker);
    connections.onReady(worker);
  });
  worker.on('online', () => connections.onReady(worker));
  worker.process.on('internalMessage', (message) => {
    if (message === null || typeof message !== 'object') return;
    connections.onInternalMessage(worker, message);
    // Connection counts stay with the counters, as the Rust engine keeps
    // them; the rest (heartbeat answers) goes to the supervisor.
    if (message.cmd === AGENT.cmd && message.act !== AGENT.conns) registry.onAgentMessage(worker, message);
  });
}

function install(cluster) {
  const fork = cluster.fork;
  cluster.fork = function forkPortable(env) {
    const worker = Reflect.apply(fork, this, [env]);
    watch(worker, env);
    return worker;
  };
}

module.exports = { install };
