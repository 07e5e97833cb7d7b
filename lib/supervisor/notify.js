'use strict';
// systemd's notify protocol (sd_notify(3)), spoken when the primary runs
// with NOTIFY_SOCKET set (a Type=notify service): READY=1 once the first
// workers serve, RELOADING=1 ... READY=1 around a reload, STOPPING=1 at
// shutdown, STATUS= lines, and WATCHDOG=1 every WATCHDOG_USEC / 2 from the
// event loop, so a primary whose loop is stuck stops feeding the watchdog.
//
// The messages are Unix datagrams, which Node cannot send; the native addon
// sends them (notifyDatagram). Where it does not load (the portable engine
// off Linux, where there is no systemd) a warning says why the service
// manager hears nothing.
const health = require('./health');

function loadSender() {
  try {
    return require('../binding').notifyDatagram;
  } catch (err) {
    process.emitWarning(`NOTIFY_SOCKET is set, but rust-cluster's native addon, which sends its ` +
      `datagrams, cannot be loaded (${err.message.split('\n')[0]}): systemd will not hear from this primary`,
    { code: 'RUST_CLUSTER_NOTIFY_UNAVAILABLE' });
    return null;
  }
}

function monotonicUsec() {
  return process.hrtime.bigint() / 1000n;
}

function createNotify(state) {
  let target = null;
  let notifyDatagram = null;
  let readySent = false;
  let watchdog = null;

  // A new primary of an upgrade is silent until systemd knows it as the
  // main process (takeover.js).
  const held = () => state.takeover !== null && !state.takeover.main;

  function send(fields) {
    if (target === null || held()) return;
    const text = `${Object.entries(fields).map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`).join('\n')}\n`;
    // Best effort, as sd_notify: a service manager that went away or is
    // not reading hears nothing more.
    notifyDatagram(target, Buffer.from(text));
  }

  function status() {
    return `${health.servingWorkers(state).length} workers serving`;
  }

  /**
   * Send READY=1 the first time the first workers all serve (a new
   * primary of an upgrade: once it is the main process, takeover.js).
   */
  function check() {
    if (readySent || target === null || state.shuttingDown || held()) return;
    if (health.servingWorkers(state).length === 0 || health.startingWorkers(state).length > 0) return;
    readySent = true;
    send({ READY: 1, MAINPID: process.pid, STATUS: status() });
  }

  function deferredCheck() {
    process.nextTick(check);
  }

  return {
    /** Start speaking if NOTIFY_SOCKET is set (and `enabled`). */
    start(enabled) {
      this.stop();
      const socketPath = process.env.NOTIFY_SOCKET;
      if (!enabled || !socketPath) return;
      notifyDatagram = notifyDatagram || loadSender();
      if (notifyDatagram === null) return;
      // '@' is the abstract namespace.
      target = socketPath;
      const usec = Number(process.env.WATCHDOG_USEC);
      const pid = process.env.WATCHDOG_PID;
      if (Number.isInteger(usec) && usec > 0 && (!pid || Number(pid) === process.pid)) {
        watchdog = setInterval(() => send({ WATCHDOG: 1 }), Math.max(1, Math.floor(usec / 2000)));
        watchdog.unref();
        send({ WATCHDOG: 1 });
      }
      // Worker events that may complete the start: one more serves, or one
      // still starting died. Deferred a tick, after the supervisor's own
      // listeners have seen the event.
      state.cluster.on('listening', deferredCheck);
      state.cluster.on('exit', deferredCheck);
      check();
    },
    stop() {
      if (watchdog) clearInterval(watchdog);
      watchdog = null;
      target = null;
      state.cluster.removeListener('listening', deferredCheck);
      state.cluster.removeListener('exit', deferredCheck);
    },
    check,
    reloading() {
      if (readySent) send({ RELOADING: 1, MONOTONIC_USEC: monotonicUsec(), STATUS: 'reloading' });
    },
    reloaded(report) {
      if (!readySent) return check();
      return send({ READY: 1, STATUS: `${status()}; last reload: ${report.replaced} replaced, ${report.failed} failed` });
    },
    stopping() {
      // The watchdog goes on: the loop still runs while workers drain.
      send({ STOPPING: 1, STATUS: 'shutting down' });
    },
    /** An upgrade's new primary is the main process now: READY=1, and feed the watchdog at once. */
    resume() {
      if (watchdog) send({ WATCHDOG: 1 });
      check();
    },
    /** An upgrade's new primary took over: it is the service's main process now. */
    mainPid(pid) {
      send({ MAINPID: pid, STATUS: `upgraded: the new primary is pid ${pid}` });
    },
  };
}

module.exports = { createNotify };
