// Type-only imports.
import type { Address, Cluster, ClusterSettings, Worker } from 'rust-cluster';
import type cluster from 'rust-cluster';

export function log(c: Cluster, w: Worker, a: Address, s: ClusterSettings): void {
  console.log(c.isPrimary, w.id, a.port, s.exec);
}
export type C = typeof cluster;
export type Fork = C['fork'];
export type W = ReturnType<Fork>;
export const check = (w: W): Worker => w;
