'use strict';
// Upgrading the primary itself (cluster.upgrade(), `rust-cluster upgrade`,
// the upgrade signal), as nginx and Gunicorn upgrade their master:
//
//   1. Start a new primary from our own command line (node, its flags, the
//      script and its arguments, the directory we started in, our
//      environment), so that it runs the code and the rust-cluster now on
//      disk, with our listening sockets as inherited descriptors named by
//      RUST_CLUSTER_UPGRADE (inherited.js) and a socket to us as fd 3
//      (upgrade-channel.js).
//   2. It forks its workers, which listen on those same sockets (no
//      connection is refused: the kernel queues what neither primary has
//      accepted yet); once they all serve it says `ready`.
//   3. We say `commit`; it takes the control socket's name and the metrics
//      server (takeover.js) and says `took`.
//   4. We stop accepting (lib/primary.js handOverSockets()), tell systemd
//      its new main pid and then the new primary `handed` (it speaks to
//      systemd only from then on: with NotifyAccess=main, systemd drops
//      what a process other than the main one says), drain our workers as
//      a shutdown does, and exit.
//
// A new primary that exits, or is not ready (or has not taken over) within
// `upgradeTimeout`, is stopped (SIGTERM, SIGKILL after the shutdown
// timeout) and we carry on as before: nothing of ours changes before 4.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const inherited = require('./inherited');
const registry = require('./registry');
const { ACTS, readLines, write } = require('./upgrade-channel');
const { shutdown } = require('./shutdown');
const { DEFAULTS } = require('./options');
const { exitAfterOutput } = require('./exit');

// The directory the primary started in, as the shell named it: a deploy
// may have moved a `current` symlink since, which the new primary must
// follow. process.cwd() has the symlink resolved; $PWD, when it is the same
// directory, has not (what Gunicorn does too).
const START_CWD = startDirectory();
// Node resolves the script's path against the resolved directory; inside
// it, the new primary gets it relative to START_CWD again.
const SCRIPT = process.argv[1] && path.isAbsolute(process.argv[1]) &&
  !path.relative(process.cwd(), process.argv[1]).startsWith('..')
  ? path.relative(process.cwd(), process.argv[1]) : process.argv[1];

function startDirectory() {
  const physical = process.cwd();
  const pwd = process.env.PWD;
  if (!pwd || !path.isAbsolute(pwd) || pwd === physical) return physical;
  try {
    const a = fs.statSync(pwd);
    const b = fs.statSync(physical);
    return a.dev === b.dev && a.ino === b.ino ? pwd : physical;
  } catch {
    return physical;
  }
}
// The new primary's fd for the channel; the sockets follow it.
const CHANNEL_FD = 3;

function upgradeError(code, message, report) {
  const err = new Error(message);
  err.code = code;
  if (report) err.report = report;
  return err;
}

/**
 * Start an upgrade, or join the one running. Resolves to the report
 * ({ ok: true, from, to, workers, readyMs, ms }) once the new primary has
 * taken over (our workers then drain, and we exit); rejects with
 * ERR_RUST_CLUSTER_UPGRADE_FAILED (err.report: { ok: false, ..., error })
 * if it did not, and we go on serving. `timeout` (ms) overrides
 * upgradeTimeout for this upgrade.
 */
function upgrade(state, { timeout } = {}) {
  if (state.upgrade) return state.upgrade;
  if (!state.sockets) {
    return Promise.reject(upgradeError('ERR_RUST_CLUSTER_UPGRADE_UNSUPPORTED',
      'upgrading the primary needs the Rust engine (cluster.engine is \'node\' here): ' +
      'it cannot hand node:cluster\'s own listening sockets to a new primary'));
  }
  if (state.takeover && !state.takeover.done) {
    return Promise.reject(upgradeError('ERR_RUST_CLUSTER_UPGRADE_RUNNING',
      'this primary is itself still taking over from the previous one'));
  }
  const run = state.serial(() => start(state, timeout));
  state.upgrade = run;
  // A failed upgrade leaves the way free for the next; a finished one
  // stays: we are on our way out.
  run.catch(() => { state.upgrade = null; });
  return run;
}

