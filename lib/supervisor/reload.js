'use strict';
// Rolling restart: every serving worker, one at a time, is replaced by a new
// one (fork, wait until it is ready, drain the old one). Capacity never
// drops below the current number of workers. A replacement that dies before
// it is ready is forked again (`reloadRetries` times); a worker that still
// cannot be replaced stays in service, and the reload goes on with the
// others. The result says, per worker, what happened:
//
//   replaced  a new worker serves in its place
//   failed    it still runs (the old code); `error` says why
//   gone      it exited before its turn (a respawn, if on, starts anew)
//   skipped   a shutdown began first
//
// Only the places actually replaced have their crash count reset.
const registry = require('./registry');
const { replace } = require('./replace');

function incomplete(report) {
  const failed = report.results.filter((r) => r.outcome === 'failed');
  const err = new Error(`reload incomplete: ${failed.length === 1 ? 'worker' : 'workers'} ` +
    `${failed.map((r) => r.id).join(', ')} still ${failed.length === 1 ? 'runs' : 'run'} the old code ` +
    `(${failed.map((r) => `worker ${r.id}: ${r.error}`).join('; ')})`);
  err.code = 'ERR_RUST_CLUSTER_REPLACEMENT_FAILED';
  err.report = report;
  return err;
}

/** Resolves to { fresh: Worker[], report } (report is JSON-ready). */
function reloadReport(state) {
  return state.serial(async () => {
    const started = Date.now();
    const fresh = [];
    const results = [];
    state.notify.reloading();
    for (const old of registry.activeWorkers()) {
      const entry = { id: old.id, pid: old.process.pid ?? null, outcome: null, replacement: null, attempts: 0, error: null };
      results.push(entry);
      if (state.shuttingDown) {
        entry.outcome = 'skipped';
        continue;
      }
      if (old.isDead() || registry.get(old).retiring) {
        entry.outcome = 'gone';
        continue;
      }
      const slot = registry.get(old).slot;
      try {
        const r = await replace(state.cluster, old, 'reload', state.config,
          { retries: state.config.reloadRetries, stopped: () => state.shuttingDown });
        entry.outcome = 'replaced';
        entry.replacement = { id: r.fresh.id, pid: r.fresh.process.pid ?? null };
        entry.attempts = r.attempts;
        fresh.push(r.fresh);
        state.counters.reloads++;
        state.respawn.forgive(slot);
      } catch (err) {
        entry.attempts = err.attempts || 1;
        entry.error = err.message;
        if (old.isDead()) {
          // Its place is empty: it died while its replacements did. A crash
          // like any other, for respawn to fill.
          entry.outcome = 'gone';
          state.respawn.lost(old);
        } else {
          entry.outcome = 'failed';
        }
      }
    }
    const count = (outcome) => results.filter((r) => r.outcome === outcome).length;
    const report = {
      replaced: count('replaced'),
      failed: count('failed'),
      gone: count('gone'),
      skipped: count('skipped'),
      ms: Date.now() - started,
      results,
    };
    if (report.failed === 0 && report.replaced > 0) state.respawn.resume();
    state.notify.reloaded(report);
    state.cluster.emit('reload', report);
    return { fresh, report };
  });
}

/** cluster.reload(): the new workers, or ERR_RUST_CLUSTER_REPLACEMENT_FAILED with err.report. */
function reload(state) {
  return reloadReport(state).then(({ fresh, report }) => {
    if (report.failed > 0) throw incomplete(report);
    return fresh;
  });
}

module.exports = { reload, reloadReport, incomplete };
