// Named imports of the cluster's own members: what index.mjs exports (like
// node:cluster's ES module namespace) and what a CommonJS
// `const { fork } = require(...)` reads. @types/node 20 does not declare
// these for node:cluster; newer @types/node (with `export =`) does.
import {
  isPrimary,
  isMaster,
  isWorker,
  fork,
  workers,
  worker,
  settings,
  setupPrimary,
  setupMaster,
  disconnect,
  schedulingPolicy,
  SCHED_RR,
  SCHED_NONE,
  SCHED_REUSEPORT,
  SCHED_LEASTCONN,
  SCHED_STICKY,
  Worker,
  type Address,
  type ClusterSettings,
  type Cluster,
  type SerializationType,
  type WorkerOptions,
  type ClusterEventMap,
  type WorkerEventMap,
} from 'rust-cluster';

const flags: boolean[] = [isPrimary, isMaster, isWorker];
const policy: number = schedulingPolicy === SCHED_RR ? SCHED_RR : SCHED_NONE;
const s: ClusterSettings = settings;
const ser: SerializationType = 'advanced';
console.log(flags, policy, s, ser);
const added: number[] = [SCHED_REUSEPORT, SCHED_LEASTCONN, SCHED_STICKY];
const withPolicy: ClusterSettings = { exec: 'worker.js', schedulingPolicy: SCHED_LEASTCONN, maxMessageSize: 1 << 20, handoffTimeout: 5000 };
console.log(added, withPolicy);

if (isPrimary) {
  setupPrimary({ exec: 'worker.js', serialization: ser });
  setupMaster();
  const w: Worker = fork({ ROLE: 'web' });
  w.on('listening', (a: Address) => console.log(a.port));
  if (w instanceof Worker) console.log('a Worker');
  for (const each of Object.values(workers ?? {})) each?.send('hello');
  disconnect(() => console.log('done'));
} else {
  console.log(worker?.id);
}

// Constructible, as in the latest @types/node.
const opts: WorkerOptions = { id: 1, state: 'none' };
export const made = new Worker(opts);
class MyWorker extends Worker {}
export const mine = new MyWorker();

type ExitArgs = ClusterEventMap['exit'];
export const exitArgs: ExitArgs = [made, 0, 'SIGTERM'];
export const workerExit: WorkerEventMap['exit'] = [0, 'SIGTERM'];
export const asCluster = (c: Cluster): boolean => c.isPrimary;
