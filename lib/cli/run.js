'use strict';
// `rust-cluster [options] app.js [args...]`: run an ordinary single-process
// Node server on every core, supervised, with a control socket.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const controlPaths = require('../supervisor/control-paths');

const HELP = `Usage: rust-cluster [options] app.js [args...]
       rust-cluster status|reload|scale N|stop|top|upgrade [--name NAME]   (see rust-cluster status --help)

Runs app.js, an ordinary single-process server (one that just calls
listen(); it does not need to require rust-cluster), in several worker
processes that share its listening sockets, with a Rust primary in front.

Options:
  -w, --workers N|max       Number of workers (default: max, one per core).
  -p, --policy NAME         How connections are spread: rr (round robin in
                            the primary, the default), none (the OS decides,
                            one shared socket), reuseport (one SO_REUSEPORT
                            socket per worker, the kernel balances),
                            leastconn (fewest open connections) or sticky
                            (the same client IP, the same worker).
  -n, --name NAME           Name of the cluster for status, reload, scale,
                            stop and top (default: app.js's name without
                            extension). Another running cluster of that name
                            is an error.
      --reload-signal SIG   Signal that replaces the workers one at a time
                            (rolling reload, no dropped connections).
                            Default SIGHUP; 'none' turns it off.
      --respawn             Replace workers that exit on their own (crash,
                            kill), waiting 100 ms, 200 ms, 400 ms... between
                            crashes; 5 crashes within 60 s stop respawning.
      --shutdown-timeout MS On SIGTERM or SIGINT, how long workers get to
                            finish their requests before they are killed
                            (default 10000).
      --drain-timeout MS    How long a worker taken out of service (reload,
                            scale down, memory) may take to finish
                            (default 10000).
      --heartbeat-timeout MS
                            Kill and replace a worker whose event loop has
                            not answered for this long (default: off).
      --max-rss MB          Replace (like a reload) a worker whose resident
                            memory exceeds MB megabytes (default: off).
      --max-requests N      Replace (like a reload) a worker once it has
                            served N connections (default: off).
      --max-requests-jitter N
                            Add a random 0..N to each worker's --max-requests,
                            so that workers do not all leave together.
      --ready-signal        A worker is up when it calls process.send('ready')
                            instead of when it listens (for workers that
                            never listen: queue consumers, schedulers).
      --watch[=DIR]         Development: reload when a file under DIR (default:
                            app.js's directory) changes; node_modules and
                            dot-folders are ignored.
      --prefix-logs         Prefix every line the workers print with the
                            worker's id: [3] ...
      --timestamps          With --prefix-logs, an ISO time before the id.
      --stats-port N        Serve Prometheus metrics on
                            http://127.0.0.1:N/metrics, and /healthz and
                            /readyz for orchestrators (0: any free port).
      --stats-host ADDR     Address for the metrics server (default 127.0.0.1).
      --upgrade-timeout MS  How long the new primary of an upgrade (SIGUSR2,
                            rust-cluster upgrade) may take until its workers
                            serve; after that it is stopped and this one
                            goes on (default 30000).
  -q, --quiet               No status lines.
  -h, --help                This help.

Signals to the primary:
  SIGHUP (or --reload-signal)  rolling reload
  SIGTERM, SIGINT              graceful shutdown; a second one kills at once
  SIGTTIN, SIGTTOU             one worker more, one less
  SIGUSR2                      upgrade: a new primary from the same command
                               line takes over the sockets, the old one
                               drains its workers and exits

Under systemd (Type=notify), the primary reports READY, RELOADING,
STOPPING and feeds the watchdog (WatchdogSec=).

Status lines (worker up, down, respawned, reloaded...) go to stderr.

Exit codes:
  0    shut down, every worker finished in time
  124  shut down, workers still running after --shutdown-timeout were killed
  130, 143
       a second SIGINT/SIGTERM cut the shutdown short (128 + signal number)
  1    no worker left (they exited and were not respawned, or a crash loop)
  2    bad command line, or another cluster of that name runs
`;

function usage(message) {
  process.stderr.write(`rust-cluster: ${message}\nTry 'rust-cluster --help'.\n`);
  process.exit(2);
}

