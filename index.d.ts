/// <reference types="node" />

// Type declarations for rust-cluster, a drop-in replacement for node:cluster.
//
// The runtime module is CommonJS (`module.exports = cluster`, see index.js),
// with an ESM wrapper (index.mjs) whose default export is the same object
// and whose named exports are its own properties (isPrimary, fork, workers,
// ...), as with node:cluster. These declarations model that with
// `export =` of a value (typed `cluster.Cluster` plus `Worker` and
// `default`), merged with a type-only namespace of the same name that
// carries the interfaces. This
// makes all of the following type-check, under "module": "commonjs" (with or
// without esModuleInterop) and under "module": "node16"/"nodenext" (from
// both CommonJS and ES module files):
//
//   import cluster from 'rust-cluster';
//   import * as cluster from 'rust-cluster';
//   import cluster = require('rust-cluster');
//   import { isPrimary, fork, Worker, type ClusterSettings } from 'rust-cluster';
//
// The member list, the signatures and the event overloads deliberately match
// @types/node's `cluster` module, so that any program written against those
// types also type-checks against these. The value additionally has a
// `default` property (typed as the cluster itself) because @types/node
// declares the module with `export default`: programs that use
// `import cluster from 'cluster'` without esModuleInterop, or
// `import * as c from 'cluster'; c.default.fork()`, keep type-checking.

import * as child from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as dgram from 'node:dgram';

/**
 * One worker process. In the primary, `cluster.fork()` returns one and
 * `cluster.workers` holds the live ones; in a worker, `cluster.worker` is the
 * worker's own.
 */
declare class Worker extends EventEmitter {
  /** Normally created by `cluster.fork()`, not by user code. */
  constructor(options?: cluster.WorkerOptions);

  /** Unique id of this worker; its key in `cluster.workers` while it lives. */
  id: number;

  /**
   * The child process of the worker (from `child_process.fork()`). Inside a
   * worker this is the global `process`.
   */
  process: child.ChildProcess;

  /**
   * `true` if the worker exited because of `.disconnect()`/`.kill()` after a
   * disconnect, `false` if it exited some other way, `undefined` until exit.
   */
  exitedAfterDisconnect: boolean;

  /**
   * Sends a message (optionally with a socket, server or UDP socket handle)
   * to the worker (in the primary) or to the primary (in a worker).
   * Returns `false` if the channel is backed up.
   */
  send(message: child.Serializable, callback?: (error: Error | null) => void): boolean;
  send(
    message: child.Serializable,
    sendHandle: cluster.SendHandle,
    callback?: (error: Error | null) => void,
  ): boolean;
  send(
    message: child.Serializable,
    sendHandle: cluster.SendHandle,
    options?: child.MessageOptions,
    callback?: (error: Error | null) => void,
  ): boolean;

  /** Kills the worker process (default signal `'SIGTERM'`). */
  kill(signal?: string): void;
  /** Alias of `kill()`. */
  destroy(signal?: string): void;
  /** Closes the worker's servers, then its IPC channel. Returns the worker. */
  disconnect(): this;
  /** Whether the IPC channel to the worker is still open. */
  isConnected(): boolean;
  /** Whether the worker process has exited or been killed. */
  isDead(): boolean;

  addListener(event: string, listener: (...args: any[]) => void): this;
  addListener(event: 'disconnect', listener: () => void): this;
  addListener(event: 'error', listener: (error: Error) => void): this;
  addListener(event: 'exit', listener: (code: number, signal: string) => void): this;
  addListener(event: 'listening', listener: (address: cluster.Address) => void): this;
  addListener(event: 'message', listener: (message: any, handle: net.Socket | net.Server) => void): this;
  addListener(event: 'online', listener: () => void): this;

  emit(event: string | symbol, ...args: any[]): boolean;
  emit(event: 'disconnect'): boolean;
  emit(event: 'error', error: Error): boolean;
  emit(event: 'exit', code: number, signal: string): boolean;
  emit(event: 'listening', address: cluster.Address): boolean;
  emit(event: 'message', message: any, handle: net.Socket | net.Server): boolean;
  emit(event: 'online'): boolean;

