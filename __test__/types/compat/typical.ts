// Typical programs written against @types/node's cluster types: typed event
// handlers, handles passed to workers, settings, the worker table, using the
// named type exports.
import cluster, { Address, Cluster, ClusterSettings, Worker } from 'rust-cluster';
import * as dgram from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import * as net from 'node:net';
import type { ChildProcess } from 'node:child_process';

// Handlers with explicit parameter types.
function onExit(worker: Worker, code: number, signal: string): void {
  console.log(worker.id, code, signal, worker.exitedAfterDisconnect);
}
function onListening(worker: Worker, address: Address): void {
  const kind: 4 | 6 | -1 | 'udp4' | 'udp6' = address.addressType;
  console.log(worker.id, address.address, address.port, kind);
}
function onMessage(worker: Worker, message: any, handle?: net.Socket | net.Server): void {
  if (handle instanceof net.Socket) handle.end();
  console.log(worker.id, message);
}
cluster.on('exit', onExit);
cluster.once('listening', onListening);
cluster.addListener('message', onMessage);
cluster.prependListener('fork', (worker: Worker) => worker.id);
cluster.prependOnceListener('setup', (settings: ClusterSettings) => settings.exec);
cluster.on('online', (worker) => {
  const pid: number | undefined = worker.process.pid;
  console.log(pid);
});
cluster.on('some-custom-event', (...args: any[]) => console.log(args));
cluster.off('exit', onExit);
cluster.removeListener('listening', onListening);
cluster.removeAllListeners('message');
cluster.setMaxListeners(50);
console.log(cluster.listenerCount('exit'), cluster.listeners('exit'), cluster.eventNames());

// Chaining returns the cluster.
cluster.on('fork', () => {}).on('exit', () => {}).once('online', () => {});

// emit with the declared argument lists.
export function emits(w: Worker, a: Address, s: net.Socket): void {
  cluster.emit('fork', w);
  cluster.emit('exit', w, 0, 'SIGTERM');
  cluster.emit('listening', w, a);
  cluster.emit('message', w, { hello: 1 }, s);
  cluster.emit('setup', {});
  w.emit('exit', 1, 'SIGKILL');
  w.emit('listening', a);
  w.emit('error', new Error('x'));
}

// Settings.
cluster.setupPrimary({
  exec: __filename,
  args: ['--port', '0'],
  execArgv: ['--enable-source-maps'],
  silent: false,
  serialization: 'advanced',
  cwd: process.cwd(),
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  inspectPort: () => 9230,
  windowsHide: true,
});
cluster.setupPrimary();
const settings: ClusterSettings = cluster.settings;
const exec: string | undefined = settings.exec;
const args: readonly string[] | undefined = settings.args;
console.log(exec, args);

// Forking, with and without env.
const worker: Worker = cluster.fork({ PORT: '8080', NODE_ENV: 'production' });
cluster.fork();
cluster.fork(process.env);

// Worker methods.
const proc: ChildProcess = worker.process;
console.log(proc.pid, worker.id, worker.isConnected(), worker.isDead());
worker.kill();
worker.kill('SIGKILL');
worker.destroy('SIGTERM');
const same: Worker = worker.disconnect();
console.log(same);

// Sending messages and handles.
export function sends(socket: net.Socket, server: net.Server, udp: dgram.Socket): void {
  const ok: boolean = worker.send({ cmd: 'hello', n: 1 });
  worker.send('text');
  worker.send(42);
  worker.send(true);
  worker.send(10n);
  worker.send({ cmd: 'x' }, (err) => {
    if (err) console.error(err.message);
  });
  worker.send('socket', socket);
  worker.send('server', server);
  worker.send('udp', udp);
  worker.send('nothing', undefined);
  worker.send('socket', socket, { keepOpen: true });
  worker.send('socket', socket, { keepOpen: false }, (err: Error | null) => console.log(err));
  worker.send('socket', socket, (err) => console.log(err));
  console.log(ok);
}

// The worker table.
export function workerTable(): void {
  for (const w of Object.values(cluster.workers!)) {
    w?.send('shutdown');
  }
  const ids: string[] = Object.keys(cluster.workers ?? {});
  const first: Worker | undefined = cluster.workers?.[ids[0]];
  first?.on('exit', (code, signal) => console.log(code, signal));
  const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
  console.log(alive.length);
}

// In a worker.
export function inWorker(): void {
  if (cluster.isWorker && cluster.worker) {
    const me: Worker = cluster.worker;
    me.on('disconnect', () => process.exit(0));
    me.on('message', (msg, handle) => console.log(msg, handle));
    me.send({ ready: true });
  }
}

// Worker events with typed listeners.
worker.on('error', (err: Error) => console.error(err.stack));
worker.once('exit', (code: number, signal: string) => console.log(code, signal));
worker.prependListener('listening', (address: Address) => console.log(address.port));
worker.prependOnceListener('online', () => {});
worker.addListener('message', (message: any, handle: net.Socket | net.Server) => console.log(message, handle));
worker.on('disconnect', () => {}).on('online', () => {});

// The cluster and workers are EventEmitters.
const ee: EventEmitter = cluster;
const wee: EventEmitter = worker;
console.log(ee, wee);
export async function waitForOnline(): Promise<void> {
  const w = cluster.fork();
  await once(w, 'online');
  await once(cluster, 'exit');
}

// The Cluster interface as a type.
function describe(c: Cluster): string {
  return `${c.isPrimary} ${c.isWorker} ${c.schedulingPolicy} ${c.SCHED_RR} ${c.SCHED_NONE}`;
}
console.log(describe(cluster));

// A restart-on-crash loop.
export function keepAlive(n: number): void {
  if (!cluster.isPrimary) return;
  for (let i = 0; i < n; i++) cluster.fork();
  cluster.on('exit', (w, code, signal) => {
    if (!w.exitedAfterDisconnect) {
      console.log(`worker ${w.process.pid} died (${signal || code}), restarting`);
      cluster.fork();
    }
  });
}

// Graceful shutdown with a timeout.
export function shutdown(done: () => void): void {
  const timer = setTimeout(() => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGKILL');
  }, 5000);
  cluster.disconnect(() => {
    clearTimeout(timer);
    done();
  });
}
