'use strict';
// maxRequests (+ maxRequestsJitter), as Gunicorn's max_requests: a worker
// that has served that many connections is replaced like in a reload. Each
// worker's limit is maxRequests plus a random 0..jitter, so that workers
// started together do not all leave together. Workers with the agent count
// for themselves (lib/agent/requests.js) and say when they reach it; for the
// others the primary reads how many connections it handed them, once a
// second.
const registry = require('./registry');
const { agent: AGENT } = require('../contract.json');
const { tell } = require('./drain');
const { replace } = require('./replace');

const POLL_MS = 1000;

function createMaxRequests(state) {
  let timer = null;

  function assign(worker) {
    const cfg = state.config;
    const m = registry.get(worker);
    if (!m || cfg.maxRequests === null || worker.isDead()) return;
    if (m.maxRequests === undefined) {
      m.maxRequests = cfg.maxRequests + Math.floor(Math.random() * (cfg.maxRequestsJitter + 1));
    }
    tell(worker, { act: AGENT.maxRequests, limit: m.maxRequests });
  }

  function onServed(worker, message, m) {
    if (typeof message.served === 'number' && m.maxRequests !== undefined && message.served >= m.maxRequests) {
      recycle(worker, m, message.served);
    }
  }

  // Workers without the agent: connections handed by the primary.
  function poll() {
    let counts;
    try {
      counts = new Map(state.connections().connectionStats().map((c) => [c.id, c.handed]));
    } catch {
      return;
    }
    for (const worker of registry.liveWorkers()) {
      const m = registry.get(worker);
      const handed = counts.get(worker.id);
      if (!m.agent && m.maxRequests !== undefined && typeof handed === 'number' && handed >= m.maxRequests) {
        recycle(worker, m, handed);
      }
    }
  }

  function recycle(worker, m, served) {
    if (m.retiring || m.pending || m.recycling || state.shuttingDown || worker.isDead()) return;
    m.recycling = true;
    state.counters.maxRequests++;
    state.cluster.emit('maxRequests', worker, served);
    state.serial(() => {
      if (worker.isDead() || m.retiring || state.shuttingDown) return null;
      return replace(state.cluster, worker, 'maxRequests', state.config,
        { retries: state.config.reloadRetries, stopped: () => state.shuttingDown });
    }).catch((err) => {
      m.recycling = false;
      process.emitWarning(`worker ${worker.id}: replacing it after ${served} connections failed: ${err.message}`,
        { code: 'RUST_CLUSTER_RECYCLE_FAILED' });
    });
  }

  registry.agentEvents.on(AGENT.served, onServed);

  return {
    start() {
      this.stop();
      if (state.config.maxRequests === null) return;
      state.cluster.on('online', assign);
      for (const worker of registry.liveWorkers()) if (worker.state !== 'none') assign(worker);
      timer = setInterval(poll, POLL_MS);
      timer.unref();
    },
    stop() {
      state.cluster.removeListener('online', assign);
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

module.exports = { createMaxRequests };
