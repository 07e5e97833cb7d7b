// An ES module (under "module": "nodenext") using what @types/node declares:
// the default import and the named type exports.
import cluster, { type Worker, type Address } from 'rust-cluster';
import * as http from 'node:http';
import { availableParallelism } from 'node:os';

if (cluster.isPrimary) {
  for (let i = 0; i < availableParallelism(); i++) cluster.fork();
  cluster.on('exit', (worker: Worker, code: number, signal: string) => {
    console.log(`worker ${worker.process.pid} died (${signal || code})`);
  });
  cluster.on('listening', (worker, address: Address) => {
    console.log(worker.id, address.port);
  });
  for (const w of Object.values(cluster.workers!)) w?.send('hello');
} else {
  http.createServer((req, res) => res.end('hi')).listen(8000);
  console.log(`I am worker #${cluster.worker!.id}`);
}
