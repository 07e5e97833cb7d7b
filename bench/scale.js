'use strict';
// The scale phase: round robin with 2, 8 and 32 workers (unpinned). For each
// count, node:cluster and rust-cluster each start a server, take a
// Connection: close load (the primary's CPU and context switches per
// connection) and then an IPC echo spread over all their workers (the same
// per round trip). Whether those stay flat as workers grow is the point.
const { SCALE_CONTENDERS, BASELINE } = require('./contenders');
const { SCALE_METRICS } = require('./metrics');
const { summarize, fmt } = require('./stats');

const UNPINNED = { key: 'unpinned', generator: null, server: null };

function scaleIds(bench) {
  return SCALE_CONTENDERS.filter((id) => bench.contenders.some((c) => c.id === id));
}

async function scalePhase(bench) {
  const cfg = bench.cfg.scale;
  const ids = scaleIds(bench);
  for (const key of Object.keys(SCALE_METRICS)) {
    bench.scaleRuns[key] = {};
    for (const id of ids) {
      bench.scaleRuns[key][id] = {};
      for (const n of cfg.workers) bench.scaleRuns[key][id][n] = [];
    }
  }
  bench.log(`scale, unpinned: ${cfg.rounds} rounds of ${cfg.workers.join(' / ')} workers, ${ids.join(', ')}`);
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const n of cfg.workers) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[(i + round - 1) % ids.length];
        await scaleRun(bench, bench.contenders.find((c) => c.id === id), n, round);
      }
    }
  }
}

async function scaleRun(bench, contender, n, round) {
  const cfg = bench.cfg.scale;
  const where = { phase: 'scale', pin: 'unpinned', workers: n };
  const runs = (key) => bench.scaleRuns[key][contender.id][n];
  const started = await bench.startHttp(contender, n, null, where);
  if (!started) return;
  const { fx, ready } = started;
  const parts = [];
  try {
    const warm = await bench.load(UNPINNED, { port: ready.port, close: true, ...cfg.warmup });
    bench.checkLoad(contender, where, 'warmup', warm);

    const r = await bench.closeRun(fx, ready, UNPINNED, cfg.http);
    const wrong = bench.noteWorkers(contender, r.workerStats);
    if (wrong) bench.problem(contender, where, 'conn', wrong);
    if (bench.checkLoad(contender, where, 'conn', r) && !wrong) {
      runs('conn').push(r.rps);
      runs('conn_cpu').push((r.threads.cpuNs / 1e3) / r.connections);
      runs('conn_cs').push(r.threads.cs / r.connections);
      bench.noteLostThreads(contender, where, r.threads);
      bench.details.threads.push({ ...where, contender: contender.id, round, metric: 'scale conn', operations: r.connections, byName: r.threads.byName });
      parts.push(`${fmt(r.rps, 0)} conn/s (${fmt(r.threads.cs / r.connections, 2)} cs, ${fmt(r.threads.cpuNs / 1e3 / r.connections, 1)} µs per conn)`);
    }

    fx.command(`echo ${JSON.stringify(cfg.echo)}`);
    const e = await fx.wait('echo', cfg.echo.ms + cfg.echo.warmupMs + 30000);
    if (e.error) {
      bench.problem(contender, where, 'echo', e.error);
    } else {
      runs('echo').push(e.perSec);
      runs('echo_cpu').push((e.cpuNs / 1e3) / e.roundTrips);
      runs('echo_cs').push(e.cs / e.roundTrips);
      bench.noteLostThreads(contender, where, e);
      bench.details.threads.push({ ...where, contender: contender.id, round, metric: 'scale echo', operations: e.roundTrips, byName: e.byName });
      parts.push(`echo ${fmt(e.perSec, 0)} msg/s (${fmt(e.cs / e.roundTrips, 3)} cs, ${fmt(e.cpuNs / 1e3 / e.roundTrips, 2)} µs per round trip)`);
    }
    if (fx.errors) for (const err of fx.errors) bench.problem(contender, where, 'server', err);
  } catch (err) {
    bench.problem(contender, where, 'scale', err.message);
  } finally {
    await fx.stop();
  }
  bench.log(`  ${contender.id} ${n} workers round ${round}: ${parts.join(', ') || 'FAILED'}`);
}

function scaleResult(bench) {
  const cfg = bench.cfg.scale;
  const ids = scaleIds(bench);
  const metrics = {};
  for (const key of Object.keys(SCALE_METRICS)) {
    metrics[key] = {};
    for (const id of ids) {
      metrics[key][id] = {};
      for (const n of cfg.workers) metrics[key][id][n] = summarize(bench.scaleRuns[key] ? bench.scaleRuns[key][id][n] : []);
    }
  }
  return {
    workers: cfg.workers, contenders: ids, baseline: BASELINE, rounds: cfg.rounds,
    http: cfg.http, echo: cfg.echo, metrics,
  };
}

module.exports = { scalePhase, scaleResult };