function parse(argv) {
  const o = {
    workers: 'max', policy: 'rr', name: null, reloadSignal: 'SIGHUP', respawn: false, shutdownTimeout: 10000,
    drainTimeout: 10000, heartbeatTimeout: null, maxRss: null, maxRequests: null, maxRequestsJitter: 0,
    readySignal: false, watch: null, prefixLogs: false, timestamps: false, statsPort: null, statsHost: '127.0.0.1',
    upgradeTimeout: 30000, quiet: false, help: false, app: null, args: [],
  };
  const number = (name, v, min, max) => {
    if (!/^\d+$/.test(v || '') || Number(v) < min || Number(v) > max) {
      usage(`${name} needs an integer from ${min} to ${max}, got '${v ?? ''}'`);
    }
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const take = () => (value !== undefined ? value : argv[++i]);
    switch (arg) {
      case '-h': case '--help': o.help = true; break;
      case '-q': case '--quiet': o.quiet = true; break;
      case '--respawn': o.respawn = true; break;
      case '--ready-signal': o.readySignal = true; break;
      case '--prefix-logs': o.prefixLogs = true; break;
      case '--timestamps': o.timestamps = true; break;
      case '-w': case '--workers': {
        const v = take();
        o.workers = v === 'max' ? 'max' : number('--workers', v, 1, 1024);
        break;
      }
      case '-p': case '--policy': o.policy = take() || usage('--policy needs a name'); break;
      case '-n': case '--name': {
        const v = take();
        if (!v || !controlPaths.validName(v)) {
          usage(`--name: '${v ?? ''}' is not a valid name (letters, digits, '.', '_', '-'; at most 64)`);
        }
        o.name = v;
        break;
      }
      case '--reload-signal': {
        const v = take();
        if (v === 'none') o.reloadSignal = null;
        else {
          const sig = v && !v.startsWith('SIG') ? `SIG${v}` : v;
          if (!sig || !Object.prototype.hasOwnProperty.call(os.constants.signals, sig)) {
            usage(`--reload-signal: unknown signal '${v ?? ''}'`);
          }
          o.reloadSignal = sig;
        }
        break;
      }
      case '--watch':
        // An optional value: --watch=DIR, or --watch DIR when DIR is a directory.
        if (value !== undefined) o.watch = value || usage('--watch= needs a directory');
        else if (argv[i + 1] !== undefined && isDirectory(argv[i + 1])) o.watch = argv[++i];
        else o.watch = true;
        break;
      case '--shutdown-timeout': o.shutdownTimeout = number(arg, take(), 0, 2 ** 31 - 1); break;
      case '--drain-timeout': o.drainTimeout = number(arg, take(), 0, 2 ** 31 - 1); break;
      case '--heartbeat-timeout': o.heartbeatTimeout = number(arg, take(), 1, 2 ** 31 - 1); break;
      case '--max-rss': o.maxRss = number(arg, take(), 1, 2 ** 32); break;
      case '--max-requests': o.maxRequests = number(arg, take(), 1, Number.MAX_SAFE_INTEGER); break;
      case '--max-requests-jitter': o.maxRequestsJitter = number(arg, take(), 0, Number.MAX_SAFE_INTEGER); break;
      case '--stats-port': o.statsPort = number(arg, take(), 0, 65535); break;
      case '--stats-host': o.statsHost = take() || usage('--stats-host needs an address'); break;
      case '--upgrade-timeout': o.upgradeTimeout = number(arg, take(), 1, 2 ** 31 - 1); break;
      case '--':
        o.app = argv[i + 1] ?? null;
        o.args = argv.slice(i + 2);
        return o;
      default:
        if (arg.startsWith('-') && arg !== '-') usage(`unknown option '${argv[i]}'`);
        o.app = argv[i];
        o.args = argv.slice(i + 1);
        return o;
    }
  }
  return o;
}

