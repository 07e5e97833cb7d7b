'use strict';
// Benchmark fixture: one clustered process, driven by bench/run.js. Runs
// under node (or bun), with any cluster module that follows node:cluster's
// API.
//
// Environment:
//   CLUSTER_MODULE             'node:cluster' (default) or a path to rust-cluster
//   BENCH_WORKER_MODULE        what the workers require instead (optional):
//                              'node:cluster' gives rust-cluster's primary
//                              workers that never load rust-cluster
//   NODE_CLUSTER_SCHED_POLICY  'rr' | 'none' | ... (read by the cluster module itself)
//   BENCH_MODE                 'http' (default) | 'ipc' | 'fork'
//   BENCH_WORKERS              workers to fork (http: 2, ipc: 1, fork: 8)
//   BENCH_FORK_FLOOR           fork mode: fork bare Node processes
//                              (child_process.fork of boot.js) instead of
//                              workers, for P5's floor
//   BENCH_HOST, BENCH_PORT     where the HTTP workers listen (http mode)
//   BENCH_SERIALIZATION        'json' | 'advanced' (ipc mode)
//   BENCH_ECHO                 JSON options of the echo load (ipc mode):
//                              { window, bytes, warmupMs, ms | count, gate }
//   BENCH_SETUP_PRIMARY        JSON options for cluster.setupPrimary() (optional)
//   BENCH_SCHEDULING_POLICY    value for cluster.schedulingPolicy: a number or
//                              a constant's name such as 'SCHED_RR' (optional)
//
// The primary talks to the harness with JSON lines: it writes events on
// stdout ({type: 'ready' | 'stats' | 'reset' | 'echo' | 'ipc' | 'warm' |
// 'fork' | 'error'}) and reads commands on stdin ('stats', 'reset',
// 'echo <json options>', 'go', 'exit'). When stdin closes the primary and its
// workers go away.
const path = require('node:path');

// Whether this is a worker, asked of the built-in module (Node deletes
// NODE_UNIQUE_ID before user code runs), so a worker can require another
// cluster module than its primary.
const IS_WORKER = require('node:cluster').isWorker;
const MODULE = (IS_WORKER && process.env.BENCH_WORKER_MODULE) || process.env.CLUSTER_MODULE || 'node:cluster';
const cluster = require(MODULE);
const { echoRun } = require('./echo');

const MODE = process.env.BENCH_MODE || 'http';

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

if (cluster.isPrimary) primary();
else worker();

// ---------------------------------------------------------------- worker ---

/** Whether this process loaded rust-cluster's own code (not just the fixture). */
function loadedRustCluster() {
  const root = `${path.resolve(__dirname, '..')}${path.sep}`;
  const bench = `${__dirname}${path.sep}`;
  return Object.keys(require.cache).some((f) => f.startsWith(root) && !f.startsWith(bench) &&
    !f.includes(`${path.sep}node_modules${path.sep}`));
}

function worker() {
  let connections = 0;
  let requests = 0;
  if (MODE === 'http') {
    const http = require('node:http');
    const server = http.createServer((req, res) => {
      requests++;
      res.end('ok');
    });
    server.on('connection', () => { connections++; });
    server.listen(Number(process.env.BENCH_PORT), process.env.BENCH_HOST || '127.0.0.1');
  }
  // Bench commands are answered; every other message is echoed straight back.
  process.on('message', (msg) => {
    if (msg !== null && typeof msg === 'object' && typeof msg.bench === 'string') {
      if (msg.bench === 'stats') {
        process.send({
          bench: 'stats', seq: msg.seq, pid: process.pid, connections, requests,
          rustCluster: loadedRustCluster(),
        });
      } else if (msg.bench === 'reset') {
        connections = 0;
        requests = 0;
        process.send({ bench: 'reset', seq: msg.seq });
      }
      return;
    }
    process.send(msg);
  });
}

// --------------------------------------------------------------- primary ---

let exiting = false;

function primary() {
  process.on('uncaughtException', (err) => {
    emit({ type: 'error', error: String(err && err.stack || err) });
    killAll();
    process.exit(1);
  });
  if (MODE === 'http') httpPrimary();
  else if (MODE === 'ipc') ipcPrimary();
  else if (MODE === 'fork') forkPrimary();
  else throw new Error(`unknown BENCH_MODE ${MODE}`);
}

// A contender's extra settings, applied before the first fork.
function prepare(extra) {
  const policy = process.env.BENCH_SCHEDULING_POLICY;
  if (policy) cluster.schedulingPolicy = /^\d+$/.test(policy) ? Number(policy) : cluster[policy];
  const options = process.env.BENCH_SETUP_PRIMARY ? JSON.parse(process.env.BENCH_SETUP_PRIMARY) : {};
  if (extra || Object.keys(options).length > 0) cluster.setupPrimary({ ...options, ...extra });
}

function killAll() {
  for (const w of Object.values(cluster.workers || {})) {
    try { w.process.kill('SIGKILL'); } catch { /* gone already */ }
  }
}

