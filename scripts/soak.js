'use strict';
// Soak: CONNECTIONS HTTP connections (Connection: close, from a separate
// load process) while RESTARTS workers are replaced one by one. The primary
// reports its open descriptors and RSS (total, anonymous, file-backed) after
// warm-up and at the end; descriptors and anonymous memory must be within 5%
// (plus a small absolute slack for the V8 heap's reservation).
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
  if (process.env.SOAK_SMAPS) fs.writeFileSync(`${process.env.SOAK_SMAPS}.${Date.now()}`, fs.readFileSync('/proc/self/smaps'));
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const mem = process.memoryUsage();
  return {
    fds: fs.readdirSync('/proc/self/fd').length,
    rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)[1]),
    rssAnonKiB: Number(/RssAnon:\s+(\d+)/.exec(status)[1]),
    rssFileKiB: Number(/RssFile:\s+(\d+)/.exec(status)[1]),
    heapUsedKiB: Math.round(mem.heapUsed / 1024),
    heapTotalKiB: Math.round(mem.heapTotal / 1024),
    externalKiB: Math.round(mem.external / 1024),
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
  let loadResult = null;
  let restartsDone = RESTARTS === 0;

  // Rolling restarts, one at a time: fork a replacement, retire the oldest
  // worker once the new one listens, go on once the old one has exited.
  const restartNext = () => {
    if (restarts === RESTARTS) {
      restartsDone = true;
      return maybeFinish();
    }
    restarts++;
    const [oldest] = Object.values(cluster.workers);
    const fresh = cluster.fork();
    fresh.once('listening', () => {
      oldest.once('exit', restartNext);
      oldest.disconnect();
    });
  };

  const forkLoad = (connections, env = {}) => require('node:child_process').fork(__filename, [String(connections)], {
    env: { ...process.env, ...env, SOAK_LOAD: '1', SOAK_PORT: String(port) },
  });

  function maybeFinish() {
    if (!loadResult || !restartsDone) return;
    setTimeout(() => {
      const after = snapshot();
      const report = {
        connections: loadResult.done, failed: loadResult.failed, restarts,
        seconds: (Date.now() - startedAt) / 1000, before, after,
        fdGrowthPct: ((after.fds - before.fds) / before.fds) * 100,
        rssGrowthPct: ((after.rssKiB - before.rssKiB) / before.rssKiB) * 100,
        rssAnonGrowthPct: ((after.rssAnonKiB - before.rssAnonKiB) / before.rssAnonKiB) * 100,
      };
      console.log(JSON.stringify(report));
      // The leak check is on anonymous memory (what the process allocates;
      // 2 MiB of slack for V8's heap reservation moving). File-backed RSS
      // grows once by a few MiB when V8's optimizing compiler first runs
      // (pages of node's own binary; run with --no-opt to see it vanish).
      const ok = after.fds <= before.fds * 1.05 && after.rssAnonKiB <= before.rssAnonKiB * 1.05 + 2048 &&
        loadResult.failed === 0;
      cluster.disconnect(() => process.exit(ok ? 0 : 1));
    }, 200);
  }

  let listening = 0;
  cluster.on('listening', (worker, address) => {
    if (++listening !== WORKERS) return;
    port = address.port;
    // Warm up with a tenth of the work (at least 2,000 connections and 3
    // restarts, at most 10,000 and 30), so that V8 has compiled and the
    // kernel has paged in the code paths before the baseline is taken: RSS
    // includes file-backed pages of node's own binary, which grow as new
    // code runs for the first time and say nothing about leaks.
    const warmConnections = Math.max(Math.min(2000, CONNECTIONS), Math.min(10000, Math.round(CONNECTIONS / 10)));
    forkLoad(warmConnections).on('exit', () => {
      let warmRestarts = Math.max(Math.min(3, RESTARTS), Math.min(30, Math.round(RESTARTS / 10)));
      const warmRestart = () => {
        if (warmRestarts-- === 0) {
          before = snapshot();
          forkLoad(CONNECTIONS).on('message', (m) => {
            if (m.result) {
              loadResult = m.result;
              maybeFinish();
            }
          });
          return restartNext();
        }
        const [oldest] = Object.values(cluster.workers);
        cluster.fork().once('listening', () => {
          oldest.once('exit', warmRestart);
          oldest.disconnect();
        });
      };
      warmRestart();
    });
  });
} else if (cluster.isPrimary) {
  // The load process.
  const port = Number(process.env.SOAK_PORT);
  runLoad(port, CONNECTIONS, () => {}).then((result) => {
    if (process.send) process.send({ result }, () => process.exit(0));
  });
} else {
  http.createServer((req, res) => res.end('ok')).listen(0);
}
