'use strict';
// cluster.stats(): a snapshot of the primary and every running worker.
// Memory and CPU come from /proc on Linux (fresh), else from the worker's
// last heartbeat answer. Units: bytes, seconds.
const fs = require('node:fs');
const registry = require('./registry');
const health = require('./health');

// Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux).
const CLK_TCK = 100;

function readProc(pid) {
  if (process.platform !== 'linux' || !pid) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which may itself contain spaces.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return {
      rss: rss ? Number(rss[1]) * 1024 : null,
      cpu: { user: Number(f[11]) / CLK_TCK, system: Number(f[12]) / CLK_TCK },
    };
  } catch {
    return null;
  }
}

// Per-worker connection counters of the engine (connectionStats() of
// lib/process.js or lib/portable/connections.js): `handed` always, `open`
// once workers report closes.
// The first stats() asks the workers' agents to report them.
let tracking = false;
function connectionCounts(proc) {
  const byId = new Map();
  if (typeof proc.connectionStats !== 'function') return byId;
  try {
    if (!tracking && typeof proc.trackConnections === 'function') {
      tracking = true;
      proc.trackConnections();
    }
    for (const c of proc.connectionStats()) byId.set(c.id, c);
  } catch {
    // Counters unavailable: reported as null.
  }
  return byId;
}

function workerStats(st, worker, now, counts) {
  const m = registry.get(worker);
  const pid = worker.process.pid ?? null;
  const proc = readProc(pid);
  const hb = m.heartbeat;
  const c = counts.get(worker.id);
  let state = worker.state;
  if ((m.draining || m.retiring === 'hang') && !worker.isDead()) state = 'draining';
  return {
    id: worker.id,
    pid,
    state,
    uptime: (now - m.startedAt) / 1000,
    connections: {
      handed: c && typeof c.handed === 'number' ? c.handed : null,
      open: c && typeof c.open === 'number' ? c.open : null,
    },
    restarts: m.restarts,
    ready: health.serves(st, worker),
    rss: proc ? proc.rss : (hb ? hb.rss : null),
    cpu: proc ? proc.cpu
      : (hb && hb.cpu.user !== null ? { user: hb.cpu.user / 1e6, system: hb.cpu.system / 1e6 } : null),
    heapUsed: hb ? hb.heapUsed : null,
    agent: m.agent,
    lastHeartbeat: hb ? (now - hb.at) / 1000 : null,
  };
}

function stats(state, proc) {
  const now = Date.now();
  const counts = connectionCounts(proc);
  const workers = registry.liveWorkers().map((w) => workerStats(state, w, now, counts));
  const cpu = process.cpuUsage();
  const sum = (get) => workers.reduce((acc, w) => {
    const v = get(w);
    return v === null || acc === null ? null : acc + v;
  }, 0);
  return {
    primary: {
      pid: process.pid,
      uptime: process.uptime(),
      rss: process.memoryUsage.rss(),
      cpu: { user: cpu.user / 1e6, system: cpu.system / 1e6 },
      metrics: state.statsAddress(),
      control: state.control ? state.control.path : null,
    },
    workers,
    totals: {
      workers: workers.length,
      active: registry.activeWorkers().length,
      handed: sum((w) => w.connections.handed),
      open: sum((w) => w.connections.open),
      restarts: workers.reduce((acc, w) => acc + w.restarts, 0),
      ...state.counters,
    },
  };
}

module.exports = { stats, readProc };
