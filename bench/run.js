#!/usr/bin/env node
'use strict';
// Benchmark harness: node:cluster against rust-cluster, side by side, in one
// run, on loopback. `node bench/run.js [--quick]` (npm run bench [-- --quick]).
// See bench/README.md for what each figure means.
//
// Options:
//   --quick              short runs, unpinned only (about 2-3 minutes)
//   --only=ID,ID         run only these contenders (the baseline is added)
//   --rounds=N           repetitions of every measurement (at least 3)
//   --pin=MODE           both (default; quick: none) | none | split: unpinned
//                        (the headline), pinned (load generator on CPU 0,
//                        servers on CPU 1), or both, unpinned first
//   --phases=LIST        http,ipc,fork,scale (default all): http is P1 P2 P3
//                        P6 RSS, ipc is P4, fork is P5, scale is 2/8/32 workers
//   --scale=N,N          worker counts of the scale phase (default 2,8,32)
//   --syscalls           no timed runs: count the primary's syscalls per
//                        connection and per round trip under strace -c -f
//   --generator=NAME     wrk | autocannon (default: wrk when installed)
//   --out=FILE           JSON output (default bench/results/latest.json,
//                        with --syscalls bench/results/syscalls.json)
//   --list               print the contenders and exit
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { ROOT, CONTENDERS, BASELINE, GROUPS, GROUP_BASELINE } = require('./contenders');
const { HTTP_METRICS, IPC_METRICS, FORK_METRICS, IPC_VARIANTS, FORK_WORKERS } = require('./metrics');
const { Fixture, killChildren } = require('./fixture');
const { pickGenerator, onPath } = require('./load');
const proc = require('./proc');
const { median, summarize, ratio, round4, fmt } = require('./stats');
const report = require('./report');

const HTTP_WORKERS = 2;

// -------------------------------------------------------------- settings ---
const MODES = {
  quick: {
    rounds: 3,
    pin: 'none',
    concurrency: 32,
    warmup: { count: 1000 },
    p1: { count: 8000 },
    p3Seconds: 1,
    restMs: 200,
    ipc: { ms: 300, warmupMs: 100 },
    forkRounds: 3,
    scale: { workers: [2, 8, 32], rounds: 1, warmup: { count: 1000 }, http: { count: 8000 }, echo: { window: 64, bytes: 50, ms: 300, warmupMs: 100 } },
  },
  full: {
    rounds: 5,
    pin: 'both',
    concurrency: 32,
    warmup: { count: 2000 },
    p1: { seconds: 3 },
    p3Seconds: 2,
    restMs: 300,
    ipc: { ms: 1500, warmupMs: 1000 },
    forkRounds: 5,
    scale: { workers: [2, 8, 32], rounds: 5, warmup: { count: 2000 }, http: { seconds: 2 }, echo: { window: 64, bytes: 50, ms: 500, warmupMs: 200 } },
  },
};

