'use strict';
// Respawn: a worker that exits without having been disconnected (a crash, a
// kill from outside) is replaced after a delay that doubles with each crash
// inside the crash window; the `maxCrashes`-th crash inside the window stops
// respawning and emits 'crashloop'. reload() and scale() start over.
const registry = require('./registry');
const { forkLike } = require('./replace');

function createRespawn(state) {
  let crashes = [];
  let stopped = false;
  const timers = new Set();

  function onExit(worker, code, signal) {
    const cfg = state.config.respawn;
    if (!cfg || state.shuttingDown) return;
    const m = registry.get(worker);
    if (!m || m.retiring || m.pending || worker.exitedAfterDisconnect) return;
    const now = Date.now();
    state.counters.crashes++;
    crashes = crashes.filter((t) => now - t < cfg.crashWindow);
    crashes.push(now);
    if (stopped) return;
    if (crashes.length >= cfg.maxCrashes) {
      stopped = true;
      state.cluster.emit('crashloop', { worker, crashes: crashes.length, window: cfg.crashWindow, code, signal });
      return;
    }
    const delay = Math.min(cfg.maxDelay, cfg.minDelay * 2 ** (crashes.length - 1));
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (state.shuttingDown || stopped) return;
      const fresh = forkLike(state.cluster, worker);
      state.counters.respawns++;
      state.cluster.emit('replace', fresh, worker, 'respawn', { delay, code, signal });
    }, delay);
    timers.add(timer);
  }

  return {
    onExit,
    /** Drop scheduled respawns (shutdown). */
    cancel() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
    /** Forget past crashes and respawn again after a crash loop. */
    reset() {
      crashes = [];
      stopped = false;
    },
    pending: () => timers.size,
    stopped: () => stopped,
  };
}

module.exports = { createRespawn };
