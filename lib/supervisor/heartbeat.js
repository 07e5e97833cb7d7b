'use strict';
// Heartbeat: every `interval` ms each worker is pinged; the agent in the
// worker (lib/agent/heartbeat.js) answers with its memory and CPU use. A
// worker that has answered before and then stays silent for `timeout` ms has
// a blocked event loop: it is killed (SIGKILL) and a new one forked in its
// place. A worker whose RSS is above `maxRss` is replaced like in a reload.
// Workers without the agent never answer and are left alone.
const registry = require('./registry');
const { agent: AGENT } = require('../contract.json');
const { tell } = require('./drain');
const { forkLike, replace } = require('./replace');

function createHeartbeat(state) {
  let timer = null;
  let seq = 0;

  function tick() {
    const cfg = state.config.heartbeat;
    if (!cfg || state.shuttingDown) return;
    const now = Date.now();
    for (const worker of registry.liveWorkers()) {
      const m = registry.get(worker);
      if (worker.isDead() || m.retiring) continue;
      if (m.agent && now - m.lastSeen > cfg.timeout) {
        hung(worker, m, now - m.lastSeen);
        continue;
      }
      tell(worker, { act: AGENT.ping, seq: ++seq });
    }
  }

  function hung(worker, m, silentFor) {
    m.retiring = 'hang';
    state.counters.hangs++;
    state.cluster.emit('hang', worker, silentFor);
    worker.process.kill('SIGKILL');
    const fresh = forkLike(state.cluster, worker);
    state.cluster.emit('replace', fresh, worker, 'hang');
  }

  function onPong(worker, message, m) {
    const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const cpu = message.cpu !== null && typeof message.cpu === 'object' ? message.cpu : {};
    m.heartbeat = {
      at: Date.now(),
      rss: num(message.rss),
      heapUsed: num(message.heapUsed),
      cpu: { user: num(cpu.user), system: num(cpu.system) },
    };
    const maxRss = state.config.maxRss;
    if (maxRss === null || m.heartbeat.rss === null || m.heartbeat.rss <= maxRss) return;
    if (m.retiring || m.pending || m.recycling || state.shuttingDown) return;
    m.recycling = true;
    state.counters.recycles++;
    state.cluster.emit('memory', worker, m.heartbeat.rss);
    state.serial(() => {
      if (worker.isDead() || m.retiring || state.shuttingDown) return null;
      return replace(state.cluster, worker, 'memory', state.config,
        { retries: state.config.reloadRetries, stopped: () => state.shuttingDown });
    }).catch((err) => {
      m.recycling = false;
      process.emitWarning(`worker ${worker.id}: memory recycle failed: ${err.message}`,
        { code: 'RUST_CLUSTER_RECYCLE_FAILED' });
    });
  }

  registry.agentEvents.on(AGENT.pong, onPong);

  return {
    start() {
      this.stop();
      const cfg = state.config.heartbeat;
      if (!cfg) return;
      timer = setInterval(tick, cfg.interval);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

module.exports = { createHeartbeat };
