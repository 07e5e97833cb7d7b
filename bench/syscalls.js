'use strict';
// `npm run bench -- --syscalls`: the primary's system calls per operation,
// by name, counted by `strace -c -f -p <primary>` over a fixed number of
// operations per contender: Connection: close connections (2 workers, round
// robin or the contender's policy) and IPC echo round trips (one worker, 64
// in flight). strace stops every thread at every system call, so these runs
// are for the record only, never timed.
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const { Fixture } = require('./fixture');
const { IPC_PAYLOADS } = require('./metrics');
const strace = require('./strace');
const { round4, fmt } = require('./stats');
const report = require('./report');

const HTTP_CONNECTIONS = 5000;
const IPC_WINDOW = 64;
const IPC_COUNT = { 50: 20000, 65536: 2000 };
const UNPINNED = { key: 'unpinned', generator: null, server: null };

function perOp(counts, operations) {
  const per = {};
  for (const [name, c] of Object.entries(counts.calls)) per[name] = round4(c.calls / operations);
  return {
    operations,
    total: counts.total,
    errors: counts.errors,
    calls: counts.calls,
    perOp: per,
    totalPerOp: round4(counts.total / operations),
    errorsPerOp: round4(counts.errors / operations),
  };
}

async function httpEntry(bench, contender) {
  const where = { phase: 'syscalls http', pin: 'unpinned' };
  const started = await bench.startHttp(contender, 2, null, where);
  if (!started) return { error: 'did not start' };
  const { fx, ready } = started;
  try {
    await bench.load(UNPINNED, { port: ready.port, close: true, count: 1000 });
    fx.command('reset');
    await fx.wait('reset', 10000);
    const tracer = await strace.attach(ready.pid);
    const r = await bench.load(UNPINNED, { port: ready.port, close: true, count: HTTP_CONNECTIONS });
    const counts = await tracer.detach();
    fx.command('stats');
    const stats = await fx.wait('stats', 10000);
    const connections = stats.workers.reduce((a, w) => a + w.connections, 0);
    if (!bench.checkLoad(contender, where, 'connections', r)) return { error: r.error || 'load failed' };
    return perOp(counts, connections);
  } catch (err) {
    bench.problem(contender, where, 'connections', err.message);
    return { error: err.message };
  } finally {
    await fx.stop();
  }
}

async function ipcEntry(bench, group, payload) {
  const where = { phase: 'syscalls ipc', pin: 'unpinned' };
  const count = IPC_COUNT[payload.bytes];
  const fx = new Fixture(group.rep, {
    BENCH_MODE: 'ipc',
    BENCH_WORKERS: '1',
    BENCH_SERIALIZATION: payload.serialization,
    BENCH_ECHO: JSON.stringify({ window: IPC_WINDOW, bytes: payload.bytes, count, warmupMs: 200, gate: true }),
  }, null, process.execPath);
  try {
    const warm = await fx.wait('warm', 30000);
    const tracer = await strace.attach(warm.pid);
    fx.command('go');
    const r = await fx.wait('ipc', 120000);
    const counts = await tracer.detach();
    if (r.error) throw new Error(r.error);
    return perOp(counts, r.roundTrips);
  } catch (err) {
    bench.problem(group, where, payload.key, err.message);
    return { error: err.message };
  } finally {
    await fx.stop();
  }
}

async function run(bench) {
  const t0 = Date.now();
  const version = (spawnSync('strace', ['-V'], { encoding: 'utf8' }).stdout || '').split('\n')[0].trim();
  if (!version) throw new Error('strace is not installed (apt-get install strace)');
  const result = {
    date: new Date().toISOString(),
    mode: 'syscalls',
    machine: { cpus: os.cpus().length, model: os.cpus()[0] ? os.cpus()[0].model : null, kernel: `${os.type()} ${os.release()}` },
    node: process.version,
    strace: version,
    generator: bench.generator.version,
    contenders: bench.contenders.map((c) => ({ id: c.id, label: c.label })),
    groups: bench.groups.map((g) => ({ id: g.id, label: g.label, runsAs: g.rep.id })),
    config: { httpConnections: HTTP_CONNECTIONS, httpWorkers: 2, ipcWindow: IPC_WINDOW, ipcCount: IPC_COUNT, phases: bench.phases },
    http: {},
    ipc: {},
  };
  bench.log(`syscalls (strace -c -f -p <primary>, ${version}): ${bench.contenders.map((c) => c.id).join(', ')}`);
  if (bench.phases.includes('http')) {
    for (const c of bench.contenders) {
      result.http[c.id] = await httpEntry(bench, c);
      const e = result.http[c.id];
      bench.log(`  ${c.id} http: ${e.error ? 'FAILED' : `${fmt(e.totalPerOp, 2)} syscalls per connection over ${e.operations}`}`);
    }
  }
  if (bench.phases.includes('ipc')) {
    for (const p of IPC_PAYLOADS) {
      result.ipc[p.key] = {};
      for (const g of bench.groups) {
        result.ipc[p.key][g.id] = await ipcEntry(bench, g, p);
        const e = result.ipc[p.key][g.id];
        bench.log(`  ${g.id} ${p.key}: ${e.error ? 'FAILED' : `${fmt(e.totalPerOp, 2)} syscalls per round trip over ${e.operations}`}`);
      }
    }
  }
  result.problems = bench.problems;
  result.durationSeconds = round4((Date.now() - t0) / 1000);
  return result;
}

function print(result) {
  const lines = [`## rust-cluster bench --syscalls, ${result.date}`, ''];
  lines.push(`- machine: ${result.machine.cpus} × ${result.machine.model}, ${result.machine.kernel}; node ${result.node}; ${result.strace}`);
  lines.push('- the primary\'s system calls per operation, all its threads (strace -c -f -p <primary>), unpinned; ' +
    'rows: the top 8 of any column, then all calls together');
  if (Object.keys(result.http).length > 0) {
    lines.push('', `### Per connection (Connection: close, ${result.config.httpWorkers} workers, ` +
      `${result.config.httpConnections.toLocaleString('en-US')} connections)`, '');
    lines.push(report.syscallTable(result.http, result.contenders.filter((c) => result.http[c.id])));
  }
  for (const p of IPC_PAYLOADS) {
    if (!result.ipc[p.key]) continue;
    lines.push('', `### Per IPC echo round trip (${p.name}, ${result.config.ipcWindow} in flight, one worker, ` +
      `${result.config.ipcCount[p.bytes].toLocaleString('en-US')} round trips)`, '');
    lines.push(report.syscallTable(result.ipc[p.key], result.groups));
  }
  return lines.join('\n');
}

module.exports = { run, print };
