// Module augmentation, as done for @types/node's 'cluster' module: extra
// members on the Worker and Cluster interfaces and on the settings.
import cluster, { Worker } from 'rust-cluster';

declare module 'rust-cluster' {
  interface Worker {
    role?: string;
  }
  interface Cluster {
    readonly appName?: string;
  }
  interface ClusterSettings {
    experimental?: boolean;
  }
}

const w: Worker = cluster.fork();
w.role = 'web';
const name: string | undefined = cluster.appName;
cluster.setupPrimary({ experimental: true });
console.log(name, cluster.workers?.['1']?.role);
export {};
