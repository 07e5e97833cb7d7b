// Calls that @types/node's cluster types accept even though they look wrong.
// Ours must accept them as well (a program that type-checks against
// @types/node must type-check against rust-cluster), so they are not in
// fail/: `fork()` takes `env?: any`, and every on()/once()/... has a
// catch-all `(event: string, listener: (...args: any[]) => void)` overload
// that a mistyped listener for a known event falls through to.
import cluster from 'rust-cluster';

declare const fromConfig: unknown;
declare const parsed: any;

cluster.fork(fromConfig);
cluster.fork(parsed);
cluster.fork(null);
cluster.fork(123);
cluster.fork('PORT=80');

cluster.on('exit', (w: string) => console.log(w));
cluster.once('fork', (n: number, extra: boolean) => console.log(n, extra));
cluster.fork().on('exit', (code: string) => console.log(code));
cluster.emit('exit', 'not a worker', 'not a code');
cluster.fork().emit('listening', 42);
