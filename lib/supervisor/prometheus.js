'use strict';
// The Prometheus text format (version 0.0.4) of cluster.stats(), and the
// opt-in HTTP server that serves it on /metrics (and /healthz, /readyz:
// health.js).

function label(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function render(s) {
  const out = [];
  const metric = (name, type, help, samples) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      if (value === null || value === undefined) continue;
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${value}`);
    }
  };
  const perWorker = (get) => s.workers.map((w) => [{ id: w.id, pid: w.pid }, get(w)]);
  metric('rust_cluster_workers', 'gauge', 'Worker processes running (draining ones included).',
    [[{}, s.totals.workers]]);
  metric('rust_cluster_workers_active', 'gauge', 'Workers serving (not draining).', [[{}, s.totals.active]]);
  metric('rust_cluster_worker_up', 'gauge', 'Worker state (1 per worker, state label).',
    s.workers.map((w) => [{ id: w.id, pid: w.pid, state: w.state }, 1]));
  metric('rust_cluster_worker_uptime_seconds', 'gauge', 'Seconds since the worker was forked.',
    perWorker((w) => w.uptime));
  metric('rust_cluster_worker_restarts', 'gauge', 'Times the worker\'s place was taken over before it.',
    perWorker((w) => w.restarts));
  metric('rust_cluster_worker_resident_memory_bytes', 'gauge', 'Resident set size of the worker.',
    perWorker((w) => w.rss));
  metric('rust_cluster_worker_cpu_seconds_total', 'counter', 'CPU time of the worker.',
    s.workers.flatMap((w) => (w.cpu ? [
      [{ id: w.id, pid: w.pid, mode: 'user' }, w.cpu.user],
      [{ id: w.id, pid: w.pid, mode: 'system' }, w.cpu.system],
    ] : [])));
  metric('rust_cluster_worker_connections_handed_total', 'counter', 'Connections handed to the worker.',
    perWorker((w) => w.connections.handed));
  metric('rust_cluster_worker_connections_open', 'gauge', 'Connections open in the worker.',
    perWorker((w) => w.connections.open));
  metric('rust_cluster_primary_resident_memory_bytes', 'gauge', 'Resident set size of the primary.',
    [[{}, s.primary.rss]]);
  metric('rust_cluster_primary_cpu_seconds_total', 'counter', 'CPU time of the primary.',
    [[{ mode: 'user' }, s.primary.cpu.user], [{ mode: 'system' }, s.primary.cpu.system]]);
  metric('rust_cluster_primary_uptime_seconds', 'gauge', 'Seconds since the primary started.',
    [[{}, s.primary.uptime]]);
  for (const [key, help, field = key] of [
    ['crashes', 'Workers that exited without being disconnected.'],
    ['respawns', 'Workers forked to replace crashed ones.'],
    ['reloads', 'Workers replaced by reload().'],
    ['hangs', 'Workers killed for missing their heartbeat.'],
    ['recycles', 'Workers replaced for using more than maxRss.'],
    ['max_requests', 'Workers replaced for reaching maxRequests.', 'maxRequests'],
  ]) {
    metric(`rust_cluster_${key}_total`, 'counter', help, [[{}, s.totals[field]]]);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Serve render(getStats()) on /metrics, and whatever `other(path, req, res)`
 * answers (returning true), the health endpoints, listening as
 * `where` says ({ port, host }, or { fd } inherited from an upgrade's old
 * primary). Resolves once listening.
 */
function listen(where, getStats, other = () => false) {
  // node:http on first use: loading it costs every primary ~12 ms at start.
  const server = require('node:http').createServer((req, res) => {
    const path = (req.url || '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      const body = render(getStats());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } else if (!other(path, req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.fd === undefined ? { port: where.port, host: where.host } : { fd: where.fd }, () => {
      server.removeListener('error', reject);
      // The primary lives as long as its workers; this server must not
      // keep it alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

module.exports = { render, listen };
