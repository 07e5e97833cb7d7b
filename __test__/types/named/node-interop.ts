// Our cluster and workers can be handed to code typed with @types/node's
// node:cluster types (for instance a library that takes a Cluster), and the
// other way round.
import cluster, { Worker, Cluster, Address, ClusterSettings } from 'rust-cluster';
import * as nodeCluster from 'node:cluster';

type NodeCluster = nodeCluster.Cluster;
type NodeWorker = nodeCluster.Worker;

export function takesNodeCluster(c: NodeCluster): void {
  console.log(c.isPrimary);
}
export function takesNodeWorker(w: NodeWorker): void {
  console.log(w.id);
}

takesNodeCluster(cluster);
takesNodeWorker(cluster.fork());

export function fromNode(c: NodeCluster, w: NodeWorker, a: nodeCluster.Address, s: nodeCluster.ClusterSettings): void {
  const ours: Cluster = c;
  const ourWorker: Worker = w;
  const ourAddress: Address = a;
  const ourSettings: ClusterSettings = s;
  console.log(ours, ourWorker, ourAddress, ourSettings);
}
