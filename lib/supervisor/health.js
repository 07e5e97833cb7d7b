'use strict';
// What the orchestrator probes ask: is the primary alive (/healthz: it
// answers, so its event loop runs), and should it get traffic (/readyz: at
// least one worker serves and no shutdown has begun). A worker serves once
// it listens, or with `readySignal` once it has sent 'ready'.
const registry = require('./registry');

function serves(state, worker) {
  const m = registry.get(worker);
  return state.config.readySignal ? m.ready : m.listening > 0;
}

/** Workers in service that serve. */
function servingWorkers(state) {
  return registry.activeWorkers().filter((w) => serves(state, w));
}

/** Workers forked and not yet serving (nor dead nor taken down). */
function startingWorkers(state) {
  return registry.activeWorkers().filter((w) => !serves(state, w));
}

/** { ready, serving, reason } for /readyz. */
function readiness(state) {
  const serving = servingWorkers(state).length;
  if (state.shuttingDown) return { ready: false, serving, reason: 'shutting down' };
  if (serving === 0) return { ready: false, serving, reason: 'no worker serves' };
  return { ready: true, serving, reason: null };
}

/** Answer /healthz and /readyz; false for other paths. */
function answer(state, path, req, res) {
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : 'ok\n');
    return true;
  }
  if (path === '/readyz') {
    const r = readiness(state);
    const body = r.ready ? `ready: ${r.serving} ${r.serving === 1 ? 'worker serves' : 'workers serve'}\n`
      : `not ready: ${r.reason}\n`;
    res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  return false;
}

module.exports = { serves, servingWorkers, startingWorkers, readiness, answer };
