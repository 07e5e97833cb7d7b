#!/usr/bin/env node
'use strict';
// Benchmark harness: node:cluster against rust-cluster, side by side, in one
// run, on loopback. `node bench/run.js [--quick]` (npm run bench [-- --quick]).
// See bench/README.md for what each figure means.
//
// Options:
//   --quick              short runs (about 2 minutes in all)
//   --only=ID,ID         run only these contenders (the baseline is added)
//   --rounds=N           repetitions of every measurement (at least 3)
//   --generator=NAME     wrk | autocannon (default: wrk when installed)
//   --pin=MODE           split (generator on CPU 0, servers on CPU 1) | none
//   --phases=LIST        http,ipc,fork (default all): http is P1 P2 P3 P6 RSS,
//                        ipc is P4, fork is P5
//   --out=FILE           JSON output (default bench/results/latest.json)
//   --list               print the contenders and exit
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SERVER = path.join(__dirname, 'server.js');

// ------------------------------------------------------------ contenders ---
// One row per contender. `module` is what the fixture requires as its cluster
// module, `env` is added to its environment (NODE_CLUSTER_SCHED_POLICY is
// read by both cluster modules), `setupPrimary` (optional) is passed to
// cluster.setupPrimary() before the first fork, `schedulingPolicy`
// (optional) is assigned to cluster.schedulingPolicy before the first fork
// (a number, or the name of a constant on the cluster module such as
// 'SCHED_RR'). To add a policy, add a row.
const CONTENDERS = [
  { id: 'node-rr', label: 'node:cluster SCHED_RR', module: 'node:cluster', env: { NODE_CLUSTER_SCHED_POLICY: 'rr' } },
  { id: 'node-none', label: 'node:cluster SCHED_NONE', module: 'node:cluster', env: { NODE_CLUSTER_SCHED_POLICY: 'none' } },
  { id: 'rust-rr', label: 'rust-cluster round robin', module: ROOT, env: { NODE_CLUSTER_SCHED_POLICY: 'rr' } },
  { id: 'rust-none', label: 'rust-cluster SCHED_NONE', module: ROOT, env: { NODE_CLUSTER_SCHED_POLICY: 'none' } },
  { id: 'rust-reuseport', label: 'rust-cluster reuseport', module: ROOT, env: { NODE_CLUSTER_SCHED_POLICY: 'reuseport' } },
  { id: 'rust-leastconn', label: 'rust-cluster leastconn', module: ROOT, env: { NODE_CLUSTER_SCHED_POLICY: 'leastconn' } },
  { id: 'rust-sticky', label: 'rust-cluster sticky', module: ROOT, env: { NODE_CLUSTER_SCHED_POLICY: 'sticky' } },
];
const BASELINE = 'node-rr';

// -------------------------------------------------------------- settings ---
const MODES = {
  quick: {
    rounds: 3,
    concurrency: 32,
    warmup: { count: 1000 },
    // P1/P2/P6 come from one run of 20,000 connections.
    p1: { count: 20000 },
    p6: null,
    p3Seconds: 1,
    restMs: 200,
    ipc: { ms: 400, warmupMs: 100, window: 16 },
    forkRounds: 3,
  },
  full: {
    rounds: 5,
    concurrency: 32,
    warmup: { count: 5000 },
    // P1/P2 from a timed run, P6 from its own run of 20,000 connections.
    p1: { seconds: 5 },
    p6: { count: 20000 },
    p3Seconds: 5,
    restMs: 1000,
    ipc: { ms: 1500, warmupMs: 300, window: 16 },
    forkRounds: 5,
  },
};
const P6_CONNECTIONS = 20000;
const IPC_VARIANTS = [
  { key: 'P4_json_50B', serialization: 'json', bytes: 50 },
  { key: 'P4_json_64KiB', serialization: 'json', bytes: 65536 },
  { key: 'P4_advanced_50B', serialization: 'advanced', bytes: 50 },
  { key: 'P4_advanced_64KiB', serialization: 'advanced', bytes: 65536 },
];
const FORK_WORKERS = 8;
const HTTP_WORKERS = 2;

