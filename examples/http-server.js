'use strict';
// A clustered HTTP server: one worker per core, round-robin balanced by the
// Rust primary. Run with `npm start`; PORT and WORKERS override the defaults.
const cluster = require('..');
const http = require('node:http');
const os = require('node:os');

const port = Number(process.env.PORT || 8000);

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS || os.availableParallelism());
  console.log(`primary ${process.pid}: starting ${workers} workers on port ${port}`);
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('listening', (worker, address) => {
    console.log(`worker ${worker.id} (pid ${worker.process.pid}) listening on ${address.port}`);
  });
  cluster.on('exit', (worker, code, signal) => {
    console.log(`worker ${worker.id} exited (${signal || code})`);
  });
  // Ctrl-C, and `kill` of the process group, stop the workers as well: one
  // already gone cannot be asked to disconnect, and the EPIPE of its channel
  // is no reason to crash.
  cluster.on('fork', (worker) => worker.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
  }));
  const stop = () => cluster.disconnect(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  http.createServer((req, res) => {
    res.end(`hello from worker ${cluster.worker.id} (pid ${process.pid})\n`);
  }).listen(port);
}
