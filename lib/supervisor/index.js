'use strict';
// Supervision for the primary: cluster.supervise(options) turns on respawn,
// graceful shutdown, heartbeat, memory and request-count recycling, reload,
// scale and upgrade signals, the Prometheus and health endpoints, the
// control socket and systemd notification; cluster.reload(), scale(n),
// stats(), shutdown() and upgrade() work with or without it. Nothing here
// runs, listens or handles a signal until one of these is called (or the
// primary was started by an upgrade: takeover.js).
const os = require('node:os');
const options = require('./options');
const registry = require('./registry');
const { createRespawn } = require('./respawn');
const { createHeartbeat } = require('./heartbeat');
const { createMaxRequests } = require('./max-requests');
const { createNotify } = require('./notify');
const { createCommands, shuttingDownError } = require('./commands');
const { startControl } = require('./control');
const { reload } = require('./reload');
const { scale } = require('./scale');
const { shutdown } = require('./shutdown');
const { stats } = require('./stats');
const { upgrade } = require('./upgrade');
const { createTakeover } = require('./takeover');
const inherited = require('./inherited');
const health = require('./health');
const prometheus = require('./prometheus');
const { exitAfterOutput } = require('./exit');

function createState(cluster, connections, sockets) {
  const state = {
    cluster,
    /**
     * The engine's per-worker connection counters,
     * `{ connectionStats(), trackConnections() }` (see attach()).
     */
    connections() {
      return connections;
    },
    /** The engine's listening sockets, `{ inheritable(), handOver() }`, for upgrade.js; or null. */
    sockets,
    /** The upgrade under way (a Promise), upgrade.js. */
    upgrade: null,
    /** A primary started by an upgrade: its takeover (takeover.js), else null. */
    takeover: null,
    config: options.defaults(),
    shuttingDown: false,
    shutdownPromise: null,
    counters: { crashes: 0, respawns: 0, reloads: 0, hangs: 0, recycles: 0, maxRequests: 0 },
    queue: Promise.resolve(),
    statsServer: null,
    control: null,
    signalHandlers: [],
    /** Run `fn` after the reloads, scalings and recycles queued before it. */
    serial(fn) {
      const run = state.queue.then(fn);
      state.queue = run.catch(() => {});
      return run;
    },
    statsAddress() {
      const a = state.statsServer && state.statsServer.address();
      return a ? { address: a.address, port: a.port } : null;
    },
    closeStatsServer() {
      if (state.statsServer) state.statsServer.close();
      state.statsServer = null;
    },
    closeControl() {
      if (state.control) state.control.close();
      state.control = null;
    },
  };
  state.respawn = createRespawn(state);
  state.heartbeat = createHeartbeat(state);
  state.maxRequests = createMaxRequests(state);
  state.notify = createNotify(state);
  return state;
}

/**
 * Add the supervision API to `cluster`. `engine.connections` is where stats()
 * and maxRequests read per-worker connection counters,
 * `{ connectionStats(), trackConnections() }`: lib/portable/connections.js on
 * the portable engine; by default the Rust engine's, lib/process.js.
 * `engine.sockets` ({ inheritable(), handOver() }, lib/primary.js) lets the
 * primary upgrade itself; the portable engine has none.
 */