  on(event: string, listener: (...args: any[]) => void): this;
  on(event: 'disconnect', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'exit', listener: (code: number, signal: string) => void): this;
  on(event: 'listening', listener: (address: cluster.Address) => void): this;
  on(event: 'message', listener: (message: any, handle: net.Socket | net.Server) => void): this;
  on(event: 'online', listener: () => void): this;

  once(event: string, listener: (...args: any[]) => void): this;
  once(event: 'disconnect', listener: () => void): this;
  once(event: 'error', listener: (error: Error) => void): this;
  once(event: 'exit', listener: (code: number, signal: string) => void): this;
  once(event: 'listening', listener: (address: cluster.Address) => void): this;
  once(event: 'message', listener: (message: any, handle: net.Socket | net.Server) => void): this;
  once(event: 'online', listener: () => void): this;

  prependListener(event: string, listener: (...args: any[]) => void): this;
  prependListener(event: 'disconnect', listener: () => void): this;
  prependListener(event: 'error', listener: (error: Error) => void): this;
  prependListener(event: 'exit', listener: (code: number, signal: string) => void): this;
  prependListener(event: 'listening', listener: (address: cluster.Address) => void): this;
  prependListener(event: 'message', listener: (message: any, handle: net.Socket | net.Server) => void): this;
  prependListener(event: 'online', listener: () => void): this;

  prependOnceListener(event: string, listener: (...args: any[]) => void): this;
  prependOnceListener(event: 'disconnect', listener: () => void): this;
  prependOnceListener(event: 'error', listener: (error: Error) => void): this;
  prependOnceListener(event: 'exit', listener: (code: number, signal: string) => void): this;
  prependOnceListener(event: 'listening', listener: (address: cluster.Address) => void): this;
  prependOnceListener(event: 'message', listener: (message: any, handle: net.Socket | net.Server) => void): this;
  prependOnceListener(event: 'online', listener: () => void): this;
}

/** The class's instance type, so the namespace below can re-export it. */
type WorkerInstance = Worker;

declare namespace cluster {
  /** Message serialization between primary and workers. */
  type SerializationType = 'json' | 'advanced';

  /** What `worker.send()` can pass along with a message. */
  type SendHandle = net.Socket | net.Server | dgram.Socket | undefined;

  /** Options for `cluster.setupPrimary()`; also the shape of `cluster.settings`. */
  interface ClusterSettings {
    /** Arguments for the Node.js executable (default `process.execArgv`). */
    execArgv?: string[] | undefined;
    /** Path of the worker script (default `process.argv[1]`). */
    exec?: string | undefined;
    /** Arguments passed to the worker script (default `process.argv.slice(2)`). */
    args?: readonly string[] | undefined;
    /** Send the workers' output to the primary instead of inheriting stdio. */
    silent?: boolean | undefined;
    /** stdio of forked workers; must contain an `'ipc'` entry. Overrides `silent`. */
    stdio?: any[] | undefined;
    /** User identity of the worker processes (see setuid(2)). */
    uid?: number | undefined;
    /** Group identity of the worker processes (see setgid(2)). */
    gid?: number | undefined;
    /** Inspector port of each worker, or a function returning one. */
    inspectPort?: number | (() => number) | undefined;
    /** `'json'` (default) or `'advanced'` (structured clone). */
    serialization?: SerializationType | undefined;
    /** Working directory of the workers (default: inherited). */
    cwd?: string | undefined;
    /** Hide the workers' console windows (Windows only). */
    windowsHide?: boolean | undefined;
    /**
     * rust-cluster: the scheduling policy, taken by the first
     * `setupPrimary()` call (node:cluster ignores this key; there, assign
     * `cluster.schedulingPolicy`).
     */
    schedulingPolicy?: number | undefined;
    /**
     * rust-cluster: the largest message a worker may send, in bytes
     * (default 2^29 - 24, V8's longest string). A worker that sends more is
     * disconnected with an `'error'` (`ERR_IPC_CHANNEL_PROTOCOL`).
     */
    maxMessageSize?: number | undefined;
    /**
     * rust-cluster: milliseconds a worker may sit on a handed connection
     * without answering before it is killed (default 0: never).
     */
    handoffTimeout?: number | undefined;
  }

