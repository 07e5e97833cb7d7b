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

const channels = new Map();
let engine = null;
// Open channels that keep the event loop alive: ref'd ones (the default),
// and unref'd ones of workers that may hold a round-robin server, which
// keeps Node's primary alive through its listening handle.
let keepingAlive = 0;

// How long a worker's exit waits for its channel to close. The channel
// closes when the process dies, unless a grandchild inherited it.
const EXIT_WAITS_FOR_CHANNEL_MS = 1000;

function getEngine() {
  if (engine === null) {
    engine = new binding.Primary(collectEvents);
    engine.setPipeChmodExact(pipeChmodExact(process.versions.uv));
  }
  return engine;
}

// libuv 1.51 changed uv_pipe_chmod (readableAll / writableAll) from adding
// the bits to the socket file's mode to setting just them: follow the libuv
// of this Node, as its own primary would.
function pipeChmodExact(uv) {
  const [major, minor] = String(uv).split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 51);
}

// Rust wakes us once per batch of events; take them all, in order. A batch
// may hold several reads of a channel (`readEnd` marks the last event of
// each). Node emits the messages of one read from one callback and runs the
// microtask queue before the next read's, so code that awaits one message
// and then listens for the next does not miss it; the events after a read's
// end wait for that microtask turn here too.
//
// Like libuv, which reads a stream at most 32 times before the event loop
// moves on, we go back to the event loop (timers, other I/O) after that many
// reads. And a new batch is taken only once this one is dispatched: what we
// have not taken holds the worker's reader back (src/channel/backlog.rs), so
// a worker that sends faster than this thread handles messages fills its own
// memory, as with Node's primary, not ours.
const READS_PER_TURN = 32;
let pending = [];
let next = 0;
let waitingForMicrotasks = false;
let readsThisTurn = 0;
let moreWaiting = false;

function collectEvents() {
  readsThisTurn = 0;
  if (waitingForMicrotasks) {
    moreWaiting = true;
  } else if (next < pending.length) {
    // A dispatch threw and cut the last drain short: go on with it first.
    moreWaiting = true;
    drainEvents();
  } else {
    takeEvents();
  }
}

function takeEvents() {
  const { meta, bodies } = engine.takeEvents();
  pending = new Array(bodies.length);
  for (let i = 0; i < bodies.length; i++) pending[i] = unpackEvent(meta, i * 6, bodies[i]);
  next = 0;
  drainEvents();
}

// takeEvents() packs six numbers per event (src/lib.rs, EventBatch).
const EVENT_KINDS = ['message', 'writeFailed', 'closed', 'unresponsive', 'handleSettled'];
const FLAG_INTERNAL = 1;
const FLAG_READ_END = 2;

function unpackEvent(meta, at, body) {
  const kind = EVENT_KINDS[meta[at]];
  const flags = meta[at + 2];
  const message = kind === 'message';
  return {
    kind,
    worker: meta[at + 1],
    text: message && typeof body === 'string' ? body : undefined,
    payload: message && typeof body !== 'string' ? body : undefined,
    fd: meta[at + 3] >= 0 ? meta[at + 3] : undefined,
    internal: (flags & FLAG_INTERNAL) !== 0,
    ticket: meta[at + 4],
    errno: meta[at + 5],
    error: kind === 'closed' ? body : undefined,
    readEnd: (flags & FLAG_READ_END) !== 0,
  };
}

function drainEvents() {
  while (next < pending.length) {
    const event = pending[next++];
    dispatch(event);
    if (event.readEnd && next < pending.length) {
      resumeAfterRead();
      return;
    }
  }
  pending = [];
  next = 0;
  // The next batch starts a new read too.
  if (moreWaiting) resumeAfterRead();
}

// Messages are emitted on the next tick: let that tick and the microtasks it
// starts run before dispatching the following read, and after READS_PER_TURN
// reads let the event loop turn as well.
function resumeAfterRead() {
  waitingForMicrotasks = true;
  if (++readsThisTurn < READS_PER_TURN) process.nextTick(() => queueMicrotask(resumeEvents));
  else setImmediate(resumeOnNextTurn);
}

function resumeEvents() {
  waitingForMicrotasks = false;
  if (next < pending.length) {
    drainEvents();
  } else if (moreWaiting) {
    moreWaiting = false;
    takeEvents();
  }
}

function resumeOnNextTurn() {
  readsThisTurn = 0;
  resumeEvents();
}