const METRICS = {
  P1: { title: 'P1 new connections/s (Connection: close)', unit: 'conn/s', better: 'higher', digits: 0 },
  P2: { title: 'P2 primary CPU ms per 10,000 connections', unit: 'ms', better: 'lower', digits: 1 },
  P3: { title: 'P3 keep-alive requests/s', unit: 'req/s', better: 'higher', digits: 0 },
  P4_json_50B: { title: 'P4 IPC echo round trips/s, json 50 B', unit: 'msg/s', better: 'higher', digits: 0, shared: true },
  P4_json_64KiB: { title: 'P4 IPC echo round trips/s, json 64 KiB', unit: 'msg/s', better: 'higher', digits: 0, shared: true },
  P4_advanced_50B: { title: 'P4 IPC echo round trips/s, advanced 50 B', unit: 'msg/s', better: 'higher', digits: 0, shared: true },
  P4_advanced_64KiB: { title: 'P4 IPC echo round trips/s, advanced 64 KiB', unit: 'msg/s', better: 'higher', digits: 0, shared: true },
  P5: { title: `P5 fork() of ${FORK_WORKERS} workers to all online`, unit: 'ms', better: 'lower', digits: 0, shared: true },
  P6: { title: `P6 fairness: max/min connections per worker over ${P6_CONNECTIONS.toLocaleString('en-US')}`, unit: 'ratio', better: 'lower', digits: 3 },
  RSS_rest: { title: 'primary RSS at rest', unit: 'MiB', better: 'lower', digits: 1 },
  RSS_load: { title: 'primary RSS under load (peak during P1)', unit: 'MiB', better: 'lower', digits: 1 },
};

