'use strict';
// Spawning a worker, and the IPC half of its ChildProcess. The process is a
// real ChildProcess from child_process.spawn (pid, kill, exit, stdio); its
// channel is served by the Rust engine, so `send`, `connected`,
// `disconnect` and the `message` / `internalMessage` / `disconnect` events
// are supplied here, with the semantics of Node's setupChannel.
const { ChildProcess, spawn } = require('node:child_process');
const { EventEmitter } = require('node:events');
const fs = require('node:fs');
const util = require('node:util');
const binding = require('./binding');
const serialization = require('./serialization');
const handles = require('./handles');
const errors = require('./errors');
const { kForwardsTo } = require('./worker');
const { SocketLists } = require('./socket-list');

const { events: EVENTS, agent: AGENT } = require('./contract.json');

const channels = new Map();
let engine = null;
// Where the engine puts a read's advanced frames when they fit: such a read
// comes as their length (see splitFrames). Decoded before onRead returns.
const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

function getEngine() {
  if (engine === null) {
    engine = new binding.Primary(onEvent, readBuffer);
    // A message sent right before exit still goes out.
    process.on('exit', flushNow);
  }
  return engine;
}

// The engine reads every channel on this event loop, as Node reads its
// own, and calls here once per read of a channel (as Node's channel calls
// its onread), through napi_make_callback: the nextTick queue and the
// microtasks run after each call, as after Node's.
function onEvent(kind, id, a, b) {
  const channel = channels.get(id);
  if (channel === undefined) {
    if (kind === EVENTS.read) closeFds(b);
    return;
  }
  switch (kind) {
    case EVENTS.read: return channel.onRead(a, b);
    case EVENTS.closed: return channel.onClosed(a);
    case EVENTS.writeFailed: return channel.onWriteFailed(b);
    case EVENTS.handleSettled: return channel.onHandleSettled();
    case EVENTS.unresponsive: return channel.onUnresponsive();
    default:
  }
}

// Small messages sent in one tick are written together at its end, in one
// system call per channel; before anything that could make the difference
// visible (exit, kill), they are written at once.
let flushScheduled = false;

function scheduleFlush() {
  if (flushScheduled) return;
  flushScheduled = true;
  process.nextTick(flushNow);
}

function flushNow() {
  flushScheduled = false;
  if (engine !== null) engine.flush();
}

// `[frame index, fd, ...]` pairs of a read: the descriptors JS now owns.
function closeFds(fds) {
  if (fds === undefined) return;
  for (let i = 1; i < fds.length; i += 2) fs.closeSync(fds[i]);
}

// One read's frames, as the engine hands them over: json lines, each
// ending in a newline (or, when large, an array of them), or advanced
// frames, each with its 4-byte length (in a Buffer, or as their length at
// the start of `readBuffer`). Advanced frames are decoded where they lie:
// `frameSpans` gets each body's start and end (`spanCount` of them; the
// array is reused, not shortened, so it keeps its storage), and null is
// returned (a Buffer per small message costs more than decoding it).
const frameSpans = [];
let spanCount = 0;

function splitFrames(data) {
  if (Array.isArray(data)) return data;
  if (typeof data === 'string') {
    const lines = data.split('\n');
    lines.pop();
    return lines;
  }
  const bytes = typeof data === 'number' ? readBuffer : data;
  const length = typeof data === 'number' ? data : data.length;
  spanCount = 0;
  for (let at = 0; at + 4 <= length; spanCount++) {
    const size = bytes.readUInt32BE(at);
    frameSpans[2 * spanCount] = at + 4;
    frameSpans[2 * spanCount + 1] = Math.min(at + 4 + size, length);
    at += 4 + size;
  }
  return null;
}

// What Node's channel emits when a write fails (an ErrnoException).
function writeError(osErrno) {
  const errno = -osErrno;
  const code = util.getSystemErrorName(errno);
  const ex = new Error(`write ${code}`);
  Object.assign(ex, { errno, code, syscall: 'write' });
  return ex;
}

// subprocess.channel, like Node's Control: an EventEmitter whose unref()
// lets the primary exit with this worker's channel open and whose ref()
// undoes it. The descriptor is served by Rust, so `fd` is undefined.
class Control extends EventEmitter {
  #channel;

  constructor(channel) {
    super();
    this.#channel = channel;
  }

