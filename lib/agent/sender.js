'use strict';
// In a worker that loads rust-cluster: after the first message it sends in
// a tick (written at once, as Node writes it), the others of that tick go
// to the primary in groups (a share of the tick's messages, below), the
// last at the end of the tick (as the primary's own wait for it,
// src/channel/writer.rs), instead of one write per message. What the worker's code sees stays
// Node's: process.send() validates and throws as Node's, returns false once
// 128 KiB wait, calls its callback after the write, reports a failed write
// the same way; messages keep their order.
//
// Node's channel handle is private, so the agent writes the channel's
// descriptor itself and must then be its only writer: every write Node
// makes goes through process._send, which the agent replaces. It takes
// over only when (1) the primary is rust-cluster's and has said how
// messages are encoded (`welcome`, in answer to our `hello`; Node deletes
// NODE_CHANNEL_SERIALIZATION_MODE), and (2) nothing Node wrote is still
// queued in its handle (each write it made for us has called back); what
// is sent in between waits here, or Node's queue would never empty in a
// worker that answers every message it gets. A
// message with a handle goes through Node, and Node keeps the channel from
// then on. What the socket does not take at once waits in the addon
// (ChannelSender), which writes it as the primary reads.
//
// With its first write the agent moves to shared memory: a ring the addon
// makes (RingWriter, src/channel/ring.rs) and hands to the primary on the
// socket; frames go there with no system call, and the socket carries only
// a doorbell (an empty frame) when the primary may be asleep. A handle, or
// a write of 1 KiB or more, ends the ring (ringEnd) for good.
const fs = require('node:fs');
const util = require('node:util');
const { agent: AGENT, backpressureBytes } = require('../contract.json');

// The encoders and Node's errors load with the first message we write, not
// at start-up (index.js).
let codec = null;
let errors = null;

let nodeSend = null;
let fd = -1;
let mode = null;
// 'node': Node writes; 'waiting': the primary answered, Node's writes are
// finishing; 'ours': we write.
let state = 'node';
let nodeWritesInFlight = 0;
// Whether Node's last write left its queue at the backpressure mark.
let nodeBacklogged = false;
// While waiting, what was sent since (message, options, callback), in case
// Node takes the channel back before it is ours. Their frames wait in
// `batch`: a worker that never stops sending would otherwise keep Node's
// writes in flight, and the channel Node's, for good.
let held = [];
// Our callbacks on Node's writes: Node gives them back when it writes what
// it queued behind a handle (its _handleQueue), already counted.
const ownCallbacks = new WeakSet();
let greeted = false;
// The tick's messages not yet written, their frames one after the other.
let batch = null;
let frameCount = 0;
let frameBytes = 0;
let callbacks = [];
let scheduled = false;
let sender = null;
let drainCallbacks = [];
// The shared-memory stream to the primary (RingWriter), once made; bytes it
// had no room for yet, in order.
let ring = null;
let ringFailed = false;
let ringPending = [];
let ringPendingBytes = 0;
let ringTimer = null;
let ringClosing = false;
const RING_MAX_WRITE = 1024;

// Messages per write after the tick's first: a quarter of the last tick's
// count, 2 to 16. The primary starts on a group while this worker encodes
// the next, so neither waits long for the other. One write per tick made
// the two take turns on two cores (json 50 B echo, 64 in flight: 1.05x
// node:cluster's rate); fixed groups of 8 kept 64 in flight moving but sent
// 16 in flight in two or three writes a tick, each waking a primary that
// had long finished the one before. Echo of 50 B, 16 in flight, primary's
// context switches per 100,000 round trips (median of 9): json 2,214 in
// groups of 8, 593 in quarters (node:cluster ~1,150); advanced 2,765 and
// 1,388; rates and 64 in flight unchanged.
const GROUP_SHIFT = 2;
const MIN_GROUP = 2;
const MAX_GROUP = 16;
let group = MIN_GROUP;
let tickMessages = 0;
const KEEP_BYTES = 1024 * 1024;
// A frame this large spans Node's reads of the channel (lib/agent/heap.js).
const LARGE_FRAME_BYTES = 64 * 1024;

function noop() {}

// `new ErrnoException(err, 'write')` of Node's channel.
function writeError(errno) {
  const code = util.getSystemErrorName(errno);
  const ex = new Error(`write ${code}`);
  Object.assign(ex, { errno, code, syscall: 'write' });
  return ex;
}

// A write through Node, tracked until it calls back.
function viaNode(target, message, handle, options, callback) {
  if (typeof options === 'boolean') options = { swallowErrors: options };
  nodeWritesInFlight++;
  const user = typeof callback === 'function' ? callback : null;
  const swallow = options != null && options.swallowErrors;
  const written = function written(err) {
    nodeWritesInFlight--;
    if (state === 'waiting' && nodeWritesInFlight === 0) {
      state = 'ours';
      held = [];
      nodeBacklogged = false;
      flush();
    }
    if (user !== null) return user(err);
    // Without a callback of its own, Node would have emitted the error.
    if (err && !swallow) target.emit('error', err);
  };
  ownCallbacks.add(written);
  const room = Reflect.apply(nodeSend, target, [message, handle, options, written]);
  nodeBacklogged = room === false;
  return room;
}