  /** Where a worker is listening, as reported by the 'listening' events. */
  interface Address {
    address: string;
    port: number;
    /** 4 or 6 for TCP, -1 for a Unix domain socket, 'udp4'/'udp6' for UDP. */
    addressType: 4 | 6 | -1 | 'udp4' | 'udp6';
  }

  /** Options of the `Worker` constructor. */
  interface WorkerOptions {
    id?: number | undefined;
    process?: child.ChildProcess | undefined;
    state?: string | undefined;
    captureRejections?: boolean | undefined;
  }

  /** Arguments of each event a `Worker` emits. */
  interface WorkerEventMap {
    disconnect: [];
    error: [error: Error];
    exit: [code: number, signal: string];
    listening: [address: Address];
    message: [message: any, handle: SendHandle];
    online: [];
  }

  /** Arguments of each event the cluster emits in the primary. */
  interface ClusterEventMap {
    disconnect: [worker: Worker];
    exit: [worker: Worker, code: number, signal: string];
    fork: [worker: Worker];
    listening: [worker: Worker, address: Address];
    message: [worker: Worker, message: any, handle: SendHandle];
    online: [worker: Worker];
    setup: [settings: ClusterSettings];
  }

  /** A worker; see the `Worker` class. */
  interface Worker extends WorkerInstance {}

  /** Respawn settings of `cluster.supervise()` (times in ms). */
  interface RespawnOptions {
    /** Delay before the first respawn; doubles with each crash in the window (default 100). */
    minDelay?: number | undefined;
    /** Longest delay (default 10000). */
    maxDelay?: number | undefined;
    /** This many crashes within `crashWindow` stop respawning: 'crashloop' (default 5). */
    maxCrashes?: number | undefined;
    /** The window crashes are counted in (default 60000). */
    crashWindow?: number | undefined;
  }

  /** Graceful shutdown settings of `cluster.supervise()`. */
  interface ShutdownOptions {
    /** How long workers get to leave before they are killed, ms (default 10000). */
    timeout?: number | undefined;
    /** Signals that start the shutdown (default `['SIGTERM', 'SIGINT']`). */
    signals?: NodeJS.Signals[] | undefined;
    /** Exit the primary with the shutdown's exit code when done (default true). */
    exit?: boolean | undefined;
  }

  /** Heartbeat settings of `cluster.supervise()` (times in ms). */
  interface HeartbeatOptions {
    /** How often each worker is pinged (default 1000). */
    interval?: number | undefined;
    /** Silence after which a worker that answered before is killed and replaced (default 5000). */
    timeout?: number | undefined;
  }

