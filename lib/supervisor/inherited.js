'use strict';
// The sockets a new primary inherits from the one it replaces (`rust-cluster
// upgrade`, upgrade.js): descriptors the old primary put in the new one's
// stdio, named by one environment variable,
//
//   RUST_CLUSTER_UPGRADE={"from":4410,"channel":3,"workers":2,"sockets":[
//     {"fd":4,"kind":"rr","key":"127.0.0.1:8080:4:-1:0"},
//     {"fd":5,"kind":"stats","key":"stats"}]}
//
// `from`: the old primary's pid. `channel`: a socket to it (takeover.js).
// `workers`: how many workers it had in service. `sockets`: `key` is the
// cluster's key of a server (`address:port:addressType:fd:index`, from the
// worker's listen(), lib/primary.js); `kind` is 'rr' (the primary accepts:
// round robin, leastconn, sticky), 'shared' (SCHED_NONE and UDP: the workers
// accept), 'reuseport' (one old worker's SO_REUSEPORT socket; several per
// key) or 'stats' (the metrics server).
//
// Read once, when rust-cluster loads, and removed from process.env, so that
// workers (and a later upgrade) do not see it. Node marks every descriptor
// it inherits close-on-exec at start-up, so workers do not inherit these.
const EventEmitter = require('node:events');
const fs = require('node:fs');

const ENV = 'RUST_CLUSTER_UPGRADE';
const KINDS = new Set(['rr', 'shared', 'reuseport', 'stats']);

const events = new EventEmitter();

function parse(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const fd = (n) => Number.isInteger(n) && n > 2;
  if (v === null || typeof v !== 'object' || !Number.isInteger(v.from) || !fd(v.channel) ||
      !Array.isArray(v.sockets)) return null;
  const sockets = v.sockets.filter((s) => s !== null && typeof s === 'object' && fd(s.fd) &&
    KINDS.has(s.kind) && typeof s.key === 'string');
  const workers = Number.isInteger(v.workers) && v.workers > 0 ? v.workers : null;
  return { from: v.from, channel: v.channel, workers, sockets: sockets.map((s) => ({ ...s, taken: false })) };
}

let current = null;
if (process.env[ENV] !== undefined) {
  current = parse(process.env[ENV]);
  if (current === null) {
    process.emitWarning(`${ENV} is not what an upgrading rust-cluster primary sets: ignored`,
      { code: 'RUST_CLUSTER_UPGRADE_ENV' });
  }
  delete process.env[ENV];
}

/** What this primary inherited ({ from, channel, workers, sockets }), or null. */
function upgrade() {
  return current;
}

/**
 * The first inherited socket of `key` of one of `kinds` not taken yet
 * ({ fd, kind }), now taken; or null.
 */
function take(key, kinds) {
  if (current === null) return null;
  const s = current.sockets.find((x) => !x.taken && x.key === key && kinds.includes(x.kind));
  if (!s) return null;
  s.taken = true;
  return s;
}

/** Every inherited socket of `key` and `kind` not taken yet, now taken. */
function takeAll(key, kind) {
  const out = [];
  for (let s; (s = take(key, [kind])) !== null;) out.push(s);
  return out;
}

/**
 * The old primary has exited: close what no server of ours took (a port
 * the new code does not listen on any more), and tell those that accept on
 * inherited sockets beside their own (reuseport) to stop.
 */
function oldPrimaryGone() {
  if (current === null) return;
  for (const s of current.sockets) {
    if (s.taken) continue;
    s.taken = true;
    try {
      fs.closeSync(s.fd);
    } catch {
      // Not open (any more).
    }
  }
  events.emit('gone');
}

/** Run `fn` once the old primary has exited (see oldPrimaryGone()). */
function onOldPrimaryGone(fn) {
  events.once('gone', fn);
  return () => events.removeListener('gone', fn);
}

/** The variable's value for a new primary. */
function encode({ from, channel, workers, sockets }) {
  return JSON.stringify({ from, channel, workers, sockets: sockets.map(({ fd, kind, key }) => ({ fd, kind, key })) });
}

module.exports = { ENV, upgrade, take, takeAll, oldPrimaryGone, onOldPrimaryGone, encode };
