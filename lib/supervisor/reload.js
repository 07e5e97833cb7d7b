'use strict';
// Rolling restart: every serving worker, one at a time, is replaced by a new
// one (fork, wait until it listens, drain the old one). Capacity never drops
// below the current number of workers. A replacement that does not come up
// stops the reload (rejected with ERR_RUST_CLUSTER_REPLACEMENT_FAILED); the
// workers not yet replaced stay in service.
const registry = require('./registry');
const { replace } = require('./replace');

function reload(state) {
  state.respawn.reset();
  return state.serial(async () => {
    const fresh = [];
    for (const old of registry.activeWorkers()) {
      if (state.shuttingDown) break;
      if (old.isDead() || registry.get(old).retiring) continue;
      fresh.push(await replace(state.cluster, old, 'reload', state.config));
      state.counters.reloads++;
    }
    return fresh;
  });
}

module.exports = { reload };