// ----------------------------------------------------------------- args ---
function parseArgs(argv) {
  const args = { quick: false };
  for (const a of argv) {
    if (a === '--quick') args.quick = true;
    else if (a === '--full') args.quick = false;
    else if (a === '--list') args.list = true;
    else if (a.startsWith('--only=')) args.only = a.slice(7).split(',').filter(Boolean);
    else if (a.startsWith('--rounds=')) args.rounds = Number(a.slice(9));
    else if (a.startsWith('--generator=')) args.generator = a.slice(12);
    else if (a.startsWith('--pin=')) args.pin = a.slice(6);
    else if (a.startsWith('--out=')) args.out = path.resolve(a.slice(6));
    else if (a.startsWith('--phases=')) args.phases = a.slice(9).split(',').filter(Boolean);
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown option ${a} (try --help)`);
  }
  return args;
}

// ---------------------------------------------------------------- helpers ---
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function onPath(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return path.join(dir, cmd);
    } catch { /* next */ }
  }
  return null;
}

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { /* default */ }

/** utime + stime of a process (all its threads) in milliseconds. */
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** VmRSS in MiB. */
function rssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) / 1024 : null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const children = new Set();
function killChildren() {
  for (const child of children) {
    for (const pid of child.extraPids || []) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killChildren(); process.exit(130); });
}

function withPin(cpus, cmd, args) {
  if (cpus == null) return [cmd, args];
  return ['taskset', ['-c', cpus, cmd, ...args]];
}

// -------------------------------------------------------- server fixture ---
class Fixture {
  constructor(contender, env, pinCpus) {
    this.contender = contender;
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
    const [cmd, args] = withPin(pinCpus, process.execPath, [SERVER]);
    this.child = spawn(cmd, args, {
      env: {
        ...process.env,
        ...contender.env,
        ...env,
        CLUSTER_MODULE: contender.module,
        BENCH_SETUP_PRIMARY: contender.setupPrimary ? JSON.stringify(contender.setupPrimary) : '',
        BENCH_SCHEDULING_POLICY: contender.schedulingPolicy != null ? String(contender.schedulingPolicy) : '',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(this.child);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      children.delete(this.child);
      this.exitInfo = { code, signal };
      resolve();
      this.flush();
    }));
    let buf = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg;
        try { msg = JSON.parse(line); } catch { continue; }
        if (msg && typeof msg === 'object' && msg.type) this.push(msg);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => { if (this.stderr.length < 20000) this.stderr += d; });
    this.child.stdin.on('error', () => {});
  }

  push(msg) {
    if (msg.type === 'error') {
      (this.errors || (this.errors = [])).push(msg.error);
    }
    this.lines.push(msg);
    this.flush();
  }

  flush() {
    for (const w of [...this.waiters]) {
      const i = this.lines.findIndex((m) => m.type === w.type || (m.type === 'error' && w.failOnError));
      if (i !== -1) {
        const [msg] = this.lines.splice(i, 1);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        if (msg.type === 'error') w.reject(new Error(msg.error));
        else w.resolve(msg);
      } else if (this.exitInfo) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        const why = this.exitInfo.signal || `code ${this.exitInfo.code}`;
        w.reject(new Error(`fixture exited (${why}) before '${w.type}'${this.stderrTail()}`));
      }
    }
  }

  stderrTail() {
    const lines = this.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    if (lines.length === 0) return '';
    const error = lines.find((l) => /^([A-Z]\w*)?Error\b|^\w+Error:|Error \[/.test(l));
    return `: ${error || lines[lines.length - 1]}`;
  }

  /** Next message of this type (errors reported by the fixture reject). */
  wait(type, timeoutMs, failOnError = true) {
    return new Promise((resolve, reject) => {
      const w = { type, resolve, reject, failOnError };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no '${type}' from the fixture within ${timeoutMs} ms${this.stderrTail()}`));
      }, timeoutMs);
      this.waiters.push(w);
      this.flush();
    });
  }

  command(line) {
    this.child.stdin.write(`${line}\n`);
  }

  async stop() {
    if (!this.exitInfo) {
      this.command('exit');
      this.child.stdin.end();
      const t = setTimeout(() => {
        for (const pid of this.child.extraPids || []) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
        this.child.kill('SIGKILL');
      }, 5000);
      await this.exited;
      clearTimeout(t);
    }
    // Workers should have gone with their primary; make sure.
    for (const pid of this.child.extraPids || []) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

// --------------------------------------------------------- load generator ---
function parseWrkTime(value, unit) {
  const n = Number(value);
  switch (unit) {
    case 'us': return n / 1e6;
    case 'ms': return n / 1e3;
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    default: return NaN;
  }
}

function runWrk({ port, connections, close, seconds, count, pinCpus }) {
  const duration = count ? Math.max(30, Math.ceil(count / 500)) : seconds;
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--timeout', '10s'];
  if (close) args.push('-H', 'Connection: close');
  if (count) args.push('-s', path.join(__dirname, 'wrk-count.lua'));
  args.push(`http://127.0.0.1:${port}/`);
  const [cmd, cmdArgs] = withPin(pinCpus, 'wrk', args);
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, {
      env: { ...process.env, BENCH_WRK_LIMIT: String(count || 0) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    let err = '';
    let stopped = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      if (count && !stopped && out.includes('BENCH_DONE')) {
        stopped = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      children.delete(child);
      const m = /(\d+) requests in ([\d.]+)(us|ms|s|m|h),/.exec(out);
      if (!m) {
        resolve({ error: `wrk failed (${signal || code}): ${(err || out).trim().slice(0, 300)}` });
        return;
      }
      const requests = Number(m[1]);
      const secondsRun = parseWrkTime(m[2], m[3]);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const non = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      const errors = sock ? Number(sock[1]) + Number(sock[2]) + Number(sock[3]) : 0;
      const timeouts = sock ? Number(sock[4]) : 0;
      const non2xx = non ? Number(non[1]) : 0;
      const result = { requests, seconds: secondsRun, rps: requests / secondsRun, non2xx, errors, timeouts };
      if (sock) result.socketErrors = sock[0];
      if (count && !stopped) result.error = `wrk stopped after ${requests} of ${count} responses`;
      resolve(result);
    });
  });
}