  /** Options of `cluster.supervise()`; everything is off unless set. */
  interface SuperviseOptions {
    /** Replace workers that exit without being disconnected. */
    respawn?: boolean | RespawnOptions | undefined;
    /** Shut down gracefully on SIGTERM/SIGINT. */
    shutdown?: boolean | ShutdownOptions | undefined;
    /** Kill and replace workers whose event loop is blocked (workers that load rust-cluster). */
    heartbeat?: boolean | HeartbeatOptions | undefined;
    /** Replace (like a reload) a worker whose RSS exceeds this many bytes; turns the heartbeat on. */
    maxRss?: number | null | undefined;
    /** Signal that starts `cluster.reload()` (`true` means `'SIGHUP'`). */
    reloadSignal?: NodeJS.Signals | boolean | null | undefined;
    /** SIGTTIN adds a worker, SIGTTOU removes one (never below 1). */
    scaleSignals?: boolean | undefined;
    /** Signal that starts `cluster.upgrade()` (`true` means `'SIGUSR2'`). */
    upgradeSignal?: NodeJS.Signals | boolean | null | undefined;
    /** How long the new primary of an upgrade may take until its workers serve, ms (default 30000). */
    upgradeTimeout?: number | undefined;
    /** How long a worker being taken out of service may take to leave, ms (default 10000). */
    drainTimeout?: number | undefined;
    /** How long a new worker may take to listen, ms (default 30000). */
    listenTimeout?: number | undefined;
    /** Serve Prometheus metrics on this port, at `/metrics` (0: any free port). */
    statsPort?: number | null | undefined;
    /** Address of the metrics server (default `'127.0.0.1'`). */
    statsHost?: string | undefined;
    /**
     * Take commands (`rust-cluster status`, `reload`, `scale`, `stop`, `top`, `upgrade`)
     * on a Unix socket: `true` (named after the program's file), a socket
     * path, or `{ name, path }`.
     */
    control?: boolean | string | ControlOptions | null | undefined;
    /** Replace a worker once it has served this many connections. */
    maxRequests?: number | null | undefined;
    /** Add a random 0..jitter to each worker's `maxRequests` (default 0). */
    maxRequestsJitter?: number | undefined;
    /** A worker is ready when it sends `'ready'` (process.send), not when it listens. */
    readySignal?: boolean | undefined;
    /** Speak systemd's notify protocol when NOTIFY_SOCKET is set (default true). */
    notify?: boolean | undefined;
    /** How many times a replacement that exits before it is ready is forked again (default 2). */
    reloadRetries?: number | undefined;
  }

  /** The control socket of `cluster.supervise()`. */
  interface ControlOptions {
    /** Socket `$XDG_RUNTIME_DIR/rust-cluster/NAME.sock` (else `/tmp/rust-cluster-UID/NAME.sock`). */
    name?: string | undefined;
    /** A socket path of your own instead. */
    path?: string | undefined;
  }

  /** What happened to one worker in a reload. */
  interface ReloadResult {
    id: number;
    pid: number | null;
    /** `'failed'`: it still runs (the old code). */
    outcome: 'replaced' | 'failed' | 'gone' | 'skipped';
    replacement: { id: number; pid: number | null } | null;
    /** Replacements forked for it. */
    attempts: number;
    error: string | null;
  }

  /** The 'reload' event's argument, and `err.report` of a reload that left workers on old code. */
  interface ReloadReport {
    replaced: number;
    failed: number;
    gone: number;
    skipped: number;
    /** How long it took, ms. */
    ms: number;
    results: ReloadResult[];
  }

  /**
   * The 'upgrade' event's argument (emitted by both primaries of an
   * upgrade: the old one, `from`, and the new one, `to`), what
   * `cluster.upgrade()` resolves to, and `err.report` of a failed upgrade.
   */
  interface UpgradeReport {
    /** `false`: the new primary failed and was stopped; the old one goes on. */
    ok: boolean;
    /** Pid of the old primary. */
    from: number;
    /** Pid of the new primary (null if it could not be started). */
    to: number | null;
    /** The new primary's workers serving when it took over (success only). */
    workers?: Array<{ id: number; pid: number }>;
    /** How long until the new primary's workers all served, ms (success only). */
    readyMs?: number;
    /** Why it failed (failure only). */
    error?: string;
    /** How long it took, ms (until the new primary took over, or failed). */
    ms: number;
  }

  /** Options of `cluster.upgrade()`. */
  interface UpgradeCallOptions {
    /** How long the new primary may take until its workers serve, ms (default: `upgradeTimeout`). */
    timeout?: number | undefined;
  }

  /** The 'shutdown' event's argument. */
  interface ShutdownInfo {
    signal: NodeJS.Signals | null;
    timeout: number;
    /** `'upgrade'` when the old primary of an upgrade drains its workers. */
    reason?: 'upgrade';
  }

  /** Options of `cluster.shutdown()`. */
  interface ShutdownCallOptions {
    timeout?: number | undefined;
  }

  /** CPU time in seconds. */
  interface CpuTime {
    user: number;
    system: number;
  }

