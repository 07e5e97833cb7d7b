'use strict';
// Graceful shutdown: stop respawning, drain every worker at once (they stop
// accepting, finish their requests, close idle keep-alive connections), wait
// up to `timeout` ms, then kill what is left. Resolves to the exit code:
//
//   0    every worker exited within the timeout
//   124  the timeout ran out and the remaining workers were killed
//
// (and 128 + signal number when a second signal cuts the wait short; see
// index.js).
const registry = require('./registry');
const { drain } = require('./drain');
const { DEFAULTS } = require('./options');

const EXIT_CLEAN = 0;
const EXIT_TIMEOUT = 124;
// How long after a worker's exit its piped output may take to be read: a
// bound only for a pipe some other process keeps open; a loaded machine
// can take seconds to read the rest.
const OUTPUT_GRACE_MS = 10000;

// A worker's 'exit' can come before all it wrote to piped stdio has been
// read; its process's 'close' comes after. A primary about to exit waits
// for it (briefly), so a worker's last lines are not lost.
const closed = new WeakSet();

function outputRead(worker) {
  const child = worker.process;
  if ((!child.stdout && !child.stderr) || closed.has(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, OUTPUT_GRACE_MS);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function shutdown(state, { timeout, signal = null, reason = null } = {}) {
  if (state.shutdownPromise) return state.shutdownPromise;
  if (timeout === undefined) {
    timeout = state.config.shutdown ? state.config.shutdown.timeout : DEFAULTS.shutdown.timeout;
  }
  state.shuttingDown = true;
  state.respawn.cancel();
  state.heartbeat.stop();
  state.maxRequests.stop();
  state.notify.stopping();
  // `reason`: 'upgrade' when the old primary of an upgrade drains.
  state.cluster.emit('shutdown', reason === null ? { signal, timeout } : { signal, timeout, reason });
  const workers = registry.liveWorkers();
  for (const w of workers) w.process.once('close', () => closed.add(w.process));
  state.shutdownPromise = Promise.all(workers.map((w) => drain(w, timeout, 'shutdown')))
    .then((outcomes) => Promise.all(workers.map(outputRead)).then(() => outcomes))
    .then((outcomes) => {
      state.closeStatsServer();
      state.closeControl();
      return outcomes.includes('killed') ? EXIT_TIMEOUT : EXIT_CLEAN;
    });
  return state.shutdownPromise;
}

module.exports = { shutdown, EXIT_CLEAN, EXIT_TIMEOUT };