function runAutocannon({ port, connections, close, seconds, count, pinCpus }) {
  const opts = { url: `http://127.0.0.1:${port}/`, connections, close };
  if (count) opts.amount = count;
  else opts.duration = seconds;
  const [cmd, args] = withPin(pinCpus, process.execPath, [path.join(__dirname, 'autocannon-load.js'), JSON.stringify(opts)]);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      children.delete(child);
      let r;
      try { r = JSON.parse(out.trim().split('\n').pop()); } catch { r = null; }
      if (!r || r.error) {
        resolve({ error: `autocannon failed (${signal || code}): ${(r && r.error) || (err || out).trim().slice(0, 300)}` });
        return;
      }
      resolve({
        requests: r.requests,
        seconds: r.seconds,
        rps: r.requests / r.seconds,
        non2xx: r.non2xx,
        errors: Math.max(0, r.errors - r.timeouts),
        timeouts: r.timeouts,
      });
    });
  });
}

// ------------------------------------------------------------ the bench ---
class Bench {
  constructor(args) {
    this.mode = args.quick ? 'quick' : 'full';
    this.cfg = { ...MODES[this.mode] };
    if (args.rounds) this.cfg.rounds = Math.max(3, args.rounds);
    if (args.rounds) this.cfg.forkRounds = Math.max(3, args.rounds);
    this.phases = args.phases || ['http', 'ipc', 'fork'];
    for (const p of this.phases) {
      if (!['http', 'ipc', 'fork'].includes(p)) throw new Error(`unknown phase ${p} (http, ipc, fork)`);
    }

    let ids = args.only ? [BASELINE, ...args.only.filter((id) => id !== BASELINE)] : CONTENDERS.map((c) => c.id);
    this.contenders = ids.map((id) => {
      const c = CONTENDERS.find((x) => x.id === id);
      if (!c) throw new Error(`unknown contender ${id} (known: ${CONTENDERS.map((x) => x.id).join(', ')})`);
      return c;
    });

    const wrk = onPath('wrk');
    let autocannonOk = true;
    try { require.resolve('autocannon', { paths: [ROOT] }); } catch { autocannonOk = false; }
    const want = args.generator || (wrk ? 'wrk' : 'autocannon');
    if (want === 'wrk' && !wrk) throw new Error('wrk is not installed');
    if (want === 'autocannon' && !autocannonOk) {
      throw new Error('no load generator: install wrk, or autocannon (npm install, it is a devDependency)');
    }
    if (want !== 'wrk' && want !== 'autocannon') throw new Error(`unknown generator ${want}`);
    this.generatorName = want;
    if (want === 'wrk') {
      let version = 'wrk';
      try {
        const out = require('node:child_process').spawnSync('wrk', ['-v'], { encoding: 'utf8' });
        const m = /^wrk\s+\S+/m.exec(`${out.stdout || ''}${out.stderr || ''}`);
        if (m) version = m[0];
      } catch { /* keep 'wrk' */ }
      this.generator = { name: 'wrk', version, run: runWrk };
    } else {
      const version = require(require.resolve('autocannon/package.json', { paths: [ROOT] })).version;
      this.generator = { name: 'autocannon', version: `autocannon ${version}`, run: runAutocannon };
    }

    const pin = args.pin || 'split';
    const cpus = os.cpus().length;
    if (pin === 'split' && onPath('taskset') && cpus >= 2) {
      this.pin = {
        mode: 'split',
        generator: '0',
        server: cpus === 2 ? '1' : `1-${cpus - 1}`,
      };
      this.pin.text = `yes (taskset): load generator on CPU ${this.pin.generator}, ` +
        `server processes (primary + workers) on CPU ${this.pin.server}`;
    } else {
      this.pin = { mode: 'none', generator: null, server: null };
      this.pin.text = pin === 'none' ? 'no (--pin=none)' : 'no (taskset missing or a single CPU)';
    }

    this.runs = {};
    for (const k of Object.keys(METRICS)) {
      this.runs[k] = {};
      for (const c of this.contenders) this.runs[k][c.id] = [];
    }
    this.problems = [];
    this.checks = { closeRequestsPerConnection: {} };
  }

  log(msg) {
    process.stderr.write(`${msg}\n`);
  }

  problem(contender, metric, message) {
    message = String(message).replace(/\s+/g, ' ').trim().slice(0, 400);
    this.problems.push({ contender: contender.id, metric, message });
    this.log(`  ! ${contender.id} ${metric}: ${message}`);
  }