function start(state, timeout = state.config.upgradeTimeout ?? DEFAULTS.upgradeTimeout) {
  if (state.shuttingDown) {
    return Promise.reject(upgradeError('ERR_RUST_CLUSTER_SHUTTING_DOWN', 'the cluster is shutting down'));
  }
  const started = Date.now();
  const sockets = state.sockets.inheritable();
  const stats = state.statsServer && state.statsServer._handle;
  if (stats) sockets.push({ fd: stats.fd, kind: 'stats', key: 'stats' });
  const env = {
    ...process.env,
    [inherited.ENV]: inherited.encode({
      from: process.pid,
      channel: CHANNEL_FD,
      workers: registry.activeWorkers().length,
      sockets: sockets.map((s, i) => ({ ...s, fd: CHANNEL_FD + 1 + i })),
    }),
  };

  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(process.execPath, [...process.execArgv, ...(SCRIPT ? [SCRIPT] : []), ...process.argv.slice(2)], {
        cwd: START_CWD,
        env,
        stdio: ['inherit', 'inherit', 'inherit', 'pipe', ...sockets.map((s) => s.fd)],
      });
    } catch (err) {
      reject(upgradeError('ERR_RUST_CLUSTER_UPGRADE_FAILED', `cannot start a new primary: ${err.message}`,
        { ok: false, from: process.pid, to: null, error: err.message, ms: Date.now() - started }));
      return;
    }
    const channel = child.stdio[CHANNEL_FD];
    let phase = 'starting';
    let workers = [];
    let readyMs = null;
    const timer = setTimeout(() => fail(`did not ${phase === 'starting' ? 'become ready' : 'take over'} ` +
      `within ${timeout} ms`), timeout);

    function settle() {
      clearTimeout(timer);
      state.cluster.removeListener('shutdown', onShutdown);
    }

    function fail(why) {
      if (phase === 'done' || phase === 'failed') return;
      phase = 'failed';
      settle();
      stop(state, child, channel);
      const error = `the new primary (pid ${child.pid ?? 'none'}) ${why}; this primary (pid ${process.pid}) goes on serving`;
      const report = { ok: false, from: process.pid, to: child.pid ?? null, error, ms: Date.now() - started };
      state.cluster.emit('upgrade', report);
      reject(upgradeError('ERR_RUST_CLUSTER_UPGRADE_FAILED', error, report));
    }

    function onShutdown(info) {
      if (info.reason !== 'upgrade') fail('was stopped: a shutdown began');
    }
    state.cluster.on('shutdown', onShutdown);

    child.once('error', (err) => fail(`could not be started: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited (${signal || `code ${code}`}) before it ` +
      `${phase === 'starting' ? 'was ready' : 'took over'}`));
    channel.on('error', () => {});
    readLines(channel, (message) => {
      if (message.act === ACTS.ready && phase === 'starting') {
        phase = 'committing';
        readyMs = Date.now() - started;
        workers = Array.isArray(message.workers) ? message.workers : [];
        write(channel, { act: ACTS.commit });
      } else if (message.act === ACTS.took && phase === 'committing') {
        phase = 'done';
        settle();
        const report = { ok: true, from: process.pid, to: child.pid, workers, readyMs, ms: Date.now() - started };
        handOver(state, child, channel, report);
        resolve(report);
      }
    });
  });
}

/** Stop a new primary that failed: SIGTERM, then SIGKILL. */
function stop(state, child, channel) {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
    channel.destroy();
    return;
  }
  const shutdownMs = state.config.shutdown ? state.config.shutdown.timeout : DEFAULTS.shutdown.timeout;
  const killer = setTimeout(() => child.kill('SIGKILL'), shutdownMs + 2000);
  // Our end stays open until it is gone: it takes a closed channel for
  // our death, and would take over.
  child.once('exit', () => {
    clearTimeout(killer);
    channel.destroy();
  });
  child.kill('SIGTERM');
}

/** Step 4: the new primary has taken over. */
function handOver(state, child, channel, report) {
  state.sockets.handOver();
  state.closeStatsServer();
  // The new primary's socket has our name now (control.js leaves it).
  state.closeControl();
  state.notify.mainPid(child.pid);
  state.notify.stop();
  write(channel, { act: ACTS.handed });
  // Nothing of the new primary keeps us alive; our end of the channel
  // stays open until we exit, which is how it learns that we are gone.
  child.unref();
  channel.unref();
  state.cluster.emit('upgrade', report);
  // After the answer to whoever asked (a control socket client) is out.
  setImmediate(() => {
    const timeout = state.config.drainTimeout ?? DEFAULTS.drainTimeout;
    shutdown(state, { timeout, reason: 'upgrade' }).then(exitAfterOutput);
  });
}

module.exports = { upgrade };
