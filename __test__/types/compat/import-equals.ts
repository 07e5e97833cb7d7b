// `import x = require()` the way @types/node types it.
import cluster = require('rust-cluster');

const c: cluster.Cluster = cluster.default;
if (c.isPrimary) {
  const w: cluster.Worker = c.fork();
  w.send({ hello: 'world' });
  c.on('fork', (worker: cluster.Worker) => console.log(worker.id));
} else {
  console.log(c.worker?.id);
}
