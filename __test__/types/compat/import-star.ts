// `import * as` the way @types/node types it: the cluster object is
// `.default`, the named exports are the classes and interfaces.
import * as cluster from 'rust-cluster';

const c: cluster.Cluster = cluster.default;
if (c.isPrimary) {
  const w: cluster.Worker = cluster.default.fork();
  w.on('listening', (address: cluster.Address) => console.log(address.port));
  cluster.default.on('exit', (worker, code, signal) => console.log(worker.id, code, signal));
  const s: cluster.ClusterSettings = { exec: 'worker.js' };
  cluster.default.setupPrimary(s);
  if (w instanceof cluster.Worker) console.log(w.id);
}