// Node keeps the channel after all (a handle, a disconnect) while its
// writes were finishing: what waited goes through Node, in order.
function release(target) {
  const waited = held;
  held = [];
  frameCount = 0;
  frameBytes = 0;
  callbacks = [];
  state = 'node';
  for (let i = 0; i < waited.length; i += 3) viaNode(target, waited[i], undefined, waited[i + 1], waited[i + 2]);
}

function send(message, handle, options, callback) {
  if (typeof callback === 'function' && ownCallbacks.has(callback)) {
    return Reflect.apply(nodeSend, this, [message, handle, options, callback]);
  }
  if (!greeted && this.connected) {
    // The first message says hello first (a worker that never sends never
    // needs the answer).
    greeted = true;
    viaNode(this, { cmd: AGENT.cmd, act: AGENT.hello }, undefined, { swallowErrors: true }, noop);
  }
  if (state === 'node' || handle || !this.connected) {
    // A handle goes through Node's own bookkeeping; from then on Node keeps
    // the channel (its handle queue, its ACKs).
    if (handle && state === 'waiting') {
      release(this);
    } else if (handle && state === 'ours') {
      flush();
      endRing();
      state = 'node';
    }
    return viaNode(this, message, handle, options, callback);
  }
  const type = typeof message;
  if (type !== 'string' && type !== 'object' && type !== 'number' && type !== 'boolean') {
    if (errors === null) errors = require('../errors');
    if (message === undefined) throw errors.missingArgs('message');
    throw errors.invalidArgType('message', ['string', 'object', 'number', 'boolean'], message);
  }
  if (typeof options === 'boolean') options = { swallowErrors: options };
  if (codec === null) codec = require('../serialization')[mode];
  if (batch === null) batch = Buffer.allocUnsafeSlow(64 * 1024);
  const length = codec.encodeFrameInto(message, batch, frameBytes);
  if (length >= LARGE_FRAME_BYTES) require('./heap').largeMessages();
  if (codec.frame !== batch) {
    if (batch.length < frameBytes + length) {
      const bigger = Buffer.allocUnsafeSlow(2 * (frameBytes + length));
      batch.copy(bigger, 0, 0, frameBytes);
      batch = bigger;
    }
    codec.frame.copy(batch, frameBytes, 0, length);
  }
  frameBytes += length;
  frameCount++;
  callbacks.push(typeof callback === 'function' ? callback : null, Boolean(options && options.swallowErrors));
  if (state === 'waiting') {
    held.push(message, options, callback);
    return !nodeBacklogged && frameBytes < backpressureBytes;
  }
  if (!scheduled) {
    // The first of the tick goes now.
    scheduled = true;
    process.nextTick(endTick);
    flush();
  } else if (frameCount >= group) {
    flush();
  }
  tickMessages++;
  return frameBytes + ringPendingBytes + (sender === null ? 0 : sender.pending()) < backpressureBytes;
}

function endTick() {
  scheduled = false;
  group = Math.max(MIN_GROUP, Math.min(MAX_GROUP, tickMessages >> GROUP_SHIFT));
  tickMessages = 0;
  flush();
}

function flush() {
  if (frameCount === 0 || state !== 'ours') return;
  // `batch` is reused: what is not written at once is copied by the addon.
  const data = batch.subarray(0, frameBytes);
  // A buffer grown for one big message is not kept.
  if (batch.length > KEEP_BYTES) batch = null;
  const settled = callbacks;
  frameCount = 0;
  frameBytes = 0;
  callbacks = [];
  let errno = 0;
  let waiting = false;
  // Larger messages go faster on the socket (json echo, 16 in flight: 4 KiB
  // 80k round trips/s against 71k through the ring, 16 KiB 34k against
  // 30k, 64 KiB 9.1-9.8k against 6.9-7.4k; 50 B: 290k against 380k): the
  // first write of 1 KiB or more ends the ring for good.
  if (ring !== null && data.length >= RING_MAX_WRITE) endRing();
  if (ring === null && !ringFailed && data.length < RING_MAX_WRITE &&
      (sender === null || sender.pending() === 0)) openRing();
  if (ring !== null) {
    waiting = toRing(data);
  } else if (sender !== null && sender.pending() > 0) {
    const left = sender.write(data);
    if (left < 0) errno = left;
    waiting = left > 0;
  } else {
    let written = 0;
    try {
      written = fs.writeSync(fd, data);
    } catch (err) {
      if (err.code !== 'EAGAIN') errno = err.errno;
    }
    if (errno === 0 && written < data.length) {
      if (sender === null) sender = new (require('../binding').ChannelSender)(fd, onDrain);
      const left = sender.write(data.subarray(written));
      if (left < 0) errno = left;
      waiting = left > 0;
    }
  }
  if (errno === 0 && !waiting && drainCallbacks.length > 0 && (sender === null || sender.pending() === 0)) {
    // This write took what still waited from earlier ones too, and the
    // socket will not say so (it was not left waiting): their callbacks
    // come now, before this write's, as Node calls them in order.
    const earlier = drainCallbacks;
    drainCallbacks = [];
    for (const callback of earlier) process.nextTick(callback, null);
  }
  for (let i = 0; i < settled.length; i += 2) {
    const callback = settled[i];
    if (errno !== 0) {
      const ex = writeError(errno);
      if (callback !== null) process.nextTick(callback, ex);
      else if (!settled[i + 1]) process.nextTick(() => process.emit('error', ex));
    } else if (callback !== null) {
      if (waiting) drainCallbacks.push(callback);
      else process.nextTick(callback, null);
    }
  }
}