function isDirectory(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function main(argv) {
  const o = parse(argv);
  if (o.help) {
    process.stdout.write(HELP);
    return;
  }
  if (!o.app) usage('no app given');
  if (o.watch !== null && o.watch !== true && !isDirectory(o.watch)) usage(`--watch: '${o.watch}' is not a directory`);

  const cluster = require('../..');
  const policy = cluster[`SCHED_${o.policy.toUpperCase()}`];
  if (typeof policy !== 'number') {
    const known = Object.getOwnPropertyNames(cluster).filter((k) => k.startsWith('SCHED_')).map((k) => k.slice(6).toLowerCase());
    usage(`--policy: unknown policy '${o.policy}' (known: ${known.join(', ')})`);
  }
  cluster.schedulingPolicy = policy;
  // Started by an upgrade: as many workers as the old primary had in
  // service (it may have been scaled since it started).
  const upgrading = require('../supervisor/inherited').upgrade();
  const workers = upgrading && upgrading.workers ? upgrading.workers : o.workers === 'max'
    ? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length)
    : o.workers;

  const say = o.quiet ? () => {} : (line) => process.stderr.write(`[rust-cluster] ${line}\n`);
  const name = (w) => `worker ${w.id} (pid ${w.process.pid})`;
  const app = path.resolve(o.app);

  cluster.setupPrimary({
    exec: app,
    args: o.args,
    // The agent answers heartbeats and helps draining, in an app that does
    // not load rust-cluster itself.
    execArgv: [...process.execArgv, '--require', path.join(__dirname, '..', 'agent', 'index.js')],
    silent: o.prefixLogs,
  });
  if (o.prefixLogs) {
    const { prefixWorker } = require('./prefix-logs');
    cluster.on('fork', (w) => prefixWorker(w, { timestamps: o.timestamps }));
  }

  const up = new Set();
  if (o.readySignal) {
    cluster.on('message', (w, message) => {
      if (message !== 'ready' || up.has(w.id)) return;
      up.add(w.id);
      say(`${name(w)} up (ready)`);
    });
  } else {
    cluster.on('listening', (w, address) => {
      if (up.has(w.id)) return;
      up.add(w.id);
      const where = address.port ? `${address.address || '*'}:${address.port}` : address.address;
      say(`${name(w)} up, listening on ${where}`);
    });
  }
  cluster.on('exit', (w, code, signal) => {
    up.delete(w.id);
    say(`${name(w)} down (${signal || `exit code ${code}`})`);
  });
  cluster.on('replace', (fresh, old, reason, info) => {
    if (reason === 'respawn') say(`${name(fresh)} respawned for worker ${old.id}, after ${info.delay} ms`);
    else if (reason === 'reload') say(`${name(fresh)} reloaded, in place of worker ${old.id}`);
    else if (reason === 'hang') say(`${name(fresh)} started in place of hung worker ${old.id}`);
    else say(`${name(fresh)} started in place of worker ${old.id} (${reason})`);
  });
  cluster.on('hang', (w, ms) => say(`${name(w)} has not answered for ${ms} ms: killing it`));
  cluster.on('memory', (w, rss) => say(`${name(w)} uses ${Math.round(rss / 1048576)} MB: replacing it`));
  cluster.on('maxRequests', (w, served) => say(`${name(w)} served ${served} connections: replacing it`));
  cluster.on('crashloop', (info) => say(`${info.crashes} crashes within ${info.window / 1000} s: not respawning any more`));
  cluster.on('shutdown', (info) => {
    if (info.reason === 'upgrade') say(`handed over: draining the old workers (waiting up to ${info.timeout} ms), then exiting`);
    else say(`${info.signal || 'shutdown'}: shutting down (waiting up to ${info.timeout} ms)`);
  });
  // Said by both primaries of an upgrade, the old one (`from`) and the new.
  cluster.on('upgrade', (r) => {
    const took = `${(r.ms / 1000).toFixed(1)} s`;
    if (!r.ok) say(`upgrade failed: ${r.error}`);
    else if (r.from === process.pid) say(`upgraded: the new primary (pid ${r.to}) took over with ${r.workers.length} workers in ${took}`);
    else {
      const s = cluster.stats().primary;
      say(`took over from the old primary (pid ${r.from}), ${r.workers.length} workers serving` +
        (s.control ? `; control socket ${s.control}` : ''));
    }
  });
  process.on('SIGUSR2', () => say('SIGUSR2: upgrading: starting a new primary'));
  // Every reload, whoever started it (signal, --watch, `rust-cluster reload`).
  cluster.on('reload', (report) => {
    for (const r of report.results) {
      if (r.outcome === 'failed') say(`worker ${r.id} (pid ${r.pid}) NOT replaced, still runs the old code: ${r.error} (${r.attempts} attempts)`);
      else if (r.attempts > 1) say(`worker ${r.id} replaced after ${r.attempts} attempts`);
    }
    const took = `${(report.ms / 1000).toFixed(1)} s`;
    if (report.failed === 0) say(`reload done: ${report.replaced} workers replaced in ${took}`);
    else say(`reload incomplete: ${report.replaced} workers replaced, ${report.failed} NOT replaced, in ${took}`);
  });

  let reloading = null;
  let again = false;
  const startReload = (why) => {
    if (reloading) {
      if (why !== 'change') return say(`${why}: a reload is already running`);
      again = true;
      return undefined;
    }
    say(`${why === 'change' ? 'files changed' : why}: reloading ${cluster.stats().totals.active} workers`);
    // The outcome is said by the 'reload' listener above.
    reloading = cluster.reload().catch((err) => {
      if (!err.report) say(`reload failed: ${err.message}`);
    }).then(() => {
      // --watch, after a crash loop (say, a syntax error now fixed): bring
      // the cluster back to its size.
      if (why === 'change' && !shuttingDown && cluster.stats().totals.active < workers) {
        return cluster.scale(workers).then((n) => say(`${n} workers serving`), (err) => say(`scale failed: ${err.message}`));
      }
      return undefined;
    }).finally(() => {
      reloading = null;
      if (again) {
        again = false;
        startReload('change');
      }
    });
    return undefined;
  };
  if (o.reloadSignal) process.on(o.reloadSignal, () => startReload(o.reloadSignal));

  let shuttingDown = false;
  let watcher = null;
  cluster.on('shutdown', () => {
    shuttingDown = true;
    if (watcher) watcher.close();
  });
  // Nothing left to wait for: every worker is gone and none is coming back.
  process.on('beforeExit', () => {
    if (shuttingDown) return;
    say('no workers left: exiting');
    process.exit(1);
  });

  cluster.supervise({
    respawn: o.respawn,
    shutdown: { timeout: o.shutdownTimeout },
    scaleSignals: true,
    drainTimeout: o.drainTimeout,
    heartbeat: o.heartbeatTimeout === null ? undefined
      : { interval: Math.max(1, Math.min(1000, Math.floor(o.heartbeatTimeout / 3))), timeout: o.heartbeatTimeout },
    maxRss: o.maxRss === null ? undefined : o.maxRss * 1048576,
    maxRequests: o.maxRequests === null ? undefined : o.maxRequests,
    maxRequestsJitter: o.maxRequestsJitter,
    readySignal: o.readySignal,
    statsPort: o.statsPort,
    statsHost: o.statsHost,
    control: { name: o.name || controlPaths.nameOf(app) },
    upgradeSignal: 'SIGUSR2',
    upgradeTimeout: o.upgradeTimeout,
  }).then(() => {
    const s = cluster.stats().primary;
    // Started by an upgrade, these are the old primary's until we take over.
    if (upgrading) say(`new primary, upgrading from pid ${upgrading.from}: starting workers on its sockets`);
    if (s.metrics) say(`metrics on http://${s.metrics.address}:${s.metrics.port}/metrics`);
    if (s.control) say(`control socket ${s.control}`);
    say(`starting ${workers} workers: ${[o.app, ...o.args].join(' ')}`);
    for (let i = 0; i < workers; i++) cluster.fork();
    if (o.watch !== null) {
      const dir = o.watch === true ? path.dirname(app) : path.resolve(o.watch);
      // The watchers keep the primary alive when no worker is left, so
      // that a fix brings the workers back; shutdown closes them.
      watcher = require('./watch').watchTree(dir, () => startReload('change'));
      say(`watching ${dir} for changes`);
    }
  }, (err) => {
    process.stderr.write(`rust-cluster: ${err.message}\n`);
    process.exit(2);
  });
}

module.exports = { main, parse, HELP };