  load(opts) {
    return this.generator.run({ ...opts, connections: this.cfg.concurrency, pinCpus: this.pin.generator });
  }

  /** A load run's own failures (errors, timeouts, non-2xx) become problems. */
  checkLoad(contender, metric, r) {
    if (r.error) { this.problem(contender, metric, r.error); return false; }
    let ok = true;
    if (r.errors > 0 || r.timeouts > 0) {
      this.problem(contender, metric, `${r.errors} socket errors, ${r.timeouts} timeouts${r.socketErrors ? ` (${r.socketErrors})` : ''}`);
      ok = false;
    }
    if (r.non2xx > 0) {
      this.problem(contender, metric, `${r.non2xx} non-2xx responses`);
      ok = false;
    }
    if (r.requests === 0) {
      this.problem(contender, metric, 'no responses');
      ok = false;
    }
    return ok;
  }

  /** A Connection: close run, bracketed by counter reset / stats, CPU, RSS. */
  async closeRun(fx, ready, { seconds, count }) {
    fx.command('reset');
    await fx.wait('reset', 10000);
    const pid = ready.pid;
    let rssPeak = rssMiB(pid);
    const sampler = setInterval(() => {
      try { rssPeak = Math.max(rssPeak, rssMiB(pid)); } catch { /* exiting */ }
    }, 100);
    const cpu0 = cpuMs(pid);
    const r = await this.load({ port: ready.port, close: true, seconds, count });
    const cpu1 = cpuMs(pid);
    clearInterval(sampler);
    try { rssPeak = Math.max(rssPeak, rssMiB(pid)); } catch { /* exiting */ }
    fx.command('stats');
    const stats = await fx.wait('stats', 10000);
    const perWorker = stats.workers.map((w) => w.connections);
    const connections = perWorker.reduce((a, b) => a + b, 0);
    const requests = stats.workers.reduce((a, w) => a + w.requests, 0);
    return { ...r, cpuMs: cpu1 - cpu0, rssPeak, perWorker, connections, served: requests };
  }

  async httpRound(contender, round) {
    const tag = `${contender.id} round ${round}`;
    const port = await freePort();
    const fx = new Fixture(contender, {
      BENCH_MODE: 'http', BENCH_WORKERS: String(HTTP_WORKERS), BENCH_PORT: String(port), BENCH_HOST: '127.0.0.1',
    }, this.pin.server);
    try {
      let ready;
      try {
        ready = await fx.wait('ready', 30000);
      } catch (err) {
        this.problem(contender, 'start', err.message);
        return;
      }
      fx.child.extraPids = ready.workers;
      await sleep(this.cfg.restMs);
      this.runs.RSS_rest[contender.id].push(rssMiB(ready.pid));

      // Warm up (JIT, accept queues); not measured.
      const warm = await this.load({ port, close: true, ...this.cfg.warmup });
      this.checkLoad(contender, 'warmup', warm);

      // P1 / P2 / RSS under load (and P6 in quick mode).
      const p1 = await this.closeRun(fx, ready, this.cfg.p1);
      if (this.checkLoad(contender, 'P1', p1)) {
        this.runs.P1[contender.id].push(p1.rps);
        this.runs.P2[contender.id].push((p1.cpuMs / p1.connections) * 10000);
        this.runs.RSS_load[contender.id].push(p1.rssPeak);
        this.noteConnCheck(contender, p1);
      }
      let p6 = this.cfg.p6 ? null : p1;
      if (this.cfg.p6) {
        p6 = await this.closeRun(fx, ready, this.cfg.p6);
        if (!this.checkLoad(contender, 'P6', p6)) p6 = null;
        else this.noteConnCheck(contender, p6);
      }
      if (p6 && p6.requests) {
        const min = Math.min(...p6.perWorker);
        const max = Math.max(...p6.perWorker);
        this.runs.P6[contender.id].push(min > 0 ? max / min : Infinity);
      }

      // P3 keep-alive.
      const p3 = await this.load({ port, close: false, seconds: this.cfg.p3Seconds });
      if (this.checkLoad(contender, 'P3', p3)) this.runs.P3[contender.id].push(p3.rps);

      if (fx.errors) for (const e of fx.errors) this.problem(contender, 'server', e);
      this.log(`  ${tag}: P1 ${fmt(p1.rps, 0)} conn/s, P2 ${fmt((p1.cpuMs / p1.connections) * 10000, 1)} ms, ` +
        `P3 ${fmt(p3.rps, 0)} req/s, P6 ${p6 ? p6.perWorker.join('/') : '-'}, ` +
        `RSS ${fmt(this.runs.RSS_rest[contender.id].at(-1), 1)}/${fmt(p1.rssPeak, 1)} MiB`);
    } catch (err) {
      this.problem(contender, 'http', err.message);
    } finally {
      await fx.stop();
    }
  }

