// `import * as` and `import = require()` with the members used directly,
// plus the `default` property in both.
import * as ns from 'rust-cluster';
import req = require('rust-cluster');
import def from 'rust-cluster';

// Own members, present on a namespace object too.
for (const c of [ns, req, def, ns.default, req.default]) {
  const primary: boolean = c.isPrimary;
  if (primary) {
    c.setupPrimary({ silent: true });
    const w: ns.Worker = c.fork();
    console.log(w.id, Object.keys(c.workers ?? {}));
  }
}
// The inherited EventEmitter methods, on the cluster object itself.
for (const c of [req, def, ns.default, req.default]) {
  c.on('exit', (worker, code) => console.log(worker.id, code));
}
const ctor: typeof ns.Worker = req.Worker;
const ctor2: typeof def.Worker = ns.Worker;
console.log(ctor === ctor2, ns.SCHED_RR, req.SCHED_NONE, ns.workers, req.worker);
