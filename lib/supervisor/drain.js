'use strict';
// Taking one worker out of service gently. The worker's agent (if it has
// one, see lib/agent/drain.js) is told first, so that responses it sends from
// now on carry `Connection: close` and idle keep-alive connections are closed;
// then the worker is disconnected as node:cluster does it (the primary stops
// handing it connections, the worker closes its servers, and exits once its
// last connection ends). A worker still running after `timeout` ms is killed.
const registry = require('./registry');

const { agent: AGENT } = require('../contract.json');
// After SIGTERM, how long a worker gets before SIGKILL.
const KILL_GRACE_MS = 1000;

/** Send an internal message to a worker's agent; errors are ignored. */
function tell(worker, message) {
  if (!worker.process.connected) return false;
  try {
    worker.process.send({ cmd: AGENT.cmd, ...message }, () => {});
    return true;
  } catch {
    return false;
  }
}

/**
 * Drain `worker` and resolve once it has exited: with 'exited' if it left on
 * its own, 'killed' if the timeout ran out first.
 */
function drain(worker, timeout, reason) {
  const m = registry.get(worker);
  if (m && !m.retiring) m.retiring = reason || 'drain';
  // From now on stats() says 'draining' (not while a replacement starts).
  if (m) m.draining = true;
  return new Promise((resolve) => {
    if (worker.isDead()) return resolve('exited');
    let outcome = 'exited';
    let graceTimer = null;
    const timer = setTimeout(() => {
      outcome = 'killed';
      worker.process.kill('SIGTERM');
      graceTimer = setTimeout(() => worker.process.kill('SIGKILL'), KILL_GRACE_MS);
    }, timeout);
    worker.process.once('exit', () => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      resolve(outcome);
    });
    tell(worker, { act: AGENT.drain, timeout });
    if (worker.isConnected()) worker.disconnect();
    else worker.exitedAfterDisconnect = true;
  });
}

module.exports = { drain, tell };
