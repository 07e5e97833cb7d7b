'use strict';
// Starting a worker in another one's place: fork it with the same env, wait
// until it serves (listens on as many servers as the old one did, or is
// online if the old one never listened; with `readySignal`, until it sends
// 'ready'), then drain the old one. A replacement that exits before it is
// ready is forked again, up to `retries` times.
const registry = require('./registry');
const { drain } = require('./drain');

function replacementFailed(message, exited) {
  const err = new Error(message);
  err.code = 'ERR_RUST_CLUSTER_REPLACEMENT_FAILED';
  // Whether the replacement died (worth another try), as opposed to not
  // coming up in time.
  err.exited = exited;
  return err;
}

/** Fork a worker that takes over from `old` (same env and place, restarts + 1). */
function forkLike(cluster, old) {
  const m = old ? registry.get(old) : null;
  const fresh = cluster.fork(m ? m.env : undefined);
  if (m) {
    const fm = registry.get(fresh);
    fm.restarts = m.restarts + 1;
    fm.slot = m.slot;
  }
  return fresh;
}

/**
 * Resolve once `worker` has emitted `listening` `count` times (or 'online'
 * when count is 0; or, with `readySignal`, once it has sent 'ready'); reject
 * if it exits first or `timeout` ms pass.
 */
function whenReady(worker, count, timeout, readySignal = false) {
  return new Promise((resolve, reject) => {
    const m = registry.get(worker);
    let event;
    let check;
    if (readySignal) {
      event = 'message';
      check = (message) => {
        if (message === 'ready') m.ready = true;
        if (m.ready) done(null);
      };
    } else {
      event = count > 0 ? 'listening' : 'online';
      check = () => {
        if (count > 0 ? m.listening >= count : worker.state !== 'none') done(null);
      };
    }
    const onExit = (code, signal) => done(replacementFailed(
      `worker ${worker.id} exited (${signal || code}) before it was ready`, true));
    const timer = setTimeout(() => done(replacementFailed(
      `worker ${worker.id} was not ready within ${timeout} ms`, false)), timeout);
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
 * Replace `old`: fork, wait until ready (forking again, up to `retries`
 * times, a replacement that exits first), drain `old`. Resolves to
 * { fresh, attempts } once `old` has exited; rejects (err.attempts set) if
 * no replacement became ready, leaving `old` in service.
 */
async function replace(cluster, old, reason, config, { retries = 0, stopped = () => false } = {}) {
  const m = registry.get(old);
  // From now on an exit of `old` is not a crash to respawn: this is its
  // replacement.
  m.retiring = reason;
  let attempts = 0;
  let fresh;
  for (;;) {
    attempts++;
    fresh = forkLike(cluster, old);
    const fm = registry.get(fresh);
    fm.pending = true;
    try {
      await whenReady(fresh, m.listening, config.listenTimeout, config.readySignal);
      break;
    } catch (err) {
      fm.retiring = 'failed';
      if (!fresh.isDead()) fresh.process.kill('SIGKILL');
      if (err.exited && attempts <= retries && !stopped()) continue;
      if (!old.isDead()) m.retiring = null;
      err.attempts = attempts;
      throw err;
    } finally {
      fm.pending = false;
    }
  }
  if (!old.isDead()) await drain(old, config.drainTimeout, reason);
  cluster.emit('replace', fresh, old, reason);
  return { fresh, attempts };
}

module.exports = { replace, forkLike, whenReady };
