'use strict';
// Benchmark fixture: one clustered process, driven by bench/run.js.
//
// Environment:
//   CLUSTER_MODULE             'node:cluster' (default) or a path to rust-cluster
//   NODE_CLUSTER_SCHED_POLICY  'rr' | 'none' (read by the cluster module itself)
//   BENCH_MODE                 'http' (default) | 'ipc' | 'fork'
//   BENCH_WORKERS              workers to fork (http: 2, fork: 8)
//   BENCH_HOST, BENCH_PORT     where the HTTP workers listen (http mode)
//   BENCH_SERIALIZATION        'json' | 'advanced' (ipc mode)
//   BENCH_MSG_BYTES            message size in bytes (ipc mode)
//   BENCH_IPC_MS, BENCH_IPC_WARMUP_MS, BENCH_IPC_WINDOW (ipc mode)
//   BENCH_SETUP_PRIMARY        JSON options for cluster.setupPrimary() (optional)
//   BENCH_SCHEDULING_POLICY    value for cluster.schedulingPolicy: a number or
//                              a constant's name such as 'SCHED_RR' (optional)
//
// The primary talks to the harness with JSON lines: it writes events on
// stdout ({type: 'ready' | 'stats' | 'reset' | 'ipc' | 'fork' | 'error'}) and
// reads commands on stdin ('stats', 'reset', 'exit'). When stdin closes the
// primary and its workers go away.
const cluster = require(process.env.CLUSTER_MODULE || 'node:cluster');

const MODE = process.env.BENCH_MODE || 'http';

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

if (cluster.isPrimary) primary();
else worker();

// ---------------------------------------------------------------- worker ---

function worker() {
  if (MODE === 'http') {
    const http = require('node:http');
    let connections = 0;
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      res.end('ok');
    });
    server.on('connection', () => { connections++; });
    server.listen(Number(process.env.BENCH_PORT), process.env.BENCH_HOST || '127.0.0.1');
    process.on('message', (msg) => {
      if (msg === null || typeof msg !== 'object' || typeof msg.bench !== 'string') return;
      if (msg.bench === 'stats') {
        process.send({ bench: 'stats', seq: msg.seq, pid: process.pid, connections, requests });
      } else if (msg.bench === 'reset') {
        connections = 0;
        requests = 0;
        process.send({ bench: 'reset', seq: msg.seq });
      }
    });
  } else if (MODE === 'ipc') {
    // Echo every message straight back.
    process.on('message', (msg) => { process.send(msg); });
  } else {
    // fork mode: just stay alive until disconnected.
    process.on('message', () => {});
  }
}

// --------------------------------------------------------------- primary ---

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

