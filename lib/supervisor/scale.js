'use strict';
// scale(n): fork workers until n serve (and wait until they listen), or
// drain the newest ones down to n. A success forgets past crashes.
const errors = require('../errors');
const registry = require('./registry');
const { whenReady } = require('./replace');
const { drain } = require('./drain');

function scale(state, n) {
  if (typeof n !== 'number') return Promise.reject(errors.invalidArgType('n', 'number', n));
  if (!Number.isInteger(n) || n < 0 || n > 1024) {
    return Promise.reject(errors.outOfRange('n', 'an integer >= 0 and <= 1024', n));
  }
  return state.serial(async () => {
    const cluster = state.cluster;
    const active = registry.activeWorkers();
    if (n > active.length) {
      const template = active[active.length - 1];
      const m = template ? registry.get(template) : null;
      const started = [];
      for (let i = active.length; i < n; i++) started.push(cluster.fork(m ? m.env : undefined));
      const count = m ? m.listening : 0;
      await Promise.all(started.map((w) => whenReady(w, count, state.config.listenTimeout, state.config.readySignal)));
    } else if (n < active.length) {
      const retired = active.slice(n).reverse();
      await Promise.all(retired.map((w) => drain(w, state.config.drainTimeout, 'scale')));
    }
    // It came out as asked: start over after a crash loop.
    state.respawn.reset();
    return registry.activeWorkers().length;
  });
}

module.exports = { scale };
