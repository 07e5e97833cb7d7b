'use strict';
// Starting a worker in another one's place: fork it with the same env, wait
// until it serves (listens on as many servers as the old one did, or is
// online if the old one never listened), then drain the old one.
const registry = require('./registry');
const { drain } = require('./drain');

function replacementFailed(message) {
  const err = new Error(message);
  err.code = 'ERR_RUST_CLUSTER_REPLACEMENT_FAILED';
  return err;
}

/** Fork a worker that takes over from `old` (same env, restarts + 1). */
function forkLike(cluster, old) {
  const m = old ? registry.get(old) : null;
  const fresh = cluster.fork(m ? m.env : undefined);
  if (m) registry.get(fresh).restarts = m.restarts + 1;
  return fresh;
}

/**
 * Resolve once `worker` has emitted `listening` `count` times (or 'online'
 * when count is 0); reject if it exits first or `timeout` ms pass.
 */
function whenReady(worker, count, timeout) {
  return new Promise((resolve, reject) => {
    const m = registry.get(worker);
    const event = count > 0 ? 'listening' : 'online';
    const check = () => {
      if (count > 0 ? m.listening >= count : worker.state !== 'none') done(null);
    };
    const onExit = (code, signal) => done(replacementFailed(
      `worker ${worker.id} exited (${signal || code}) before it was ready`));
    const timer = setTimeout(() => done(replacementFailed(
      `worker ${worker.id} was not ready within ${timeout} ms`)), timeout);
    function done(err) {
      clearTimeout(timer);
      worker.removeListener(event, check);
      worker.removeListener('exit', onExit);
      if (err) reject(err);
      else resolve(worker);
    }
    worker.on(event, check);
    worker.once('exit', onExit);
    check();
  });
}

/**
 * Replace `old`: fork, wait until ready, drain `old`. Resolves to the new
 * worker once `old` has exited; rejects (and kills the new worker) if it is
 * not ready in time, leaving `old` in service.
 */
async function replace(cluster, old, reason, { listenTimeout, drainTimeout }) {
  const m = registry.get(old);
  // From now on an exit of `old` is not a crash to respawn: this is its
  // replacement.
  m.retiring = reason;
  const fresh = forkLike(cluster, old);
  const fm = registry.get(fresh);
  fm.pending = true;
  try {
    await whenReady(fresh, m.listening, listenTimeout);
  } catch (err) {
    if (!old.isDead()) m.retiring = null;
    fm.retiring = 'failed';
    if (!fresh.isDead()) fresh.process.kill('SIGKILL');
    throw err;
  } finally {
    fm.pending = false;
  }
  if (!old.isDead()) await drain(old, drainTimeout, reason);
  cluster.emit('replace', fresh, old, reason);
  return fresh;
}

module.exports = { replace, forkLike, whenReady };