  ref() {
    getEngine().refChannel(this.#channel.id, true);
  }

  unref() {
    getEngine().refChannel(this.#channel.id, false);
  }

  get fd() {
    return undefined;
  }
}

// subprocess._channel, deprecated as in Node (DEP0129).
const channelDeprecationMsg = '_channel is deprecated. Use ChildProcess.channel instead.';
const deprecatedChannelGetter = util.deprecate(function get() {
  return this.channel;
}, channelDeprecationMsg, 'DEP0129');
const deprecatedChannelSetter = util.deprecate(function set(value) {
  this.channel = value;
}, channelDeprecationMsg, 'DEP0129');

// send()'s options when none are given (read only).
const NO_OPTIONS = Object.freeze({ swallowErrors: false });

class Channel {
  constructor(id, child, mode) {
    this.id = id;
    this.child = child;
    this.codec = serialization[mode];
    this.open = true;
    // Like Node's `_handleQueue`: null when no passed handle awaits its
    // ACK, else how many messages wait behind it (Rust holds them).
    this.queuedBehindHandle = null;
    // disconnect() waits for a passed handle's ACK (detach).
    this.detachAfterHandle = false;
    this.disconnectEmitted = false;
    // Messages that came while the child had no 'message' listener, as
    // `kPendingMessages` of Node's channel: delivered once one is added.
    this.pendingMessages = [];
    // Connections passed with their server's key, either way.
    this.sockets = new SocketLists(child, (message, swallowErrors) =>
      this.send(message, undefined, { swallowErrors }, undefined));
    channels.set(id, this);
    this.install();
    this.flushPendingOnNewListener();
  }

  install() {
    const channel = this;
    const child = this.child;
    child.connected = true;
    child.channel = new Control(channel);
    Object.defineProperty(child, '_channel', {
      __proto__: null,
      get: deprecatedChannelGetter,
      set: deprecatedChannelSetter,
      configurable: true,
      enumerable: false,
    });

    child.send = function send(message, handle, options, callback) {
      if (typeof handle === 'function') {
        callback = handle;
        handle = undefined;
        options = undefined;
      } else if (typeof options === 'function') {
        callback = options;
        options = undefined;
      } else if (options !== undefined) {
        if (options === null || typeof options !== 'object' || Array.isArray(options)) {
          throw errors.invalidArgType('options', 'Object', options);
        }
      }
      options = options === undefined ? NO_OPTIONS : { swallowErrors: false, ...options };
      if (this.connected) return channel.send(message, handle, options, callback);
      const ex = errors.ipcChannelClosed();
      if (typeof callback === 'function') process.nextTick(callback, ex);
      else process.nextTick(() => this.emit('error', ex));
      return false;
    };

    child.disconnect = function disconnect() {
      if (!this.connected) {
        this.emit('error', errors.ipcDisconnected());
        return;
      }
      this.connected = false;
      getEngine().closeChannel(channel.id);
      // Node disconnects once no passed handle awaits its ACK.
      if (channel.queuedBehindHandle === null) channel.detach();
      else channel.detachAfterHandle = true;
    };

    // What was sent before a signal is on its way before the signal.
    const kill = child.kill;
    child.kill = function killAfterFlush(...args) {
      flushNow();
      return Reflect.apply(kill, this, args);
    };
  }

  send(message, handle, options, callback) {
    if (message === undefined) throw errors.missingArgs('message');
    const type = typeof message;
    if (type !== 'string' && type !== 'object' && type !== 'number' && type !== 'boolean') {
      throw errors.invalidArgType('message', ['string', 'object', 'number', 'boolean'], message);
    }
    let fd = null;
    let release = null;
    if (handle) {
      const wrapper = { cmd: 'NODE_HANDLE', type: null, msg: message };
      const prepared = handles.prepare(wrapper, handle, options, this.sockets);
      wrapper.type = prepared.type;
      if (prepared.fd == null) {
        message = wrapper.msg;
      } else {
        message = wrapper;
        fd = prepared.fd;
        release = prepared.release;
      }
    }
    return this.sendFrame(message, fd, release, options, callback);
  }

  // Like Node's channel: the callback runs on the next tick, and a failure
  // of a queued write surfaces as 'error' (or in the callback).
  sendFrame(message, fd, release, options, callback) {
    const ticket = typeof callback === 'function' || options.swallowErrors ? 0 : 1;
    const codec = this.codec;
    const length = codec.encodeFrame(message);
    const status = fd === null
      ? binding.sendFrame(this.id, codec.frame, length, ticket)
      : getEngine().send(this.id, codec.frame.subarray(0, length), fd, ticket || undefined);
    if (release) release();
    if (status < 0) {
      const ex = writeError(-status);
      if (typeof callback === 'function') process.nextTick(callback, ex);
      else if (!options.swallowErrors) process.nextTick(() => this.child.emit('error', ex));
      return true;
    }
    scheduleFlush();
    if (typeof callback === 'function') process.nextTick(callback, null);
    if (this.queuedBehindHandle !== null) return ++this.queuedBehindHandle === 1;
    if (fd !== null) this.queuedBehindHandle = 0;
    return status === 1;
  }

  onHandleSettled() {
    this.queuedBehindHandle = null;
    if (this.detachAfterHandle) this.detach();
  }

  // Node's _disconnect: from `disconnect()` on, the channel is gone for
  // this process (`channel` null, nothing more read is emitted) and
  // 'disconnect' comes on the next tick. Rust still writes out what was
  // sent before, then closes the socket (onClosed).
  detach() {
    this.detachAfterHandle = false;
    this.open = false;
    this.child.channel = null;
    process.nextTick(() => this.emitDisconnect());
  }

  emitDisconnect() {
    if (this.disconnectEmitted) return;
    this.disconnectEmitted = true;
    this.child.emit('disconnect');
  }

  // One read's messages, as Node's channel.onread handles them: each is
  // decoded now and emitted on the next tick.
  onRead(data, fds) {
    if (!this.open) return closeFds(fds);
    const frames = splitFrames(data);
    const count = frames === null ? spanCount : frames.length;
    let f = 0;
    for (let i = 0; i < count; i++) {
      const fd = fds !== undefined && fds[f] === i ? fds[f + 1] : undefined;
      if (fd !== undefined) f += 2;
      let message;
      try {
        if (frames !== null) {
          message = this.codec.decode(frames[i]);
        } else {
          const reused = typeof data === 'number';
          message = this.codec.decode(reused ? readBuffer : data, frameSpans[2 * i], frameSpans[2 * i + 1], reused);
        }
      } catch (err) {
        if (fd !== undefined) fs.closeSync(fd);
        for (let j = f + 1; fds !== undefined && j < fds.length; j += 2) fs.closeSync(fds[j]);
        this.protocolError(`invalid message on the IPC channel: ${err.message}`);
        return;
      }
      if (fd !== undefined) {
        handles.receive(message, fd, (handle) => this.deliver(message.msg, handle, isInternal(message.msg)),
                        this.sockets);
      } else {
        this.deliver(message, undefined, isInternal(message));
      }
    }
  }

  deliver(message, handle, internal) {
    if (!this.open) return;
    process.nextTick(() => this.emitMessage(internal ? 'internalMessage' : 'message', message, handle));
  }

  // `emit` of Node's setupChannel.
  emitMessage(event, message, handle) {
    const child = this.child;
    if (event === 'internalMessage' || child.listenerCount('message')) {
      child.emit(event, message, handle);
    } else {
      this.pendingMessages.push([event, message, handle]);
    }
  }

  // Node's setupChannel delivers the messages that waited for a 'message'
  // listener on the tick after one is added.
  flushPendingOnNewListener() {
    const child = this.child;
    child.on('newListener', () => {
      process.nextTick(() => {
        if (!this.open || !child.listenerCount('message')) return;
        const messages = this.pendingMessages;
        if (!messages.length) return;
        this.pendingMessages = [];
        for (let i = 0; i < messages.length; i++) child.emit(...messages[i]);
      });
    });
  }

  onWriteFailed(errno) {
    process.nextTick(() => {
      if (this.open) this.child.emit('error', writeError(errno));
    });
  }

  // The worker sat on a handed connection past `handoffTimeout`: its event
  // loop is stuck. Kill it so the connection can go to another worker.
  onUnresponsive() {
    process.emitWarning(`worker ${this.id} did not take a connection within ` +
      `handoffTimeout; killing it`, { code: 'RUST_CLUSTER_UNRESPONSIVE_WORKER' });
    this.child.kill('SIGKILL');
  }

  protocolError(message) {
    process.nextTick(() => {
      this.reportProtocolError(errors.channelProtocol(message));
      if (this.child.connected) this.child.disconnect();
    });
  }

  // A worker that breaks the protocol must not take the primary down: its
  // error goes to 'error' listeners if there are any, else to a warning.
  reportProtocolError(err) {
    const handled = this.child.listeners('error').some((fn) =>
      fn[kForwardsTo] === undefined || fn[kForwardsTo].listenerCount('error') > 0);
    if (handled) this.child.emit('error', err);
    else process.emitWarning(`worker ${this.id}: ${err.message}`, { code: err.code });
  }

  onClosed(error) {
    channels.delete(this.id);
    // Messages that arrived before the end are emitted on the next tick;
    // the end follows them there, as in Node's channel.
    process.nextTick(() => {
      this.open = false;
      const child = this.child;
      const wasConnected = child.connected;
      child.connected = false;
      child.channel = null;
      if (error && wasConnected) this.reportProtocolError(errors.channelProtocol(error));
      this.emitDisconnect();
    });
  }
}

function isInternal(message) {
  return message !== null && typeof message === 'object' && typeof message.cmd === 'string' &&
    message.cmd.length > 5 && message.cmd.startsWith('NODE_');
}

function stdioWithChannel(settings) {
  let stdio = settings.stdio;
  if (typeof stdio === 'string') {
    switch (stdio) {
      case 'ignore': case 'overlapped': case 'pipe': stdio = [stdio, stdio, stdio, 'ipc']; break;
      case 'inherit': stdio = [0, 1, 2, 'ipc']; break;
      default: throw errors.invalidArgValue('stdio', stdio);
    }
  } else if (!Array.isArray(stdio)) {
    stdio = settings.silent ? ['pipe', 'pipe', 'pipe', 'ipc'] : [0, 1, 2, 'ipc'];
  } else if (!stdio.includes('ipc')) {
    throw errors.ipcRequired('options.stdio');
  } else if (stdio.indexOf('ipc') !== stdio.lastIndexOf('ipc')) {
    throw errors.ipcOnePipe();
  }
  return [...stdio];
}

function validatePath(value, name) {
  if (value instanceof URL) value = require('node:url').fileURLToPath(value);
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw errors.invalidArgType(name, ['string', 'Buffer', 'URL'], value);
  }
  if (String(value).includes('\u0000')) {
    throw errors.invalidArgValue(name, value, 'must be a string, Uint8Array, or URL without null bytes');
  }
  return value;
}

function checkNullBytes(list, name) {
  list.forEach((arg, i) => {
    if (typeof arg === 'string' && arg.includes('\u0000')) {
      throw errors.invalidArgValue(`${name}[${i}]`, arg, 'must be a string without null bytes');
    }
  });
}

// The longest string V8 holds: every json message Node's own primary could
// take fits (src/channel/framing.rs, DEFAULT_MAX_MESSAGE_BYTES).
const DEFAULT_MAX_MESSAGE_SIZE = 2 ** 29 - 24;

function validateUint32(value, name, min) {
  if (typeof value !== 'number') throw errors.invalidArgType(name, 'number', value);
  if (!Number.isInteger(value) || value < min || value > 0xFFFFFFFF) {
    throw errors.outOfRange(name, `an integer >= ${min} and <= 4294967295`, value);
  }
  return value;
}

/** The settings rust-cluster adds to node:cluster's, validated. */
function extensionSettings(settings) {
  return {
    maxMessageSize: settings.maxMessageSize === undefined ? DEFAULT_MAX_MESSAGE_SIZE
      : validateUint32(settings.maxMessageSize, 'settings.maxMessageSize', 1),
    handoffTimeout: settings.handoffTimeout === undefined ? 0
      : validateUint32(settings.handoffTimeout, 'settings.handoffTimeout', 0),
  };
}

// A worker whose channel cannot be made (EMFILE, ENFILE: the descriptor
// table is full) fails as Node's spawn does when uv_spawn hits those: no
// process, stdio or channel; on the next tick an 'error' (`spawn <file>
// EMFILE`) and 'close' with the negative errno as exit code, and no 'exit'.
function failedSpawn(args, errno) {
  const file = process.execPath;
  const child = new ChildProcess();
  child._handle = null;
  child.spawnfile = file;
  child.spawnargs = [file, ...args];
  const code = util.getSystemErrorName(-errno);
  const err = new Error(`spawn ${file} ${code}`);
  Object.assign(err, { errno: -errno, code, syscall: `spawn ${file}`, path: file, spawnargs: args });
  process.nextTick(() => {
    child.exitCode = -errno;
    child.emit('error', err);
    child.emit('close', child.exitCode, child.signalCode);
  });
  return child;
}

/**
 * `child_process.fork(exec, args, options)` as cluster calls it, with the
 * IPC channel served by Rust instead of libuv.
 */
function forkWorker(id, settings, env, execArgv) {
  const modulePath = validatePath(settings.exec, 'modulePath');
  let args = settings.args;
  if (args == null) args = [];
  else if (!Array.isArray(args)) throw errors.invalidArgType('args', 'Array', args);
  checkNullBytes(execArgv, 'options.execArgv');
  const stdio = stdioWithChannel(settings);
  // spawn() below validates `serialization` with Node's own error.
  const mode = settings.serialization === 'advanced' ? 'advanced' : 'json';
  const index = stdio.indexOf('ipc');
  const { maxMessageSize, handoffTimeout } = extensionSettings(settings);
  getEngine().setHandoffTimeout(handoffTimeout);
  const childFd = getEngine().openChannel(id, mode === 'advanced', maxMessageSize);
  if (childFd < 0) return failedSpawn([...execArgv, modulePath, ...args], -childFd);
  stdio[index] = childFd;
  let child;
  try {
    child = spawn(process.execPath, [...execArgv, modulePath, ...args], {
      cwd: settings.cwd,
      env: { ...env, NODE_CHANNEL_FD: `${index}`, NODE_CHANNEL_SERIALIZATION_MODE: mode },
      serialization: settings.serialization,
      windowsHide: settings.windowsHide,
      stdio,
      gid: settings.gid,
      uid: settings.uid,
      shell: false,
    });
  } finally {
    fs.closeSync(childFd);
  }
  if (child.stdio === undefined) {
    // uv_spawn hit EMFILE or ENFILE: Node's spawn stops before stdio and
    // channel, and reports it on the next tick. The channel goes unused.
    getEngine().closeChannel(id);
    return child;
  }
  new Channel(id, child, mode); // eslint-disable-line no-new
  return child;
}

/**
 * Send an internal message of the primary's own (the cluster protocol),
 * with a descriptor to pass if `fd` is given (`type` says how the worker
 * wraps it, as `handleConversion` types do). Returns false when the
 * channel is gone.
 */
function sendInternal(id, message, fd, type) {
  const channel = channels.get(id);
  if (channel === undefined || !channel.child.connected) return false;
  if (fd == null) {
    channel.sendFrame(message, null, null, { swallowErrors: true }, undefined);
  } else {
    const wrapped = { cmd: 'NODE_HANDLE', type, msg: message };
    channel.sendFrame(wrapped, fd, null, { swallowErrors: true }, undefined);
  }
  return true;
}

// Workers report closed connections (for `open` counts and leastconn)
// once asked; asking twice is harmless.
let countingAll = false;

/** Ask workers that loaded rust-cluster to report closes (`open` counts). */
function trackConnections() {
  countingAll = true;
  for (const id of channels.keys()) askToCount(id);
}

/**
 * Ask one worker to count, if counting is wanted (`force`: it is) and it
 * does not report yet (its agent may load late: asked again later).
 */
function askToCount(id, force = false) {
  if (!(force || countingAll) || !channels.has(id)) return;
  if (engine.connectionStats().some((row) => row.id === id && row.open != null)) return;
  sendInternal(id, { cmd: AGENT.cmd, act: AGENT.countConnections });
}

/**
 * Per-worker connection counters, by worker id: `[{ id, handed, open }]`
 * (see index.d.ts). Empty before the first fork.
 */
function connectionStats() {
  if (engine === null) return [];
  return engine.connectionStats().map(({ id, handed, open }) => ({ id, handed, open: open ?? null }));
}

module.exports = {
  forkWorker, getEngine, sendInternal, connectionStats, trackConnections, askToCount, flushNow,
};
