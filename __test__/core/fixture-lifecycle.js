'use strict';
// Primary: fork two HTTP workers, make requests, then disconnect; print one
// JSON line per event. Used under both node:cluster and rust-cluster.
const cluster = require(process.env.CLUSTER_MODULE);
const http = require('node:http');

if (cluster.isPrimary) {
  const out = (ev) => process.stdout.write(`${JSON.stringify(ev)}\n`);
  setTimeout(() => { out({ ev: 'timeout' }); process.exit(2); }, 20000).unref();
  cluster.on('fork', (w) => out({ ev: 'fork', id: w.id, state: w.state }));
  cluster.on('online', (w) => out({ ev: 'online', id: w.id, state: w.state }));
  cluster.on('listening', (w, a) => out({ ev: 'listening', id: w.id, addressType: a.addressType, address: a.address, keys: Object.keys(a) }));
  cluster.on('disconnect', (w) => out({ ev: 'disconnect', id: w.id, state: w.state, dead: w.isDead(), listed: w.id in cluster.workers }));
  cluster.on('exit', (w, code, signal) => out({ ev: 'exit', id: w.id, code, signal, eAD: w.exitedAfterDisconnect, state: w.state }));
  cluster.on('message', (w, m) => out({ ev: 'message', id: w.id, m }));
  const ports = new Set();
  let listening = 0;
  cluster.on('listening', (w, a) => {
    ports.add(a.port);
    if (++listening < 2) return;
    out({ ev: 'ports', same: ports.size === 1 });
    let done = 0;
    const seen = new Set();
    for (let i = 0; i < 40; i++) {
      http.get({ port: a.port, host: '127.0.0.1', agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => {
          seen.add(body);
          if (++done === 40) {
            out({ ev: 'requests', ok: done, workers: seen.size });
            cluster.disconnect(() => out({ ev: 'disconnected' }));
          }
        });
      }).on('error', (e) => out({ ev: 'request-error', message: e.message }));
    }
  });
  cluster.fork();
  cluster.fork();
} else {
  http.createServer((req, res) => res.end(String(cluster.worker.id))).listen(0, () => process.send({ up: cluster.worker.id }));
}
