// An ES module using the named value exports and the namespace import.
import cluster, { isPrimary, isWorker, fork, Worker, workers, worker, settings, setupPrimary } from 'rust-cluster';
import * as ns from 'rust-cluster';

if (isPrimary) {
  setupPrimary({ serialization: 'advanced' });
  const w: Worker = fork();
  console.log(w instanceof Worker, cluster.fork === fork, ns.fork === fork, ns.default.isPrimary);
  cluster.on('online', (w2) => console.log(w2.id));
  console.log(Object.keys(workers ?? {}), settings.exec);
} else if (isWorker) {
  console.log(worker?.id, ns.worker?.id);
}