  noteConnCheck(contender, r) {
    // Connection: close must mean one connection per request.
    const perConn = r.connections ? r.served / r.connections : 0;
    (this.checks.closeRequestsPerConnection[contender.id] ||= []).push(Number(perConn.toFixed(4)));
    if (perConn > 1.01) {
      this.problem(contender, 'P1', `Connection: close was not honoured: ${perConn.toFixed(3)} requests per connection`);
    }
  }

  /** Contenders that differ only in scheduling policy share P4/P5 runs. */
  groups() {
    const groups = new Map();
    for (const c of this.contenders) {
      const env = { ...c.env };
      delete env.NODE_CLUSTER_SCHED_POLICY;
      const key = JSON.stringify([c.module, env, c.setupPrimary || null]);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(c);
    }
    return [...groups.values()];
  }

  async ipcRun(group, variant) {
    const c = group[0];
    const fx = new Fixture(c, {
      BENCH_MODE: 'ipc',
      BENCH_SERIALIZATION: variant.serialization,
      BENCH_MSG_BYTES: String(variant.bytes),
      BENCH_IPC_MS: String(this.cfg.ipc.ms),
      BENCH_IPC_WARMUP_MS: String(this.cfg.ipc.warmupMs),
      BENCH_IPC_WINDOW: String(this.cfg.ipc.window),
    }, this.pin.server);
    try {
      const r = await fx.wait('ipc', this.cfg.ipc.ms + this.cfg.ipc.warmupMs + 20000);
      if (r.error) throw new Error(r.error);
      for (const m of group) this.runs[variant.key][m.id].push(r.perSec);
      return r.perSec;
    } catch (err) {
      for (const m of group) this.problem(m, variant.key, err.message);
      return null;
    } finally {
      await fx.stop();
    }
  }

  async forkRun(group) {
    const c = group[0];
    const fx = new Fixture(c, { BENCH_MODE: 'fork', BENCH_WORKERS: String(FORK_WORKERS) }, this.pin.server);
    try {
      const r = await fx.wait('fork', 40000);
      if (r.error) throw new Error(r.error);
      for (const m of group) this.runs.P5[m.id].push(r.ms);
      return r.ms;
    } catch (err) {
      for (const m of group) this.problem(m, 'P5', err.message);
      return null;
    } finally {
      await fx.stop();
    }
  }

