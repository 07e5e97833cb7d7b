'use strict';
// Respawn: a worker that exits without having been disconnected (a crash, a
// kill from outside) is replaced after a delay that doubles with each crash
// inside the crash window; the `maxCrashes`-th crash inside the window stops
// respawning and emits 'crashloop'. Crashes are remembered per place (slot:
// a worker and those that took its place), so that a reload forgets only
// the crashes of the places it actually replaced; a reload that replaced
// every worker, or a scale() that succeeded, starts over after a crash loop.
const registry = require('./registry');
const { forkLike } = require('./replace');

function createRespawn(state) {
  // { at, slot } per crash inside the window.
  let crashes = [];
  let stopped = false;
  const timers = new Set();

  function onExit(worker, code, signal) {
    if (!state.config.respawn || state.shuttingDown) return;
    const m = registry.get(worker);
    if (!m || m.retiring || m.pending || worker.exitedAfterDisconnect) return;
    crashed(worker, m, code, signal);
  }

  function crashed(worker, m, code, signal) {
    const cfg = state.config.respawn;
    const now = Date.now();
    state.counters.crashes++;
    crashes = crashes.filter((c) => now - c.at < cfg.crashWindow);
    crashes.push({ at: now, slot: m.slot });
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
    /**
     * A worker died while the supervisor was replacing it and no replacement
     * came up: its place is empty, as after a crash.
     */
    lost(worker) {
      if (!state.config.respawn || state.shuttingDown) return;
      const m = registry.get(worker);
      crashed(worker, m, worker.process.exitCode, worker.process.signalCode);
    },
    /** Drop scheduled respawns (shutdown). */
    cancel() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
    /** Forget the crashes of one place (its worker was replaced). */
    forgive(slot) {
      crashes = crashes.filter((c) => c.slot !== slot);
    },
    /** Respawn again after a crash loop. */
    resume() {
      stopped = false;
    },
    /** Forget past crashes and respawn again after a crash loop. */
    reset() {
      crashes = [];
      stopped = false;
    },
    pending: () => timers.size,
    stopped: () => stopped,
    crashes: () => crashes.length,
  };
}

module.exports = { createRespawn };
