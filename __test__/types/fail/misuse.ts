// Misuses that must be rejected. Every line ending in `expect-error` must get
// a type error and no other line may. (These are rejected by @types/node's
// cluster types too: see tsconfig.fail-reference.json. Some calls that look
// wrong, like `cluster.fork(123)`, are accepted by @types/node and so must be
// by us: see compat/loose.ts.)
import cluster, { Address, ClusterSettings, Worker } from 'rust-cluster';
import * as net from 'node:net';

cluster.isPrimary = false; // expect-error: read-only
cluster.SCHED_RR = 3; // expect-error: read-only
cluster.settings = {}; // expect-error: read-only
cluster.setupPrimary({ serialization: 'xml' }); // expect-error: not 'json' | 'advanced'
cluster.setupPrimary({ exe: 'worker.js' }); // expect-error: unknown setting
cluster.setupPrimary({ args: 'one-string' }); // expect-error: args is an array
cluster.setupPrimary({ silent: 'yes' }); // expect-error: silent is a boolean
cluster.setupPrimary({ maxMessageSize: '1MB' }); // expect-error: a number of bytes
const settings: ClusterSettings = { uid: '1000' }; // expect-error: uid is a number
cluster.schedulingPolicy = 'rr'; // expect-error: a number
cluster.disconnect(42); // expect-error: the callback is a function
const notANumber: number = cluster.fork(); // expect-error: fork returns a Worker
cluster.fork().unknownMethod(); // expect-error: no such method
cluster.workers[1]; // expect-error: workers is possibly undefined
cluster.worker.id; // expect-error: worker is possibly undefined
const w: Worker = Object.values(cluster.workers!)[0]; // expect-error: Worker | undefined
cluster.on(42, () => {}); // expect-error: event names are strings
cluster.nonexistent(); // expect-error: no such member
cluster.engine = 'rust'; // expect-error: read-only

export function workers(worker: Worker, socket: net.Socket): void {
  worker.kill(9); // expect-error: the signal is a string
  worker.send(); // expect-error: a message is required
  worker.send('m', socket, { keepOpen: 'yes' }); // expect-error: keepOpen is a boolean
  worker.send('m', socket, { keepalive: true }); // expect-error: unknown option
  worker.send('m', 'not a handle'); // expect-error: not a handle or callback
  worker.send(Symbol('x')); // expect-error: not serializable
  worker.id = 'one'; // expect-error: id is a number
  const dead: string = worker.isDead(); // expect-error: boolean
  const connected: string = worker.isConnected(); // expect-error: boolean
  const proc: string = worker.process; // expect-error: a ChildProcess
  worker.on('exit', 'not a function'); // expect-error: listener must be a function
  worker.emit(42); // expect-error: event names are strings or symbols
}

const address: Address = { address: '127.0.0.1', port: 80, addressType: 5 }; // expect-error: not 4 | 6 | -1 | 'udp4' | 'udp6'
const noPort: Address = { address: '::1', addressType: 6 }; // expect-error: port is required
