'use strict';
// Soak: CONNECTIONS HTTP connections (Connection: close, from a separate
// load process) while RESTARTS workers are replaced one by one. The primary
// reports its open descriptors and RSS after warm-up and at the end; they
// must be within 5% (plus a small absolute slack for RSS noise).
//
//   npm run soak                       100,000 connections, 200 restarts
//   node scripts/soak.js 5000 20       a short run (what `npm test` does)
const path = require('node:path');
const fs = require('node:fs');
const http = require('node:http');

const CONNECTIONS = Number(process.argv[2] || process.env.SOAK_CONNECTIONS || 100000);
const RESTARTS = Number(process.argv[3] || process.env.SOAK_RESTARTS || 200);
const WORKERS = 2;
const CONCURRENCY = 16;

const cluster = require(process.env.CLUSTER_MODULE || path.join(__dirname, '..'));

function snapshot() {
  if (global.gc) global.gc();
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return {
    fds: fs.readdirSync('/proc/self/fd').length,
    rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)[1]),
  };
}

function runLoad(port, total, onProgress) {
  return new Promise((resolve) => {
    let started = 0;
    let done = 0;
    let failed = 0;
    const next = () => {
      if (started >= total) return;
      started++;
      http.get({ port, host: '127.0.0.1', agent: false }, (res) => {
        res.resume();
        res.on('end', finish);
      }).on('error', () => { failed++; finish(); });
    };
    const finish = () => {
      done++;
      onProgress(done);
      if (done === total) resolve({ done, failed });
      else next();
    };
    for (let i = 0; i < CONCURRENCY; i++) next();
  });
}

if (cluster.isPrimary && !process.env.SOAK_LOAD) {
  const startedAt = Date.now();
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  let restarts = 0;
  let port;
  let before;
  // Replace the oldest worker: fork the new one, retire the old once the new
  // one listens, so the port never lacks a worker.
  const retiring = new Set();
  const restartOne = () => {
    const oldest = Object.values(cluster.workers).find((w) => !retiring.has(w.id));
    retiring.add(oldest.id);
    const fresh = cluster.fork();
    fresh.once('listening', () => oldest.disconnect());
    restarts++;
  };
  let listening = 0;
  cluster.on('listening', (worker, address) => {
    if (++listening !== WORKERS) return;
    port = address.port;
    // Warm up, then take the baseline.
    const warm = require('node:child_process').fork(__filename, [String(Math.min(2000, CONNECTIONS)), '0'], {
      env: { ...process.env, SOAK_LOAD: '1', SOAK_PORT: String(port) },
    });
    warm.on('exit', () => {
      before = snapshot();
      const load = require('node:child_process').fork(__filename, [String(CONNECTIONS), String(RESTARTS)], {
        env: { ...process.env, SOAK_LOAD: '1', SOAK_PORT: String(port) },
      });
      load.on('message', (m) => {
        if (m.restart && restarts < RESTARTS) restartOne();
        if (m.result) {
          // Let the last retired workers leave before measuring.
          const settle = () => {
            if (Object.keys(cluster.workers).length > WORKERS) return setTimeout(settle, 50);
            setTimeout(() => {
              const after = snapshot();
              const report = {
                connections: m.result.done, failed: m.result.failed, restarts,
                seconds: (Date.now() - startedAt) / 1000, before, after,
                fdGrowthPct: ((after.fds - before.fds) / before.fds) * 100,
                rssGrowthPct: ((after.rssKiB - before.rssKiB) / before.rssKiB) * 100,
              };
              console.log(JSON.stringify(report));
              const ok = after.fds <= before.fds * 1.05 &&
                after.rssKiB <= before.rssKiB * 1.05 + 2048 && m.result.failed === 0 && restarts === RESTARTS;
              cluster.disconnect(() => process.exit(ok ? 0 : 1));
            }, 200);
          };
          settle();
        }
      });
    });
  });
} else if (cluster.isPrimary) {
  // The load process.
  const port = Number(process.env.SOAK_PORT);
  const every = RESTARTS > 0 ? Math.floor(CONNECTIONS / (RESTARTS + 1)) : Infinity;
  runLoad(port, CONNECTIONS, (done) => {
    if (done % every === 0) process.send({ restart: true });
  }).then((result) => {
    if (process.send) process.send({ result }, () => process.exit(0));
  });
} else {
  http.createServer((req, res) => res.end('ok')).listen(0);
}