  async run() {
    const t0 = Date.now();
    const cfg = this.cfg;
    this.log(`rust-cluster bench (${this.mode}): ${this.contenders.map((c) => c.id).join(', ')}; ` +
      `generator ${this.generator.version}; pinned: ${this.pin.text}`);

    this.log(`HTTP (P1, P2, P3, P6, RSS): ${cfg.rounds} rounds, ${HTTP_WORKERS} workers, concurrency ${cfg.concurrency}`);
    for (let round = 1; this.phases.includes('http') && round <= cfg.rounds; round++) {
      // Rotate the order so no contender always runs first or last.
      const n = this.contenders.length;
      for (let i = 0; i < n; i++) {
        await this.httpRound(this.contenders[(i + round - 1) % n], round);
      }
    }

    this.phaseSeconds = { http: (Date.now() - t0) / 1000 };
    let t = Date.now();
    const groups = this.groups();
    this.log(`IPC (P4): ${cfg.rounds} rounds, window ${cfg.ipc.window} messages in flight, ${cfg.ipc.ms} ms each`);
    for (let round = 1; this.phases.includes('ipc') && round <= cfg.rounds; round++) {
      for (const group of groups) {
        const parts = [];
        for (const v of IPC_VARIANTS) {
          const r = await this.ipcRun(group, v);
          parts.push(`${v.key.slice(3)} ${r == null ? 'FAILED' : fmt(r, 0)}`);
        }
        this.log(`  ${group.map((c) => c.id).join('+')} round ${round}: ${parts.join(', ')}`);
      }
    }

    this.phaseSeconds.ipc = (Date.now() - t) / 1000;
    t = Date.now();
    this.log(`fork (P5): ${cfg.forkRounds} rounds of ${FORK_WORKERS} workers`);
    for (let round = 1; this.phases.includes('fork') && round <= cfg.forkRounds; round++) {
      for (const group of groups) {
        const ms = await this.forkRun(group);
        this.log(`  ${group.map((c) => c.id).join('+')} round ${round}: ${ms == null ? 'FAILED' : `${fmt(ms, 0)} ms`}`);
      }
    }

    this.phaseSeconds.fork = (Date.now() - t) / 1000;
    this.seconds = (Date.now() - t0) / 1000;
    this.log(`took ${fmt(this.seconds, 0)} s (HTTP ${fmt(this.phaseSeconds.http, 0)} s, ` +
      `IPC ${fmt(this.phaseSeconds.ipc, 0)} s, fork ${fmt(this.phaseSeconds.fork, 0)} s)`);
    return this.report();
  }

  report() {
    const metrics = {};
    const ratios = {};
    for (const [k, info] of Object.entries(METRICS)) {
      metrics[k] = {};
      ratios[k] = {};
      for (const c of this.contenders) {
        const runs = this.runs[k][c.id];
        const med = median(runs);
        metrics[k][c.id] = { median: jsonNum(med), runs: runs.map(jsonNum), cv: jsonNum(cv(runs)) };
        if (info.shared) metrics[k][c.id].sharedWith = this.groups().find((g) => g.includes(c)).map((x) => x.id);
      }
      const base = median(this.runs[k][BASELINE]);
      for (const c of this.contenders) {
        const med = median(this.runs[k][c.id]);
        ratios[k][c.id] = base && med != null && Number.isFinite(base) && Number.isFinite(med) ? round4(med / base) : null;
      }
    }
    const cpu = os.cpus();
    return {
      date: new Date().toISOString(),
      mode: this.mode,
      machine: { cpus: cpu.length, model: cpu[0] ? cpu[0].model : null, kernel: `${os.type()} ${os.release()}`, arch: os.arch(), memoryGiB: round4(os.totalmem() / 2 ** 30) },
      node: process.version,
      generator: this.generator.version,
      pinned: { mode: this.pin.mode, generatorCpus: this.pin.generator, serverCpus: this.pin.server, text: this.pin.text },
      baseline: BASELINE,
      contenders: this.contenders.map((c) => ({ id: c.id, label: c.label, module: c.module === ROOT ? 'rust-cluster' : c.module, env: c.env, setupPrimary: c.setupPrimary, schedulingPolicy: c.schedulingPolicy })),
      config: {
        rounds: this.cfg.rounds,
        httpWorkers: HTTP_WORKERS,
        concurrency: this.cfg.concurrency,
        warmup: this.cfg.warmup,
        p1: this.cfg.p1,
        p6: this.cfg.p6 || { count: this.cfg.p1.count, sameRunAs: 'P1' },
        p3Seconds: this.cfg.p3Seconds,
        ipc: { ...this.cfg.ipc, variants: IPC_VARIANTS },
        forkWorkers: FORK_WORKERS,
        forkRounds: this.cfg.forkRounds,
      },
      metricInfo: Object.fromEntries(Object.entries(METRICS).map(([k, v]) => [k, { title: v.title, unit: v.unit, better: v.better }])),
      metrics,
      ratios,
      checks: this.checks,
      problems: this.problems,
      durationSeconds: round4(this.seconds),
      phaseSeconds: this.phaseSeconds,
    };
  }
}

/** Coefficient of variation (sample stdev / mean) of the finite runs. */
function cv(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 2) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (mean === 0) return 0;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return Math.sqrt(variance) / mean;
}