function dispatch(event) {
  const channel = channels.get(event.worker);
  if (channel === undefined) {
    if (event.fd != null) fs.closeSync(event.fd);
    return;
  }
  channel.onEvent(event);
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
    this.#channel.refed = true;
    this.#channel.updateKeepAlive();
  }

  unref() {
    this.#channel.refed = false;
    this.#channel.updateKeepAlive();
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

class Channel {
  constructor(id, child, mode) {
    this.id = id;
    this.child = child;
    this.codec = serialization[mode];
    this.open = true;
    // Like Node's `_handleQueue`: null when no passed handle awaits its
    // ACK, else how many messages wait behind it (Rust holds them).
    this.queuedBehindHandle = null;
    // Events that came behind a message with a handle (holdAfterHandle).
    this.held = null;
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
    this.refed = true;
    this.serving = false;
    this.keepsAlive = false;
    this.updateKeepAlive();
    this.install();
    this.flushPendingOnNewListener();
    this.orderExitAfterChannel();
  }

  updateKeepAlive() {
    const keeps = channels.get(this.id) === this && (this.refed || this.serving);
    if (keeps === this.keepsAlive) return;
    this.keepsAlive = keeps;
    keepingAlive += keeps ? 1 : -1;
    getEngine().keepAlive(keepingAlive > 0);
  }

  // A worker that sends a message and exits: Node's primary reads the
  // message and the channel's end before it handles SIGCHLD, so the events
  // come as message, disconnect, exit. Our channel is read on another
  // thread; hold the process's exit until the channel has closed.
  orderExitAfterChannel() {
    const handle = this.child._handle;
    if (!handle || typeof handle.onexit !== 'function') return;
    const onexit = handle.onexit;
    handle.onexit = (...args) => {
      // A negative code is a spawn failure: node reports it at once.
      if (!this.open || args[0] < 0) return onexit.apply(handle, args);
      const timer = setTimeout(() => this.runDeferredExit(), EXIT_WAITS_FOR_CHANNEL_MS);
      this.deferredExit = () => {
        clearTimeout(timer);
        onexit.apply(handle, args);
      };
    };
  }

  runDeferredExit() {
    const run = this.deferredExit;
    this.deferredExit = null;
    if (run) run();
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
      options = { swallowErrors: false, ...options };
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
    const frame = this.codec.encode(message);
    // Like Node's channel: a message on an idle channel is written now
    // (Rust writes it from this thread) and the callback runs on the next
    // tick; a later failure of a queued write surfaces as 'error'.
    const ticket = typeof callback === 'function' || options.swallowErrors ? undefined : 1;
    const status = getEngine().send(this.id, frame, fd, ticket);
    if (release) release();
    if (status < 0) {
      const ex = writeError(-status);
      if (typeof callback === 'function') process.nextTick(callback, ex);
      else if (!options.swallowErrors) process.nextTick(() => this.child.emit('error', ex));
      return true;
    }
    if (typeof callback === 'function') process.nextTick(callback, null);
    if (this.queuedBehindHandle !== null) return ++this.queuedBehindHandle === 1;
    if (fd !== null) this.queuedBehindHandle = 0;
    return status === 1;
  }

  onEvent(event) {
    if (this.held !== null && (event.kind === 'message' || event.kind === 'closed')) {
      this.held.push(event);
      return undefined;
    }
    switch (event.kind) {
      case 'message': return this.onMessage(event);
      case 'writeFailed': return this.onWriteFailed(event);
      case 'closed': return this.onClosed(event);
      case 'unresponsive': return this.onUnresponsive();
      case 'handleSettled':
        this.queuedBehindHandle = null;
        if (this.detachAfterHandle) this.detach();
        return undefined;
      default:
    }
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

  onMessage({ payload, text, fd, internal }) {
    if (!this.open) {
      if (fd != null) fs.closeSync(fd);
      return;
    }
    let message;
    try {
      message = this.codec.decode(text ?? payload);
    } catch (err) {
      if (fd != null) fs.closeSync(fd);
      this.protocolError(`invalid message on the IPC channel: ${err.message}`);
      return;
    }
    if (fd != null) {
      handles.receive(message, fd, (handle) => this.deliver(message.msg, handle, isInternal(message.msg)),
                      this.sockets);
      this.holdAfterHandle();
      return;
    }
    this.deliver(message, undefined, internal || isInternal(message));
  }

  // Node's primary reads a message that carries a handle and acknowledges
  // it; the worker sends nothing after it before the ACK, so what follows
  // comes in a later read, after the ticks and microtasks that the handle's
  // listeners started. Our ACK goes out from the I/O thread, so what follows
  // can be in the same batch: hold it until then.
  holdAfterHandle() {
    this.held = [];
    setImmediate(() => {
      const held = this.held;
      this.held = null;
      for (let i = 0; i < held.length; i++) {
        if (this.held !== null) {
          this.held.push(...held.slice(i));
          return;
        }
        this.onEvent(held[i]);
      }
    });
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

  onWriteFailed({ errno }) {
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

  onClosed({ error }) {
    channels.delete(this.id);
    getEngine().releaseChannel(this.id);
    this.updateKeepAlive();
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
      // An exit that waited for this comes as its own callback, as the
      // process handle's would: after what 'disconnect' started (microtasks
      // included).
      setImmediate(() => this.runDeferredExit());
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
    getEngine().releaseChannel(id);
    return child;
  }
  new Channel(id, child, mode); // eslint-disable-line no-new
  child.once('exit', () => getEngine().workerExited(id));
  return child;
}

/**
 * The worker listens on a server the primary may hold a round-robin handle
 * for: an unref'd channel still keeps the primary alive, as that handle
 * does in Node.
 */
function markServing(id) {
  const channel = channels.get(id);
  if (channel === undefined || channel.serving) return;
  channel.serving = true;
  channel.updateKeepAlive();
}

/**
 * Per-worker connection counters, by worker id: `[{ id, handed, open }]`
 * (see index.d.ts). Empty before the first fork.
 */
function connectionStats() {
  if (engine === null) return [];
  return engine.connectionStats().map(({ id, handed, open }) => ({ id, handed, open: open ?? null }));
}

/** Ask workers that loaded rust-cluster to report closes (`open` counts). */
function trackConnections() {
  getEngine().trackConnections();
}

module.exports = { forkWorker, getEngine, connectionStats, trackConnections, markServing };