function openRing() {
  try {
    const length = codec.encodeFrame({ cmd: AGENT.cmd, act: AGENT.ring });
    const hello = Buffer.from(codec.frame.subarray(0, length));
    const doorbell = mode === 'json' ? Buffer.from('\n') : Buffer.alloc(4);
    ring = new (require('../binding').RingWriter)(fd, hello, doorbell);
  } catch {
    ringFailed = true;
  }
}

// Into the ring what fits (the addon wakes the primary if it may sleep),
// the rest once the primary has read; true when some must wait.
function toRing(data) {
  if (ringPendingBytes === 0) {
    const n = ring.write(data);
    if (n === data.length) return false;
    data = data.subarray(n);
  }
  ringPending.push(Buffer.from(data));
  ringPendingBytes += data.length;
  // The primary says when it has read (ringRoom); the timer is a fallback.
  if (ringTimer === null) ringTimer = setTimeout(retryRing, 10);
  return true;
}

// Write what waits; true when all is written.
function writePending() {
  while (ringPending.length > 0) {
    const head = ringPending[0];
    const n = ring.write(head);
    ringPendingBytes -= n;
    if (n < head.length) {
      ringPending[0] = head.subarray(n);
      return false;
    }
    ringPending.shift();
  }
  return true;
}

function retryRing() {
  ringTimer = null;
  if (!writePending()) {
    ringTimer = setTimeout(retryRing, 10);
    return;
  }
  if (ringClosing) ring.release();
  onDrain();
}

// Node takes the channel back (a handle to send), or a large message comes:
// the ring's last message says so, and the primary reads the socket again
// once it has read it. What
// waits for room in the ring goes first (Node's write must not overtake
// it, nor our doorbell come between Node's bytes), so this waits for the
// primary to read, as a blocking write to a full channel would.
function endRing() {
  if (ring === null) return;
  const deadline = Date.now() + 10000;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!writePending() && Date.now() < deadline) Atomics.wait(nap, 0, 0, 1);
  if (ringTimer !== null) clearTimeout(ringTimer);
  ringTimer = null;
  ringPending = [];
  ringPendingBytes = 0;
  const length = codec.encodeFrame({ cmd: AGENT.cmd, act: AGENT.ringEnd });
  ring.write(codec.frame.subarray(0, length));
  ring.detach(false);
  ring = null;
  ringFailed = true;
  onDrain();
}

// Node calls back a write it had to queue once it is written, and ignores
// a later failure; so do we.
function onDrain() {
  const waiting = drainCallbacks;
  drainCallbacks = [];
  for (const callback of waiting) callback(null);
}

// The primary read from a ring we were waiting to write more to.
function onRingRoom(message) {
  if (message === null || typeof message !== 'object' || message.cmd !== AGENT.cmd ||
      message.act !== AGENT.ringRoom || ring === null || ringTimer === null) return;
  clearTimeout(ringTimer);
  retryRing();
}

function onWelcome(message) {
  if (message === null || typeof message !== 'object' || message.cmd !== AGENT.cmd ||
      message.act !== AGENT.welcome || state !== 'node' || mode !== null) return;
  if (message.serialization !== 'json' && message.serialization !== 'advanced') return;
  mode = message.serialization;
  state = nodeWritesInFlight === 0 ? 'ours' : 'waiting';
}

function install() {
  if (process.env.RUST_CLUSTER_COALESCE === '0' || typeof process._send !== 'function' ||
      !process.channel || typeof process.channel.fd !== 'number' || process.channel.fd < 0) return;
  fd = process.channel.fd;
  ringFailed = process.env.RUST_CLUSTER_RING === '0';
  nodeSend = process._send;
  process._send = send;
  process.on('internalMessage', onWelcome);
  process.on('internalMessage', onRingRoom);
  // What was sent goes out before Node closes the channel, or the process
  // exits.
  const disconnect = process._disconnect;
  process._disconnect = function flushThenDisconnect(...args) {
    if (state === 'waiting') release(this);
    flush();
    if (sender !== null) sender.closeWhenDrained();
    if (ring !== null) {
      // Keep the socket open until the primary has it all.
      ring.detach(ringPendingBytes > 0);
      ringClosing = true;
    }
    state = 'node';
    return Reflect.apply(disconnect, this, args);
  };
  process.on('exit', () => {
    if (state === 'waiting') release(process);
    flush();
  });
}

module.exports = { install };