function jsonNum(x) {
  if (x == null || Number.isNaN(x)) return null;
  if (!Number.isFinite(x)) return null;
  return round4(x);
}

function round4(x) {
  return Math.round(x * 10000) / 10000;
}

function fmt(x, digits) {
  if (x == null || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return '∞';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function phaseOf(metric) {
  if (metric.startsWith('P4')) return 'ipc';
  if (metric === 'P5') return 'fork';
  return 'http';
}

function markdown(result) {
  const cs = result.contenders;
  const lines = [];
  lines.push(`| metric | better | ${cs.map((c) => c.label).join(' | ')} |`);
  lines.push(`| --- | --- | ${cs.map(() => '---:').join(' | ')} |`);
  for (const [k, info] of Object.entries(METRICS)) {
    const cells = cs.map((c) => {
      const m = result.metrics[k][c.id];
      const mine = result.problems.filter((p) => p.contender === c.id);
      // P2 and the RSS under load come from the P1 run.
      const sources = k === 'P2' || k === 'RSS_load' ? [k, 'P1'] : [k];
      const failed = mine.some((p) => sources.includes(p.metric));
      if (m.runs.length === 0) {
        return mine.some((p) => phaseOf(p.metric) === phaseOf(k)) ? 'failed' : '–';
      }
      const med = median(m.runs.map((x) => (x == null ? Infinity : x)));
      let s = fmt(med, info.digits);
      if (c.id !== result.baseline) {
        const r = result.ratios[k][c.id];
        s += r == null ? '' : ` (${r.toFixed(2)}×)`;
      }
      if (failed) s += ' !';
      return s;
    });
    lines.push(`| ${info.title} (${info.unit}) | ${info.better === 'higher' ? '↑' : '↓'} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  if (args.help) {
    console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 16).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    return;
  }
  if (args.list) {
    for (const c of CONTENDERS) console.log(`${c.id}\t${c.label}`);
    return;
  }

  let bench;
  try {
    bench = new Bench(args);
  } catch (err) {
    console.error(`bench: ${err.message}`);
    process.exit(2);
  }
  const result = await bench.run();
  const table = markdown(result);

  const out = args.out || path.join(__dirname, 'results', 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ ...result, table }, null, 2)}\n`);

  const cfg = result.config;
  const p1 = cfg.p1.count ? `${cfg.p1.count.toLocaleString('en-US')} connections` : `${cfg.p1.seconds} s`;
  console.log(`\n## rust-cluster bench (${result.mode}), ${result.date}\n`);
  console.log(`- machine: ${result.machine.cpus} × ${result.machine.model}, ${result.machine.kernel}; node ${result.node}`);
  const how = result.generator.startsWith('wrk') ? 'wrk -t1' : 'one process';
  console.log(`- load generator: ${result.generator} (${how}), ${cfg.concurrency} connections, 127.0.0.1`);
  console.log(`- pinned: ${result.pinned.text}`);
  console.log(`- median of ${cfg.rounds} runs (P5: ${cfg.forkRounds}); P1 runs ${p1}, P3 runs ${cfg.p3Seconds} s; ` +
    `HTTP servers have ${cfg.httpWorkers} workers; P4 keeps ${cfg.ipc.window} messages in flight to one worker`);
  console.log('- ratio (×) = contender / node:cluster SCHED_RR; ↑ higher is better, ↓ lower is better; ' +
    'P4 and P5 do not depend on the scheduling policy and are measured once per cluster module\n');
  console.log(table);
  console.log(`\nwritten to ${path.relative(process.cwd(), out) || out}; took ${fmt(result.durationSeconds, 0)} s`);

  if (result.problems.length > 0) {
    const seen = new Map();
    for (const p of result.problems) {
      const line = `${p.contender} ${p.metric}: ${p.message}`;
      seen.set(line, (seen.get(line) || 0) + 1);
    }
    console.log(`\n${result.problems.length} problem(s) (marked ! or failed above):`);
    for (const [line, n] of seen) console.log(`- ${line}${n > 1 ? ` (${n} times)` : ''}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err && err.stack || err);
  killChildren();
  process.exit(2);
});