// ----------------------------------------------------------------- args ---
function parseArgs(argv) {
  const args = { quick: false };
  const list = (s) => s.split(',').filter(Boolean);
  for (const a of argv) {
    if (a === '--quick') args.quick = true;
    else if (a === '--full') args.quick = false;
    else if (a === '--list') args.list = true;
    else if (a === '--syscalls') args.syscalls = true;
    else if (a.startsWith('--only=')) args.only = list(a.slice(7));
    else if (a.startsWith('--rounds=')) args.rounds = Number(a.slice(9));
    else if (a.startsWith('--generator=')) args.generator = a.slice(12);
    else if (a.startsWith('--pin=')) args.pin = a.slice(6);
    else if (a.startsWith('--out=')) args.out = path.resolve(a.slice(6));
    else if (a.startsWith('--phases=')) args.phases = list(a.slice(9));
    else if (a.startsWith('--scale=')) args.scale = list(a.slice(8)).map(Number);
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown option ${a} (try --help)`);
  }
  if (args.rounds != null && !(Number.isInteger(args.rounds) && args.rounds >= 1)) throw new Error('--rounds wants a whole number');
  if (args.pin && !['both', 'none', 'split'].includes(args.pin)) throw new Error(`unknown --pin=${args.pin} (both, none, split)`);
  if (args.scale && !args.scale.every((n) => Number.isInteger(n) && n >= 1)) throw new Error('--scale wants worker counts, e.g. 2,8,32');
  return args;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

/** The harness's own children go when it does. */
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killChildren(); process.exit(130); });
}

// ------------------------------------------------------------ the bench ---
class Bench {
  constructor(args) {
    this.args = args;
    this.mode = args.quick ? 'quick' : 'full';
    this.cfg = structuredClone(MODES[this.mode]);
    if (args.rounds) {
      this.cfg.rounds = Math.max(3, args.rounds);
      this.cfg.forkRounds = this.cfg.rounds;
      this.cfg.scale.rounds = this.cfg.rounds;
    }
    if (args.scale) this.cfg.scale.workers = args.scale;
    this.phases = args.phases || ['http', 'ipc', 'fork', 'scale'];
    for (const p of this.phases) {
      if (!['http', 'ipc', 'fork', 'scale'].includes(p)) throw new Error(`unknown phase ${p} (http, ipc, fork, scale)`);
    }

    this.bun = onPath('bun');
    this.bunVersion = null;
    if (this.bun) {
      const out = require('node:child_process').spawnSync(this.bun, ['--version'], { encoding: 'utf8' });
      this.bunVersion = (out.stdout || '').trim() || 'unknown';
    }
    const ids = args.only ? [BASELINE, ...args.only] : CONTENDERS.map((c) => c.id);
    for (const id of ids) {
      if (!CONTENDERS.some((x) => x.id === id)) throw new Error(`unknown contender ${id} (known: ${CONTENDERS.map((x) => x.id).join(', ')})`);
    }
    // In the table's order, whatever the order of --only.
    this.contenders = CONTENDERS.filter((c) => ids.includes(c.id) && (c.runtime !== 'bun' || this.bun))
      .map((c) => ({ ...c, phases: c.group ? ['http', 'ipc', 'fork'] : ['http'] }));
    // IPC/fork run once per group, as its first selected member; node first.
    this.groups = GROUPS.map((g) => ({ ...g, rep: this.contenders.find((c) => c.group === g.id) }))
      .filter((g) => g.rep || g.id === GROUP_BASELINE)
      .map((g) => ({ ...g, rep: g.rep || CONTENDERS.find((c) => c.group === g.id) }));

    this.generator = pickGenerator(args.generator);

    const pinWanted = args.pin || this.cfg.pin;
    const cpus = os.cpus().length;
    const canPin = Boolean(onPath('taskset')) && cpus >= 2;
    this.pins = [];
    if (pinWanted !== 'split') this.pins.push({ key: 'unpinned', generator: null, server: null, text: 'no: the kernel schedules every process on any CPU' });
    this.pinNote = null;
    if (pinWanted !== 'none') {
      if (canPin) {
        const server = cpus === 2 ? '1' : `1-${cpus - 1}`;
        this.pins.push({
          key: 'pinned', generator: '0', server,
          text: `taskset: load generator on CPU 0, server processes (primary + workers) on CPU ${server}`,
        });
      } else {
        this.pinNote = 'pinned runs skipped: taskset missing or a single CPU';
      }
    }

    this.data = {};
    for (const pin of this.pins) this.data[pin.key] = { http: emptyRuns(HTTP_METRICS, this.contenders), ipc: emptyRuns(IPC_METRICS, this.groups) };
    this.forkRuns = emptyRuns(FORK_METRICS, this.groups);
    this.forkFloor = [];
    this.scaleRuns = {};
    this.problems = [];
    this.checks = { closeRequestsPerConnection: {}, workersLoadRustCluster: {}, lostThreads: [] };
    this.details = { threads: [] };
    this.phaseSeconds = {};
  }

  log(msg) {
    process.stderr.write(`${msg}\n`);
  }

  /** A failure: `where` is { phase, pin?, workers? }; shown under the table. */
  problem(who, where, metric, message) {
    message = String(message).replace(/\s+/g, ' ').trim().slice(0, 400);
    this.problems.push({ contender: who.id, reference: Boolean(who.reference), ...where, metric, message });
    this.log(`  ! ${who.id} ${where.pin ? `${where.pin} ` : ''}${metric}: ${message}`);
  }

  runtime(contender) {
    return contender.runtime === 'bun' ? this.bun : process.execPath;
  }

  load(pin, opts) {
    return this.generator.run({ ...opts, connections: this.cfg.concurrency, pinCpus: pin.generator });
  }

  /** A load run's own failures (errors, timeouts, non-2xx) become problems. */
  checkLoad(who, where, metric, r) {
    if (r.error) { this.problem(who, where, metric, r.error); return false; }
    let ok = true;
    if (r.errors > 0 || r.timeouts > 0) {
      this.problem(who, where, metric, `${r.errors} socket errors, ${r.timeouts} timeouts${r.socketErrors ? ` (${r.socketErrors})` : ''}`);
      ok = false;
    }
    if (r.non2xx > 0) {
      this.problem(who, where, metric, `${r.non2xx} non-2xx responses`);
      ok = false;
    }
    if (r.requests === 0) {
      this.problem(who, where, metric, 'no responses');
      ok = false;
    }
    return ok;
  }

  /** Start an HTTP fixture with `n` workers; resolves to { fx, ready } or null. */
  async startHttp(contender, n, pinCpus, where) {
    // A free port chosen here: with reuseport each worker binding port 0
    // would get a port of its own.
    const port = await freePort();
    const fx = new Fixture(contender, {
      BENCH_MODE: 'http', BENCH_WORKERS: String(n), BENCH_PORT: String(port), BENCH_HOST: '127.0.0.1',
    }, pinCpus, this.runtime(contender));
    try {
      const ready = await fx.wait('ready', 30000 + 2000 * n);
      fx.child.extraPids = ready.workers;
      return { fx, ready };
    } catch (err) {
      this.problem(contender, where, 'start', err.message);
      await fx.stop();
      return null;
    }
  }

  /**
   * A Connection: close run, bracketed by counter reset / stats, with the
   * primary's threads (context switches, CPU) and RSS read around it.
   */
  async closeRun(fx, ready, pin, load) {
    fx.command('reset');
    await fx.wait('reset', 10000);
    const pid = ready.pid;
    let rssPeak = proc.rssMiB(pid);
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, proc.rssMiB(pid) || 0); }, 100);
    const before = proc.snapshot(pid);
    const r = await this.load(pin, { port: ready.port, close: true, ...load });
    const d = proc.delta(before, proc.snapshot(pid));
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, proc.rssMiB(pid) || 0);
    fx.command('stats');
    const stats = await fx.wait('stats', 10000);
    const perWorker = stats.workers.map((w) => w.connections);
    const connections = perWorker.reduce((a, b) => a + b, 0);
    const served = stats.workers.reduce((a, w) => a + w.requests, 0);
    return { ...r, threads: d, rssPeak, perWorker, connections, served, workerStats: stats.workers };
  }

  noteLostThreads(who, where, d) {
    if (d.lostThreads > 0) this.checks.lostThreads.push({ contender: who.id, ...where, lost: d.lostThreads });
  }

  noteWorkers(contender, stats) {
    // Workers load rust-cluster exactly when the contender says they should.
    const expect = contender.module === ROOT && !contender.workerModule;
    const got = stats.map((w) => Boolean(w.rustCluster));
    (this.checks.workersLoadRustCluster[contender.id] ||= []).push(got.every((x) => x) ? true : got.some((x) => x) ? 'some' : false);
    return got.every((x) => x === expect) ? null
      : `workers ${expect ? 'did not all load' : 'loaded'} rust-cluster (expected ${expect ? 'all' : 'none'} to)`;
  }

  noteConnCheck(contender, where, r) {
    // Connection: close must mean one connection per request.
    const perConn = r.connections ? r.served / r.connections : 0;
    (this.checks.closeRequestsPerConnection[contender.id] ||= []).push(round4(perConn));
    if (perConn > 1.01) {
      this.problem(contender, where, 'P1', `Connection: close was not honoured: ${perConn.toFixed(3)} requests per connection`);
    }
  }

  // ---------------------------------------------------------------- HTTP ---
  async httpRound(contender, round, pin) {
    const where = { phase: 'http', pin: pin.key };
    const runs = this.data[pin.key].http;
    const started = await this.startHttp(contender, HTTP_WORKERS, pin.server, where);
    if (!started) return;
    const { fx, ready } = started;
    try {
      await sleep(this.cfg.restMs);
      runs.RSS_rest[contender.id].push(proc.rssMiB(ready.pid));

      // Warm up (JIT, accept queues); not measured.
      const warm = await this.load(pin, { port: ready.port, close: true, ...this.cfg.warmup });
      this.checkLoad(contender, where, 'warmup', warm);

      // P1 / P2 / P6 / RSS under load.
      const p1 = await this.closeRun(fx, ready, pin, this.cfg.p1);
      const wrong = this.noteWorkers(contender, p1.workerStats);
      if (wrong) this.problem(contender, where, 'P1', wrong);
      if (this.checkLoad(contender, where, 'P1', p1) && !wrong) {
        const n = p1.connections;
        runs.P1[contender.id].push(p1.rps);
        runs.P2[contender.id].push((p1.threads.cpuNs / 1e3) / n);
        runs.P2_cs[contender.id].push(p1.threads.cs / n);
        runs.RSS_load[contender.id].push(p1.rssPeak);
        const min = Math.min(...p1.perWorker);
        runs.P6[contender.id].push(min > 0 ? Math.max(...p1.perWorker) / min : Infinity);
        this.noteConnCheck(contender, where, p1);
        this.noteLostThreads(contender, where, p1.threads);
        this.details.threads.push({ ...where, contender: contender.id, round, metric: 'P1', operations: n, byName: p1.threads.byName });
      }

      // P3 keep-alive.
      const before = proc.snapshot(ready.pid);
      const p3 = await this.load(pin, { port: ready.port, close: false, seconds: this.cfg.p3Seconds });
      const d3 = proc.delta(before, proc.snapshot(ready.pid));
      if (this.checkLoad(contender, where, 'P3', p3)) {
        runs.P3[contender.id].push(p3.rps);
        runs.P3_cs[contender.id].push(d3.cs / p3.requests);
        runs.P3_cpu[contender.id].push((d3.cpuNs / 1e3) / p3.requests);
        this.noteLostThreads(contender, where, d3);
      }

      if (fx.errors) for (const e of fx.errors) this.problem(contender, where, 'server', e);
      const n = p1.connections || NaN;
      this.log(`  ${contender.id} ${pin.key} round ${round}: P1 ${fmt(p1.rps, 0)} conn/s ` +
        `(${fmt(p1.threads.cs / n, 2)} cs, ${fmt(p1.threads.cpuNs / 1e3 / n, 1)} µs per conn), ` +
        `P3 ${fmt(p3.rps, 0)} req/s, P6 ${p1.perWorker.join('/')}, ` +
        `RSS ${fmt(runs.RSS_rest[contender.id].at(-1), 1)}/${fmt(p1.rssPeak, 1)} MiB`);
    } catch (err) {
      this.problem(contender, where, 'http', err.message);
    } finally {
      await fx.stop();
    }
  }

  // ----------------------------------------------------------------- IPC ---
  async ipcRun(group, variant, pin) {
    const where = { phase: 'ipc', pin: pin.key };
    const fx = new Fixture(group.rep, {
      BENCH_MODE: 'ipc',
      BENCH_WORKERS: '1',
      BENCH_SERIALIZATION: variant.serialization,
      BENCH_ECHO: JSON.stringify({ window: variant.window, bytes: variant.bytes, ms: this.cfg.ipc.ms, warmupMs: this.cfg.ipc.warmupMs }),
    }, pin.server, process.execPath);
    try {
      const r = await fx.wait('ipc', this.cfg.ipc.ms + this.cfg.ipc.warmupMs + 30000);
      if (r.error) throw new Error(r.error);
      const runs = this.data[pin.key].ipc;
      runs[variant.key][group.id].push(r.perSec);
      runs[`${variant.key}_cs`][group.id].push(r.cs / r.roundTrips);
      runs[`${variant.key}_cpu`][group.id].push((r.cpuNs / 1e3) / r.roundTrips);
      runs[`${variant.key}_wcpu`][group.id].push((r.workerCpuNs / 1e3) / r.roundTrips);
      this.noteLostThreads(group, where, r);
      this.details.threads.push({ ...where, contender: group.id, metric: variant.key, operations: r.roundTrips, byName: r.byName });
      return r;
    } catch (err) {
      this.problem(group, where, variant.key, err.message);
      return null;
    } finally {
      await fx.stop();
    }
  }

  // One P5 round of `group`, or with `floor` the same number of bare Node
  // processes (bench/boot.js) forked by a primary that loads no cluster
  // module's fork path.
  async forkRun(group, floor = false) {
    const env = { BENCH_MODE: 'fork', BENCH_WORKERS: String(FORK_WORKERS), BENCH_FORK_FLOOR: floor ? '1' : '' };
    const fx = new Fixture(group.rep, env, null, process.execPath);
    try {
      const r = await fx.wait('fork', 40000);
      if (r.error) throw new Error(r.error);
      if (floor) this.forkFloor.push(r.ms);
      else this.forkRuns.P5[group.id].push(r.ms);
      return r.ms;
    } catch (err) {
      this.problem(group, { phase: 'fork', pin: 'unpinned' }, 'P5', err.message);
      return null;
    } finally {
      await fx.stop();
    }
  }

  // ----------------------------------------------------------------- run ---
  async timed(name, fn) {
    const t = Date.now();
    await fn();
    this.phaseSeconds[name] = round4((Date.now() - t) / 1000);
  }

  async run() {
    const t0 = Date.now();
    const cfg = this.cfg;
    this.log(`rust-cluster bench (${this.mode}): ${this.contenders.map((c) => c.id).join(', ')}; ` +
      `generator ${this.generator.version}; ${this.pins.map((p) => p.key).join(' then ')}` +
      `${this.bun ? `; bun ${this.bunVersion}` : '; bun not found on PATH'}`);
    if (this.pinNote) this.log(this.pinNote);

    for (const pin of this.pins) {
      if (this.phases.includes('http')) {
        await this.timed(`${pin.key} http`, async () => {
          const cs = this.contenders.filter((c) => c.phases.includes('http'));
          this.log(`HTTP, ${pin.key} (P1, P2, P3, P6, RSS): ${cfg.rounds} rounds, ${HTTP_WORKERS} workers, ` +
            `concurrency ${cfg.concurrency}`);
          for (let round = 1; round <= cfg.rounds; round++) {
            // Rotate the order so no contender always runs first or last.
            for (let i = 0; i < cs.length; i++) await this.httpRound(cs[(i + round - 1) % cs.length], round, pin);
          }
        });
      }
      if (this.phases.includes('ipc')) {
        await this.timed(`${pin.key} ipc`, async () => {
          this.log(`IPC echo, ${pin.key} (P4): ${cfg.rounds} rounds, one worker, ${cfg.ipc.ms} ms each`);
          for (let round = 1; round <= cfg.rounds; round++) {
            for (let i = 0; i < this.groups.length; i++) {
              const group = this.groups[(i + round - 1) % this.groups.length];
              const parts = [];
              for (const v of IPC_VARIANTS) {
                const r = await this.ipcRun(group, v, pin);
                parts.push(`${v.key.slice(3)} ${r ? `${fmt(r.perSec, 0)} (${fmt(r.cs / r.roundTrips, 2)} cs)` : 'FAILED'}`);
              }
              this.log(`  ${group.id} ${pin.key} round ${round}: ${parts.join(', ')}`);
            }
          }
        });
      }
    }

    if (this.phases.includes('fork')) {
      await this.timed('fork', async () => {
        this.log(`fork (P5), unpinned: ${cfg.forkRounds} rounds of ${FORK_WORKERS} workers`);
        for (let round = 1; round <= cfg.forkRounds; round++) {
          for (const group of this.groups) {
            const ms = await this.forkRun(group);
            this.log(`  ${group.id} round ${round}: ${ms == null ? 'FAILED' : `${fmt(ms, 0)} ms`}`);
          }
          const floor = await this.forkRun(this.groups[0], true);
          this.log(`  floor (bare Node processes) round ${round}: ${floor == null ? 'FAILED' : `${fmt(floor, 0)} ms`}`);
        }
      });
    }

    if (this.phases.includes('scale')) {
      await this.timed('scale', () => require('./scale').scalePhase(this));
    }

    this.seconds = (Date.now() - t0) / 1000;
    this.log(`took ${fmt(this.seconds, 0)} s (${Object.entries(this.phaseSeconds).map(([k, v]) => `${k} ${fmt(v, 0)} s`).join(', ')})`);
    return this.result();
  }

  result() {
    const summary = (runs, baseline) => {
      const metrics = {};
      const ratios = {};
      for (const [k, byId] of Object.entries(runs)) {
        metrics[k] = {};
        ratios[k] = {};
        const base = median(byId[baseline] || []);
        for (const [id, values] of Object.entries(byId)) {
          metrics[k][id] = summarize(values);
          ratios[k][id] = ratio(median(values), base);
        }
      }
      return { metrics, ratios };
    };
    const cpu = os.cpus();
    const out = {
      date: new Date().toISOString(),
      mode: this.mode,
      machine: { cpus: cpu.length, model: cpu[0] ? cpu[0].model : null, kernel: `${os.type()} ${os.release()}`, arch: os.arch(), memoryGiB: round4(os.totalmem() / 2 ** 30), loadavg: os.loadavg().map(round4), nodeExtraCaCerts: Boolean(process.env.NODE_EXTRA_CA_CERTS) },
      node: process.version,
      bun: this.bun ? { path: this.bun, version: this.bunVersion } : null,
      generator: this.generator.version,
      baseline: BASELINE,
      groupBaseline: GROUP_BASELINE,
      contenders: this.contenders.map((c) => ({
        id: c.id, label: c.label, module: c.module === ROOT ? 'rust-cluster' : c.module,
        workerModule: c.workerModule, group: c.group, runtime: c.runtime || 'node', reference: Boolean(c.reference),
        env: c.env, setupPrimary: c.setupPrimary, schedulingPolicy: c.schedulingPolicy, phases: c.phases,
      })),
      groups: this.groups.map((g) => ({ id: g.id, label: g.label, runsAs: g.rep.id })),
      measuring: {
        contextSwitches: 'voluntary_ctxt_switches + nonvoluntary_ctxt_switches of /proc/<primary>/task/*/status, summed over the primary\'s threads',
        cpu: 'first field (ns on CPU) of /proc/<primary>/task/*/schedstat, summed over the primary\'s threads',
        http: 'read by the harness just before and after the load run',
        ipc: 'read by the primary itself at the start and end of the measurement',
      },
      config: {
        rounds: this.cfg.rounds,
        httpWorkers: HTTP_WORKERS,
        concurrency: this.cfg.concurrency,
        warmup: this.cfg.warmup,
        p1: this.cfg.p1,
        p3Seconds: this.cfg.p3Seconds,
        ipc: { ...this.cfg.ipc, workers: 1, variants: IPC_VARIANTS },
        forkWorkers: FORK_WORKERS,
        forkRounds: this.cfg.forkRounds,
        scale: this.cfg.scale,
        phases: this.phases,
      },
      pins: this.pins.map(({ key, generator, server, text }) => ({ key, generatorCpus: generator, serverCpus: server, text })),
      pinNote: this.pinNote,
      metricInfo: {
        ...Object.fromEntries(Object.entries(HTTP_METRICS).map(([k, v]) => [k, { title: v.title, unit: v.unit, better: v.better }])),
        ...Object.fromEntries(Object.entries(IPC_METRICS).map(([k, v]) => [k, { title: v.title, unit: v.unit, better: v.better }])),
        ...Object.fromEntries(Object.entries(FORK_METRICS).map(([k, v]) => [k, { title: v.title, unit: v.unit, better: v.better }])),
      },
    };
    for (const pin of this.pins) {
      out[pin.key] = {
        http: summary(this.data[pin.key].http, BASELINE),
        ipc: summary(this.data[pin.key].ipc, GROUP_BASELINE),
      };
    }
    if (this.phases.includes('fork')) {
      out.fork = summary(this.forkRuns, GROUP_BASELINE);
      const floor = summarize(this.forkFloor);
      out.fork.floor = { ...floor, ratio: ratio(floor.median, median(this.forkRuns.P5[GROUP_BASELINE] || [])) };
    }
    if (this.phases.includes('scale')) out.scale = require('./scale').scaleResult(this);
    Object.assign(out, {
      checks: this.checks,
      problems: this.problems,
      details: this.details,
      durationSeconds: round4(this.seconds),
      phaseSeconds: this.phaseSeconds,
    });
    return out;
  }
}

function emptyRuns(defs, columns) {
  const runs = {};
  for (const k of Object.keys(defs)) {
    runs[k] = {};
    for (const c of columns) runs[k][c.id] = [];
  }
  return runs;
}

// ------------------------------------------------------------- printing ---
function print(result) {
  const cfg = result.config;
  const lines = [];
  const p1 = cfg.p1.count ? `${cfg.p1.count.toLocaleString('en-US')} connections` : `${cfg.p1.seconds} s`;
  lines.push(`## rust-cluster bench (${result.mode}), ${result.date}`, '');
  lines.push(`- machine: ${result.machine.cpus} × ${result.machine.model}, ${result.machine.kernel}; node ${result.node}; ` +
    `load average at the end ${result.machine.loadavg.map((x) => x.toFixed(2)).join(' ')}`);
  const how = result.generator.startsWith('wrk') ? 'wrk -t1' : 'one process';
  lines.push(`- load generator: ${result.generator} (${how}), ${cfg.concurrency} connections, 127.0.0.1`);
  lines.push(`- median of ${cfg.rounds} rounds (P5: ${cfg.forkRounds}, scale: ${cfg.scale.rounds}); P1 runs ${p1}, ` +
    `P3 ${cfg.p3Seconds} s, P4 ${cfg.ipc.ms} ms; HTTP servers have ${cfg.httpWorkers} workers, P4 one`);
  lines.push('- ratio (×) = contender / node:cluster (SCHED_RR for HTTP) in the same run; ↑ higher is better, ↓ lower is better');
  lines.push('- primary context switches (cs): voluntary + nonvoluntary, summed over all its threads ' +
    '(/proc/<pid>/task/*/status); primary CPU: all its threads (/proc/<pid>/task/*/schedstat)');
  lines.push(`- bun: ${result.bun ? `${result.bun.version} (${result.bun.path}), reference row on the HTTP phase` : 'not found on PATH, no reference row'}`);
  // Every Node process parses that bundle when it starts (3x the boot's CPU
  // here), which sets P5 for all contenders alike.
  if (result.machine.nodeExtraCaCerts) lines.push('- NODE_EXTRA_CA_CERTS is set: every Node boot (P5) parses that bundle first');
  if (result.pinNote) lines.push(`- ${result.pinNote}`);

  for (const pin of result.pins) {
    const name = pin.key === 'unpinned' ? 'Unpinned (headline)' : `Pinned (${pin.text})`;
    if (cfg.phases.includes('http')) {
      lines.push('', `### ${name}: HTTP, ${cfg.httpWorkers} workers`, '', report.httpTable(result, pin.key));
      lines.push('', report.noiseLine(result[pin.key].http.metrics));
    }
    // Fork (P5) runs unpinned only: under the unpinned IPC table, or alone.
    const withFork = Boolean(result.fork) && (pin.key === 'unpinned' || !result.pins.some((p) => p.key === 'unpinned'));
    if (cfg.phases.includes('ipc') || withFork) {
      const what = [cfg.phases.includes('ipc') && 'IPC echo with one worker', withFork && 'fork (unpinned)'].filter(Boolean).join(', ');
      lines.push('', `### ${name}: ${what} (per cluster module)`, '', report.ipcTable(result, pin.key, withFork));
      lines.push('', report.noiseLine({ ...(cfg.phases.includes('ipc') ? result[pin.key].ipc.metrics : {}), ...(withFork ? result.fork.metrics : {}) }));
      const limit = cfg.phases.includes('ipc') && report.workerLimitLine(result, pin.key);
      if (limit) lines.push('', limit);
      const floor = withFork && result.fork.floor;
      if (floor && floor.median != null) {
        lines.push('', `P5's floor: ${cfg.forkWorkers} bare Node processes (child_process.fork of bench/boot.js, ` +
          `each up once it has sent one message) took ${fmt(floor.median, 0)} ms (median of ${floor.runs.length}), ` +
          `${fmt(floor.ratio, 2)}× node:cluster's fork → online: workers cannot come online faster than Node boots.`);
      }
    }
    if (pin.key === 'unpinned' && result.scale) {
      lines.push('', `### Scale (unpinned, round robin): ${result.scale.workers.join(' / ')} workers`, '');
      lines.push(`Connection: close load as P1; echo: ${result.scale.echo.window} json ${result.scale.echo.bytes} B messages ` +
        'in flight, spread evenly over the workers. Last column: largest worker count over smallest (flat = 1.00×).', '');
      lines.push(report.scaleTable(result));
      lines.push('', report.noiseLine(result.scale.metrics));
    }
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
    const head = fs.readFileSync(__filename, 'utf8').split('\n').slice(2);
    console.log(head.slice(0, head.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
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

  let result;
  let text;
  if (args.syscalls) {
    const syscalls = require('./syscalls');
    result = await syscalls.run(bench);
    text = syscalls.print(result);
  } else {
    result = await bench.run();
    text = print(result);
  }
  const out = args.out || path.join(__dirname, 'results', args.syscalls ? 'syscalls.json' : 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ ...result, table: text }, null, 2)}\n`);

  console.log(`\n${text}`);
  const mm = Math.floor(result.durationSeconds / 60);
  const ss = Math.round(result.durationSeconds % 60);
  console.log(`\nwritten to ${path.relative(process.cwd(), out) || out}; took ${fmt(result.durationSeconds, 0)} s (${mm} min ${ss} s)`);

  if (result.problems.length > 0) {
    const seen = new Map();
    for (const p of result.problems) {
      const line = `${p.contender}${p.pin ? ` ${p.pin}` : ''}${p.workers ? ` ${p.workers} workers` : ''} ${p.metric}: ${p.message}` +
        `${p.reference ? ' (reference only)' : ''}`;
      seen.set(line, (seen.get(line) || 0) + 1);
    }
    console.log(`\n${result.problems.length} problem(s) (marked ! or failed above):`);
    for (const [line, n] of seen) console.log(`- ${line}${n > 1 ? ` (${n} times)` : ''}`);
    if (result.problems.some((p) => !p.reference)) process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err && err.stack || err);
  killChildren();
  process.exit(2);
});