  /** One worker in `cluster.stats()`. */
  interface WorkerStats {
    id: number;
    pid: number | null;
    /** `worker.state`, or `'draining'` while it is being taken out of service. */
    state: string;
    /** Seconds since it was forked. */
    uptime: number;
    /** Connections handed to it / open in it (null where this build cannot tell). */
    connections: { handed: number | null; open: number | null };
    /** How many workers held its place before it (respawns, reloads...). */
    restarts: number;
    /** It serves: listens (or, with `readySignal`, has sent 'ready'). */
    ready: boolean;
    /** Resident set size in bytes. */
    rss: number | null;
    cpu: CpuTime | null;
    /** From its last heartbeat answer. */
    heapUsed: number | null;
    /** Whether the worker runs rust-cluster's agent (it has answered the primary). */
    agent: boolean;
    /** Seconds since its last heartbeat answer. */
    lastHeartbeat: number | null;
  }

  /** What `cluster.stats()` returns. */
  interface ClusterStats {
    primary: {
      pid: number;
      uptime: number;
      rss: number;
      cpu: CpuTime;
      /** Where the Prometheus endpoint listens, if it does. */
      metrics: { address: string; port: number } | null;
      /** The control socket's path, if there is one. */
      control: string | null;
    };
    workers: WorkerStats[];
    totals: {
      /** Worker processes running, draining ones included. */
      workers: number;
      /** Workers serving. */
      active: number;
      handed: number | null;
      open: number | null;
      restarts: number;
      crashes: number;
      respawns: number;
      reloads: number;
      hangs: number;
      recycles: number;
      /** Workers replaced for reaching maxRequests. */
      maxRequests: number;
    };
  }

  /** Why a worker took another's place (the 'replace' event). */
  type ReplaceReason = 'respawn' | 'reload' | 'hang' | 'memory' | 'maxRequests';

  /** The 'crashloop' event's argument. */
  interface CrashLoopInfo {
    /** The worker whose exit made it a loop. */
    worker: Worker;
    crashes: number;
    window: number;
    code: number | null;
    signal: string | null;
  }

  /** The supervision API rust-cluster adds to the cluster object (primary only). */
  interface Supervision {
    /** Turn on supervision; resolves once the metrics server (if any) listens. */
    supervise(options?: SuperviseOptions): Promise<ClusterModule>;
    /** Rolling restart, one worker at a time; resolves to the new workers. */
    reload(): Promise<Worker[]>;
    /** Fork or drain workers until `n` serve; resolves to the number serving. */
    scale(n: number): Promise<number>;
    /** A snapshot of the primary and its workers. */
    stats(): ClusterStats;
    /** Drain every worker and kill those left after the timeout; resolves to the exit code (0 or 124). */
    shutdown(options?: ShutdownCallOptions): Promise<number>;
    /**
     * Replace the primary itself (Rust engine): start a new primary from this
     * one's command line, hand it the listening sockets; resolves once it
     * has taken over (this primary then drains its workers and exits).
     */
    upgrade(options?: UpgradeCallOptions): Promise<UpgradeReport>;
  }

  /**
   * The cluster object's API (the same members as @types/node's `Cluster`;
   * the module value also has `Worker` and `default`).
   */
  interface Cluster extends EventEmitter {
    /**
     * Disconnects every worker, then calls `callback` once all of them are
     * disconnected and the primary's handles are closed. Primary only.
     */
    disconnect(callback?: () => void): void;
    /**
     * Starts a new worker process; `env` adds variables to its environment.
     * Primary only.
     */
    fork(env?: any): Worker;