function leave() {
  exiting = true;
  const force = setTimeout(() => { killAll(); process.exit(0); }, 2000);
  force.unref();
  cluster.disconnect(() => process.exit(0));
}

/** Commands from the harness, one per line on stdin. */
function onCommands(handler) {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) handler(line);
    }
  });
  process.stdin.on('end', () => { killAll(); process.exit(0); });
}

function forkAll(n, onAllOnline) {
  const workers = [];
  let online = 0;
  cluster.on('online', () => {
    if (++online === n) onAllOnline(workers);
  });
  cluster.on('exit', (w, code, signal) => {
    if (!exiting) emit({ type: 'error', error: `worker ${w.id} exited (${signal || code})` });
  });
  for (let i = 0; i < n; i++) workers.push(cluster.fork());
  return workers;
}

function httpPrimary() {
  const n = Number(process.env.BENCH_WORKERS || 2);
  const t0 = process.hrtime.bigint();
  let listening = 0;
  prepare();
  const workers = forkAll(n, () => {});
  cluster.on('listening', (w, address) => {
    if (++listening === n) {
      emit({
        type: 'ready',
        pid: process.pid,
        port: address.port,
        policy: cluster.schedulingPolicy === cluster.SCHED_RR ? 'rr' : 'none',
        workers: workers.map((x) => x.process.pid),
        startMs: Number(process.hrtime.bigint() - t0) / 1e6,
      });
    }
  });

  // Collect one reply from each worker for a request to all of them.
  let seq = 0;
  const pending = new Map();
  cluster.on('message', (w, msg) => {
    if (msg === null || typeof msg !== 'object' || typeof msg.bench !== 'string' || !pending.has(msg.seq)) return;
    const p = pending.get(msg.seq);
    p.replies[workers.indexOf(w)] = msg;
    if (++p.count === workers.length) {
      pending.delete(msg.seq);
      clearTimeout(p.timer);
      p.done(p.replies);
    }
  });
  function askAll(what, done) {
    const s = ++seq;
    const timer = setTimeout(() => {
      pending.delete(s);
      emit({ type: 'error', error: `no '${what}' answer from every worker within 10 s` });
    }, 10000);
    pending.set(s, { replies: new Array(workers.length), count: 0, done, timer });
    for (const w of workers) w.send({ bench: what, seq: s });
  }

  onCommands((line) => {
    if (line === 'stats') {
      askAll('stats', (replies) => emit({
        type: 'stats',
        workers: replies.map((r) => ({
          pid: r.pid, connections: r.connections, requests: r.requests, rustCluster: r.rustCluster,
        })),
      }));
    } else if (line === 'reset') {
      askAll('reset', () => emit({ type: 'reset' }));
    } else if (line.startsWith('echo ')) {
      echoRun(workers, JSON.parse(line.slice(5))).then((r) => emit({ type: 'echo', ...r }));
    } else if (line === 'exit') {
      leave();
    }
  });
}

function ipcPrimary() {
  const serialization = process.env.BENCH_SERIALIZATION || 'json';
  const n = Number(process.env.BENCH_WORKERS || 1);
  const opts = JSON.parse(process.env.BENCH_ECHO || '{}');
  let go = null;
  onCommands((line) => {
    if (line === 'go' && go) go();
    else if (line === 'exit') leave();
  });
  if (opts.gate) {
    // Between warm-up and measurement: tell the harness, wait for 'go'.
    opts.gate = () => new Promise((resolve) => {
      go = resolve;
      emit({ type: 'warm', pid: process.pid });
    });
  }
  try {
    prepare({ serialization });
  } catch (err) {
    emit({ type: 'ipc', error: `setupPrimary({ serialization: '${serialization}' }) threw: ${err.message}` });
    process.exit(0);
  }
  forkAll(n, (workers) => {
    echoRun(workers, opts).then((r) => {
      emit({ type: 'ipc', serialization, bytes: opts.bytes, ...r });
      // Under strace (gate) the harness detaches first, then says 'exit'.
      if (!opts.gate) leave();
    });
  });
}

function forkPrimary() {
  const n = Number(process.env.BENCH_WORKERS || 8);
  const t0 = process.hrtime.bigint();
  const guard = setTimeout(() => {
    emit({ type: 'fork', error: `not every one of ${n} workers online after 30 s` });
    killAll();
    process.exit(0);
  }, 30000);
  const done = () => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    clearTimeout(guard);
    emit({ type: 'fork', workers: n, ms });
  };
  if (process.env.BENCH_FORK_FLOOR) return forkBare(n, done);
  prepare();
  forkAll(n, () => {
    done();
    leave();
  });
}

// What no cluster module can beat: n Node processes, each up once it can
// send a message (a worker's 'online' comes at the same point of its boot).
function forkBare(n, done) {
  const { fork } = require('node:child_process');
  let up = 0;
  for (let i = 0; i < n; i++) {
    fork(path.join(__dirname, 'boot.js')).once('message', () => {
      if (++up === n) done();
    });
  }
}
