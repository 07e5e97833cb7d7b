'use strict';
// cluster.stats() and the Prometheus endpoint.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { supervised, command } = require('./helpers');

function fetch(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
    }).on('error', reject);
  });
}

test('stats(): per worker and for the primary, with the documented fields', async () => {
  const p = await supervised({ heartbeat: { interval: 100, timeout: 5000 }, shutdown: { timeout: 3000 } }, 2);
  try {
    // Until each worker's agent said hello and answered a heartbeat (which
    // carries heapUsed): both come some time after 'listening'.
    let value;
    do {
      ({ value } = await command(p, { do: 'stats' }));
    } while (!value.workers.every((w) => w.agent && w.lastHeartbeat !== null));
    const pid = Object.fromEntries(p.events.filter((e) => e.ev === 'listening').map((e) => [e.id, e.pid]));
    assert.deepEqual(value.workers.map((w) => [w.id, w.pid, w.state, w.restarts]), [[1, pid[1], 'listening', 0], [2, pid[2], 'listening', 0]]);
    for (const w of value.workers) {
      assert.deepEqual(Object.keys(w).sort(), ['agent', 'connections', 'cpu', 'heapUsed', 'id', 'lastHeartbeat', 'pid', 'ready', 'restarts', 'rss', 'state', 'uptime']);
      assert.ok(w.uptime > 0 && w.rss > 1e6 && w.heapUsed > 0, JSON.stringify(w));
      assert.ok(w.cpu.user >= 0 && w.cpu.system >= 0 && w.cpu.user + w.cpu.system > 0, JSON.stringify(w.cpu));
      assert.deepEqual(Object.keys(w.connections).sort(), ['handed', 'open']);
      // The engine's counters (round robin hands every connection).
      assert.equal(typeof w.connections.handed, 'number');
    }
    assert.equal(value.primary.pid, p.child.pid);
    assert.ok(value.primary.rss > 1e6 && value.primary.uptime > 0 && value.primary.cpu.user > 0);
    assert.equal(value.primary.metrics, null);
    assert.deepEqual({ workers: value.totals.workers, active: value.totals.active, restarts: value.totals.restarts },
      { workers: 2, active: 2, restarts: 0 });
  } finally {
    process.kill(p.child.pid, 'SIGTERM');
  }
  assert.equal((await p.done).code, 0);
});

test('Prometheus endpoint: /metrics in text format, 404 elsewhere', async () => {
  const p = await supervised({ statsPort: 0, shutdown: { timeout: 3000 } }, 2);
  try {
    const { metrics } = p.events.find((e) => e.ev === 'supervised');
    assert.equal(metrics.address, '127.0.0.1');
    // Two requests to the cluster, handed to the workers by round robin.
    for (let i = 0; i < 2; i++) await fetch(p.port, '/');
    // A worker's `accepted` reply can reach the primary after the client has
    // its response: read until both handoffs are counted (or give up).
    const handedOf = (body) => [...body.matchAll(/^rust_cluster_worker_connections_handed_total\{[^}]*\} (\d+)$/gm)]
      .map((m) => Number(m[1]));
    let r;
    for (let tries = 0; tries < 100; tries++) {
      r = await fetch(metrics.port, '/metrics');
      if (handedOf(r.body).reduce((a, b) => a + b, 0) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
    const listening = p.events.filter((e) => e.ev === 'listening');
    const lines = r.body.split('\n');
    assert.ok(lines.includes('rust_cluster_workers 2'), r.body);
    assert.ok(lines.includes('# TYPE rust_cluster_worker_cpu_seconds_total counter'), r.body);
    assert.deepEqual(listening.map((e) => e.id).sort(), [1, 2]);
    for (const { id, pid } of listening) {
      assert.ok(lines.includes(`rust_cluster_worker_up{id="${id}",pid="${pid}",state="listening"} 1`), r.body);
      assert.ok(lines.includes(`rust_cluster_worker_restarts{id="${id}",pid="${pid}"} 0`), r.body);
      assert.match(r.body, new RegExp(`^rust_cluster_worker_resident_memory_bytes\\{id="${id}",pid="${pid}"\\} \\d+$`, 'm'));
    }
    assert.match(r.body, /^rust_cluster_primary_resident_memory_bytes \d+$/m);
    const handed = handedOf(r.body);
    assert.equal(handed.length, 2, r.body);
    assert.equal(handed[0] + handed[1], 2, r.body);
    assert.ok(lines.includes('rust_cluster_crashes_total 0'));
    // Every sample line is `name{labels} number`.
    for (const line of lines.filter((l) => l && !l.startsWith('#'))) {
      assert.match(line, /^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$/, line);
    }
    assert.equal((await fetch(metrics.port, '/')).status, 404);
  } finally {
    process.kill(p.child.pid, 'SIGTERM');
  }
  assert.equal((await p.done).code, 0);
});