    /** @deprecated Use `isPrimary`. */
    readonly isMaster: boolean;
    /** `true` in the primary process (no `NODE_UNIQUE_ID` in the environment). */
    readonly isPrimary: boolean;
    /** `true` in a worker process. */
    readonly isWorker: boolean;
    /**
     * `SCHED_RR` (round-robin in the primary) or `SCHED_NONE` (left to the
     * OS); with rust-cluster also `SCHED_REUSEPORT`, `SCHED_LEASTCONN` or
     * `SCHED_STICKY`. Fixed once the first worker is forked or
     * `setupPrimary()` is called.
     */
    schedulingPolicy: number;
    /** Settings in effect, filled in by `setupPrimary()`/`fork()`. */
    readonly settings: ClusterSettings;
    /** @deprecated Use `setupPrimary()`. */
    setupMaster(settings?: ClusterSettings): void;
    /** Changes the default settings for later `fork()` calls. Primary only. */
    setupPrimary(settings?: ClusterSettings): void;
    /** The current worker, in a worker process; not set in the primary. */
    readonly worker?: Worker;
    /** Live workers by id, in the primary; not set in a worker. */
    readonly workers?: NodeJS.Dict<Worker>;
    readonly SCHED_NONE: number;
    readonly SCHED_RR: number;

    addListener(event: string, listener: (...args: any[]) => void): this;
    addListener(event: 'disconnect', listener: (worker: Worker) => void): this;
    addListener(event: 'exit', listener: (worker: Worker, code: number, signal: string) => void): this;
    addListener(event: 'fork', listener: (worker: Worker) => void): this;
    addListener(event: 'listening', listener: (worker: Worker, address: Address) => void): this;
    addListener(
      event: 'message',
      listener: (worker: Worker, message: any, handle: net.Socket | net.Server) => void,
    ): this;
    addListener(event: 'online', listener: (worker: Worker) => void): this;
    addListener(event: 'setup', listener: (settings: ClusterSettings) => void): this;

    emit(event: string | symbol, ...args: any[]): boolean;
    emit(event: 'disconnect', worker: Worker): boolean;
    emit(event: 'exit', worker: Worker, code: number, signal: string): boolean;
    emit(event: 'fork', worker: Worker): boolean;
    emit(event: 'listening', worker: Worker, address: Address): boolean;
    emit(event: 'message', worker: Worker, message: any, handle: net.Socket | net.Server): boolean;
    emit(event: 'online', worker: Worker): boolean;
    emit(event: 'setup', settings: ClusterSettings): boolean;

    on(event: string, listener: (...args: any[]) => void): this;
    on(event: 'disconnect', listener: (worker: Worker) => void): this;
    on(event: 'exit', listener: (worker: Worker, code: number, signal: string) => void): this;
    on(event: 'fork', listener: (worker: Worker) => void): this;
    on(event: 'listening', listener: (worker: Worker, address: Address) => void): this;
    on(
      event: 'message',
      listener: (worker: Worker, message: any, handle: net.Socket | net.Server) => void,
    ): this;
    on(event: 'online', listener: (worker: Worker) => void): this;
    on(event: 'setup', listener: (settings: ClusterSettings) => void): this;
    // Events of rust-cluster's supervision (see `Supervision`).
    on(event: 'replace', listener: (worker: Worker, old: Worker, reason: ReplaceReason, info?: { delay: number; code: number | null; signal: string | null }) => void): this;
    on(event: 'crashloop', listener: (info: CrashLoopInfo) => void): this;
    on(event: 'hang', listener: (worker: Worker, silentForMs: number) => void): this;
    on(event: 'memory', listener: (worker: Worker, rss: number) => void): this;
    on(event: 'maxRequests', listener: (worker: Worker, served: number) => void): this;
    on(event: 'reload', listener: (report: ReloadReport) => void): this;
    on(event: 'shutdown', listener: (info: ShutdownInfo) => void): this;
    on(event: 'upgrade', listener: (report: UpgradeReport) => void): this;