function httpPrimary() {
  const n = Number(process.env.BENCH_WORKERS || 2);
  const t0 = process.hrtime.bigint();
  let listening = 0;
  let port = null;
  const workers = [];
  cluster.on('listening', (w, address) => {
    port = address.port;
    if (++listening === n) {
      emit({
        type: 'ready',
        pid: process.pid,
        port,
        policy: cluster.schedulingPolicy === cluster.SCHED_RR ? 'rr' : 'none',
        workers: workers.map((x) => x.process.pid),
        startMs: Number(process.hrtime.bigint() - t0) / 1e6,
      });
    }
  });
  cluster.on('exit', (w, code, signal) => {
    if (!exiting) emit({ type: 'error', error: `worker ${w.id} exited (${signal || code})` });
  });
  prepare();
  for (let i = 0; i < n; i++) workers.push(cluster.fork());

  // Collect one reply from each worker for a request to all of them.
  let seq = 0;
  const pending = new Map();
  cluster.on('message', (w, msg) => {
    if (msg === null || typeof msg !== 'object' || !pending.has(msg.seq)) return;
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

  let exiting = false;
  onCommands((line) => {
    if (line === 'stats') {
      askAll('stats', (replies) => emit({
        type: 'stats',
        workers: replies.map((r) => ({ pid: r.pid, connections: r.connections, requests: r.requests })),
      }));
    } else if (line === 'reset') {
      askAll('reset', () => emit({ type: 'reset' }));
    } else if (line === 'exit') {
      exiting = true;
      const force = setTimeout(() => { killAll(); process.exit(0); }, 2000);
      force.unref();
      cluster.disconnect(() => process.exit(0));
    }
  });
}

function makeMessage(bytes) {
  // `bytes` is the size of the message on the wire for json (the JSON text);
  // advanced carries the same object (its V8 encoding is a few bytes off).
  const base = { seq: 0, pad: '' };
  const overhead = JSON.stringify({ ...base, seq: 1000000 }).length;
  base.pad = 'x'.repeat(Math.max(0, bytes - overhead));
  return base;
}

function ipcPrimary() {
  const serialization = process.env.BENCH_SERIALIZATION || 'json';
  const bytes = Number(process.env.BENCH_MSG_BYTES || 50);
  const measureMs = Number(process.env.BENCH_IPC_MS || 1000);
  const warmupMs = Number(process.env.BENCH_IPC_WARMUP_MS || 200);
  const window = Number(process.env.BENCH_IPC_WINDOW || 1);
  const msg = makeMessage(bytes);
  const padLen = msg.pad.length;

  let finished = false;
  function finish(result) {
    if (finished) return;
    finished = true;
    emit({ type: 'ipc', serialization, bytes, window, ...result });
    killAll();
    process.exit(0);
  }
  const guard = setTimeout(() => finish({ error: 'timed out (no result within the time limit)' }),
    warmupMs + measureMs + 10000);

  try {
    prepare({ serialization });
  } catch (err) {
    finish({ error: `setupPrimary({ serialization: '${serialization}' }) threw: ${err.message}` });
    return;
  }
  const w = cluster.fork();
  w.on('error', (err) => finish({ error: `worker error: ${err.message}` }));
  w.on('exit', (code, signal) => finish({ error: `worker exited (${signal || code})` }));

  let phase = 'warmup';
  let sent = 0;
  let received = 0;
  let measured = 0;
  let tStart = 0n;
  let stall = null;

  function armStall() {
    clearTimeout(stall);
    stall = setTimeout(() => finish({ error: 'an echo did not come back within 5 s' }), 5000);
  }

  function sendOne() {
    msg.seq = sent++;
    w.send(msg, (err) => { if (err) finish({ error: `send failed: ${err.message}` }); });
  }

  w.on('message', (echo) => {
    if (finished) return;
    if (echo === null || typeof echo !== 'object' || echo.seq !== received ||
        typeof echo.pad !== 'string' || echo.pad.length !== padLen) {
      finish({ error: `bad echo #${received}: ${JSON.stringify(echo).slice(0, 120)}` });
      return;
    }
    received++;
    armStall();
    if (phase === 'measure') measured++;
    if (phase !== 'done') sendOne();
  });

  w.once('online', () => {
    armStall();
    for (let i = 0; i < window; i++) sendOne();
  });

  // The clock starts with the first echo: warm-up, then the measurement.
  w.once('message', () => {
    setTimeout(() => {
      phase = 'measure';
      tStart = process.hrtime.bigint();
      setTimeout(() => {
        phase = 'done';
        const ms = Number(process.hrtime.bigint() - tStart) / 1e6;
        clearTimeout(guard);
        finish({ roundTrips: measured, ms, perSec: measured / (ms / 1000) });
      }, measureMs);
    }, warmupMs);
  });
}

function forkPrimary() {
  const n = Number(process.env.BENCH_WORKERS || 8);
  let online = 0;
  const t0 = process.hrtime.bigint();
  const guard = setTimeout(() => {
    emit({ type: 'fork', error: `only ${online}/${n} workers online after 30 s` });
    killAll();
    process.exit(0);
  }, 30000);
  cluster.on('online', () => {
    if (++online === n) {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(guard);
      emit({ type: 'fork', workers: n, ms });
      const force = setTimeout(() => { killAll(); process.exit(0); }, 2000);
      force.unref();
      cluster.disconnect(() => process.exit(0));
    }
  });
  prepare();
  for (let i = 0; i < n; i++) cluster.fork();
}
