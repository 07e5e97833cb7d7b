'use strict';
// The new primary's side of an upgrade (upgrade.js has the old one's): a
// primary started with RUST_CLUSTER_UPGRADE set runs as usual, its servers
// adopting the sockets it inherited (lib/primary.js), but holds back what
// the old primary still has: the control socket's name and the metrics
// server (supervise() starts them here at the takeover), and systemd (which
// hears from us once the old primary has told it our pid: `handed`). Once
// the workers it started all serve, it tells the old primary `ready`; on
// `commit` it takes those over and says `took`. When the old primary's end
// of the channel closes (it has drained and exited), the inherited sockets
// no server took are closed.
//
// If the old primary dies before committing, this one takes over on its own.
const net = require('node:net');
const inherited = require('./inherited');
const health = require('./health');
const { ACTS, readLines, write } = require('./upgrade-channel');

function createTakeover(state) {
  const info = inherited.upgrade();
  if (info === null) return null;
  const started = Date.now();
  const cluster = state.cluster;
  // systemd's watchdog is the old primary's until it hands over; ours after.
  if (process.env.WATCHDOG_PID === String(info.from)) process.env.WATCHDOG_PID = String(process.pid);

  let channel;
  try {
    channel = new net.Socket({ fd: info.channel, readable: true, writable: true });
  } catch (err) {
    process.emitWarning(`cannot open the channel to the old primary (fd ${info.channel}): ${err.message}`,
      { code: 'RUST_CLUSTER_UPGRADE_ENV' });
    channel = null;
  }

  const takeover = {
    from: info.from,
    /** How many workers the old primary had in service. */
    workers: info.workers,
    /** True once we have taken over (or there was nothing to take). */
    done: false,
    /** True once systemd knows us as the main process (notify.js speaks from then on). */
    main: false,
    servers: null,
    /** True while the deferred servers start (the control socket replaces the old primary's). */
    taking: false,
    /** supervise(): start the control socket and metrics server at the takeover. */
    deferServers(fn) {
      this.servers = fn;
    },
  };

  let ready = false;
  let readyMs = null;
  let oldGone = false;
  // Ready: the workers we started all serve (on the inherited sockets).
  function check() {
    if (ready) return;
    const serving = health.servingWorkers(state);
    if (serving.length === 0 || health.startingWorkers(state).length > 0) return;
    ready = true;
    readyMs = Date.now() - started;
    cluster.removeListener('listening', deferredCheck);
    cluster.removeListener('message', deferredCheck);
    cluster.removeListener('exit', deferredCheck);
    if (oldGone) inherited.oldPrimaryGone();
    else if (!takeover.done) {
      write(channel, {
        act: ACTS.ready,
        pid: process.pid,
        workers: serving.map((w) => ({ id: w.id, pid: w.process.pid })),
      });
    }
  }
  // After the supervisor's own listeners have seen the event.
  const deferredCheck = () => process.nextTick(check);

  async function takeOver(answer) {
    if (takeover.done) return;
    takeover.done = true;
    if (takeover.servers) {
      takeover.taking = true;
      try {
        await takeover.servers();
      } catch (err) {
        process.emitWarning(`taking over from the old primary: ${err.message}`, { code: 'RUST_CLUSTER_UPGRADE_TAKEOVER' });
      } finally {
        takeover.taking = false;
      }
    }
    if (answer) write(channel, { act: ACTS.took, control: state.control ? state.control.path : null });
    else becomeMain();
    cluster.emit('upgrade', {
      ok: true,
      from: info.from,
      to: process.pid,
      workers: health.servingWorkers(state).map((w) => ({ id: w.id, pid: w.process.pid })),
      readyMs,
      ms: Date.now() - started,
    });
  }

  function becomeMain() {
    if (takeover.main) return;
    takeover.main = true;
    state.notify.resume();
  }

  if (channel === null) {
    oldGone = true;
    process.nextTick(takeOver, false);
  } else {
    channel.unref();
    channel.on('error', () => {});
    readLines(channel, (message) => {
      if (message.act === ACTS.commit) takeOver(true);
      else if (message.act === ACTS.handed && takeover.done) becomeMain();
    });
    channel.on('close', () => {
      // Before `commit`: the old primary died (it keeps its end open while
      // it stops us). After: it has drained its workers and exited. Either
      // way what we did not adopt goes, once our workers had their chance.
      oldGone = true;
      if (!takeover.done) takeOver(false);
      else becomeMain();
      if (ready) inherited.oldPrimaryGone();
    });
  }
  cluster.on('listening', deferredCheck);
  cluster.on('message', deferredCheck);
  cluster.on('exit', deferredCheck);
  // Stopped before taking over (the old primary gave up on us): the
  // sockets stay the old primary's. Close our copies without taking what
  // waits on them (an old worker's SO_REUSEPORT queue) or removing a Unix
  // socket's path.
  cluster.once('shutdown', () => {
    if (!takeover.done && state.sockets) state.sockets.handOver();
  });
  return takeover;
}

module.exports = { createTakeover };