    once(event: string, listener: (...args: any[]) => void): this;
    once(event: 'disconnect', listener: (worker: Worker) => void): this;
    once(event: 'exit', listener: (worker: Worker, code: number, signal: string) => void): this;
    once(event: 'fork', listener: (worker: Worker) => void): this;
    once(event: 'listening', listener: (worker: Worker, address: Address) => void): this;
    once(
      event: 'message',
      listener: (worker: Worker, message: any, handle: net.Socket | net.Server) => void,
    ): this;
    once(event: 'online', listener: (worker: Worker) => void): this;
    once(event: 'setup', listener: (settings: ClusterSettings) => void): this;
    // Events of rust-cluster's supervision (see `Supervision`).
    once(event: 'replace', listener: (worker: Worker, old: Worker, reason: ReplaceReason, info?: { delay: number; code: number | null; signal: string | null }) => void): this;
    once(event: 'crashloop', listener: (info: CrashLoopInfo) => void): this;
    once(event: 'hang', listener: (worker: Worker, silentForMs: number) => void): this;
    once(event: 'memory', listener: (worker: Worker, rss: number) => void): this;
    once(event: 'maxRequests', listener: (worker: Worker, served: number) => void): this;
    once(event: 'reload', listener: (report: ReloadReport) => void): this;
    once(event: 'shutdown', listener: (info: ShutdownInfo) => void): this;
    once(event: 'upgrade', listener: (report: UpgradeReport) => void): this;

    prependListener(event: string, listener: (...args: any[]) => void): this;
    prependListener(event: 'disconnect', listener: (worker: Worker) => void): this;
    prependListener(event: 'exit', listener: (worker: Worker, code: number, signal: string) => void): this;
    prependListener(event: 'fork', listener: (worker: Worker) => void): this;
    prependListener(event: 'listening', listener: (worker: Worker, address: Address) => void): this;
    prependListener(
      event: 'message',
      listener: (worker: Worker, message: any, handle: net.Socket | net.Server) => void,
    ): this;
    prependListener(event: 'online', listener: (worker: Worker) => void): this;
    prependListener(event: 'setup', listener: (settings: ClusterSettings) => void): this;

    prependOnceListener(event: string, listener: (...args: any[]) => void): this;
    prependOnceListener(event: 'disconnect', listener: (worker: Worker) => void): this;
    prependOnceListener(event: 'exit', listener: (worker: Worker, code: number, signal: string) => void): this;
    prependOnceListener(event: 'fork', listener: (worker: Worker) => void): this;
    prependOnceListener(event: 'listening', listener: (worker: Worker, address: Address) => void): this;
    prependOnceListener(
      event: 'message',
      listener: (worker: Worker, message: any, handle: net.Socket | net.Server) => void,
    ): this;
    prependOnceListener(event: 'online', listener: (worker: Worker) => void): this;
    prependOnceListener(event: 'setup', listener: (settings: ClusterSettings) => void): this;
  }
}

/**
 * The type of the module value. `Worker` and `default` are kept out of
 * `cluster.Cluster` so that values typed with @types/node's `Cluster` (which
 * has neither) remain assignable to ours.
 */
interface ClusterModule extends cluster.Cluster, cluster.Supervision {
  /** The `Worker` class. */
  Worker: typeof Worker;
  /**
   * rust-cluster (3): each worker listens on its own SO_REUSEPORT socket and
   * the kernel spreads connections (Linux; Unix sockets and UDP as with
   * `SCHED_NONE`). Primary only, like `SCHED_RR`.
   */
  readonly SCHED_REUSEPORT: number;
  /**
   * rust-cluster (4): the primary accepts and hands each connection to the
   * worker with the fewest open connections. Primary only.
   */
  readonly SCHED_LEASTCONN: number;
  /**
   * rust-cluster (5): the primary accepts and hands each connection to the
   * worker its client IP hashes to. Primary only.
   */
  readonly SCHED_STICKY: number;
  /**
   * Which primary runs (not enumerable; primary only): `'rust'`, the Rust
   * engine, or `'node'`, the portable engine (node:cluster's own primary),
   * used where the native addon does not load or with
   * `RUST_CLUSTER_ENGINE=node`.
   */
  readonly engine: 'rust' | 'node';
  /** The cluster object itself (the default export). */
  readonly default: ClusterModule;
}

/**
 * The cluster object. Its members can also be imported by name
 * (`import { isPrimary, fork } from 'rust-cluster'`). Note that, as with
 * node:cluster, the ES module entry only exports the object's own
 * properties, not the methods it inherits from EventEmitter: in ES modules,
 * use `cluster.on(...)` rather than importing `on`.
 */
declare const cluster: ClusterModule;

export = cluster;