function attach(cluster, engine = {}) {
  let state = null;
  const getState = () => (state ||= createState(cluster, engine.connections || null, engine.sockets || null));

  function onSignal(signal, handler) {
    process.on(signal, handler);
    getState().signalHandlers.push([signal, handler]);
  }

  function onShutdownSignal(signal) {
    const st = getState();
    if (st.shutdownPromise) {
      // A second signal: stop waiting.
      for (const w of registry.liveWorkers()) w.process.kill('SIGKILL');
      exitAfterOutput(128 + os.constants.signals[signal]);
    }
    shutdown(st, { signal }).then((code) => {
      if (st.config.shutdown && st.config.shutdown.exit) exitAfterOutput(code);
    });
  }

  function onExit(worker, code, signal) {
    getState().respawn.onExit(worker, code, signal);
  }

  // readySignal: a worker that sends 'ready' serves from then on.
  function onMessage(worker, message) {
    if (message !== 'ready') return;
    const m = registry.get(worker);
    if (!m || m.ready) return;
    m.ready = true;
    getState().notify.check();
  }

  async function startControlSocket(st, config) {
    if (st.control && config && st.control.name === config.name &&
        (config.path === null || st.control.path === config.path)) return;
    st.closeControl();
    if (!config) return;
    // Taking over from an upgrade's old primary: its live socket's name
    // becomes ours (replaced in one step). Any other time a live socket of
    // the name is an error, as for any primary.
    const replace = st.takeover !== null && st.takeover.taking;
    st.control = await startControl(config, createCommands(st, api), { replace });
  }

  // The metrics server, on the socket an upgrade's old primary had, if any.
  function startStatsServer(st, config) {
    if (config.statsPort === null) return null;
    const old = inherited.take('stats', ['stats']);
    return prometheus.listen(old ? { fd: old.fd } : { port: config.statsPort, host: config.statsHost },
      () => api.stats(), (path, req, res) => health.answer(st, path, req, res))
      .then((server) => { st.statsServer = server; });
  }

  function onUpgradeSignal() {
    api.upgrade().catch((err) => process.emitWarning(`upgrade failed: ${err.message}`,
      { code: 'RUST_CLUSTER_UPGRADE_FAILED' }));
  }

  const api = {
    supervise(opts) {
      const config = options.normalize(opts);
      const st = getState();
      // Undo a previous supervise().
      for (const [signal, handler] of st.signalHandlers) process.removeListener(signal, handler);
      st.signalHandlers = [];
      cluster.removeListener('exit', onExit);
      cluster.removeListener('message', onMessage);
      st.closeStatsServer();
      st.config = config;

      if (config.respawn) cluster.on('exit', onExit);
      if (config.readySignal) cluster.on('message', onMessage);
      if (config.shutdown) {
        for (const signal of config.shutdown.signals) onSignal(signal, onShutdownSignal);
      }
      if (config.reloadSignal) {
        onSignal(config.reloadSignal, () => {
          api.reload().catch((err) => process.emitWarning(`reload failed: ${err.message}`,
            { code: 'RUST_CLUSTER_RELOAD_FAILED' }));
        });
      }
      if (config.upgradeSignal) onSignal(config.upgradeSignal, onUpgradeSignal);
      if (config.scaleSignals) {
        const by = (delta) => () => {
          const n = Math.max(1, registry.activeWorkers().length + delta);
          api.scale(n).catch((err) => process.emitWarning(`scale failed: ${err.message}`,
            { code: 'RUST_CLUSTER_SCALE_FAILED' }));
        };
        onSignal('SIGTTIN', by(+1));
        onSignal('SIGTTOU', by(-1));
      }
      if (config.heartbeat) st.heartbeat.start();
      else st.heartbeat.stop();
      st.maxRequests.start();
      st.notify.start(config.notify);
      const servers = () => Promise.all([startStatsServer(st, config), startControlSocket(st, config.control)]);
      // Started by an upgrade: the old primary has these until we take over.
      if (st.takeover && !st.takeover.done) {
        st.takeover.deferServers(servers);
        return Promise.resolve(cluster);
      }
      return servers().then(() => cluster);
    },
    reload() {
      const st = getState();
      if (st.shuttingDown) return Promise.reject(shuttingDownError());
      return reload(st);
    },
    scale(n) {
      const st = getState();
      if (st.shuttingDown) return Promise.reject(shuttingDownError());
      return scale(st, n);
    },
    stats() {
      const st = getState();
      return stats(st, st.connections());
    },
    upgrade(opts = {}) {
      if (opts === null || typeof opts !== 'object') {
        return Promise.reject(require('../errors').invalidArgType('options', 'Object', opts));
      }
      let timeout;
      if (opts.timeout !== undefined) {
        try {
          timeout = options.integer(opts.timeout, 'options.timeout', 1);
        } catch (err) {
          return Promise.reject(err);
        }
      }
      return upgrade(getState(), { timeout });
    },
    shutdown(opts = {}) {
      if (opts === null || typeof opts !== 'object') {
        return Promise.reject(require('../errors').invalidArgType('options', 'Object', opts));
      }
      let timeout;
      if (opts.timeout !== undefined) {
        try {
          timeout = options.integer(opts.timeout, 'options.timeout', 0);
        } catch (err) {
          return Promise.reject(err);
        }
      }
      return shutdown(getState(), { timeout });
    },
  };

  for (const [name, fn] of Object.entries(api)) {
    Object.defineProperty(cluster, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }

  // Started by an upgrade: serve on what we inherited, tell the old
  // primary when our workers do.
  if (inherited.upgrade() !== null) {
    const st = getState();
    st.takeover = createTakeover(st);
  }
}

module.exports = { attach };
