// The supervision API rust-cluster adds (cluster.supervise, reload, scale,
// stats, shutdown, upgrade and their events), as a program would use it.
import cluster = require('rust-cluster');
import { supervise, reload, scale, stats, shutdown, upgrade, type SuperviseOptions, type ClusterStats, type WorkerStats, type ReloadReport, type UpgradeReport } from 'rust-cluster';

const options: SuperviseOptions = {
  respawn: { minDelay: 100, maxDelay: 5000, maxCrashes: 5, crashWindow: 60000 },
  shutdown: { timeout: 10000, signals: ['SIGTERM', 'SIGINT'], exit: true },
  heartbeat: { interval: 1000, timeout: 5000 },
  maxRss: 512 * 1024 * 1024,
  reloadSignal: 'SIGHUP',
  scaleSignals: true,
  drainTimeout: 10000,
  listenTimeout: 30000,
  statsPort: 9100,
  statsHost: '127.0.0.1',
  control: { name: 'shop' },
  maxRequests: 10000,
  maxRequestsJitter: 500,
  readySignal: false,
  notify: true,
  reloadRetries: 2,
  upgradeSignal: 'SIGUSR2',
  upgradeTimeout: 30000,
};

async function main(): Promise<void> {
  const c = await cluster.supervise(options);
  c.fork();
  await cluster.supervise({ respawn: true, shutdown: true });
  const fresh: cluster.Worker[] = await cluster.reload();
  const serving: number = await cluster.scale(fresh.length + 1);
  const s: ClusterStats = cluster.stats();
  const first: WorkerStats | undefined = s.workers[0];
  const rss: number | null = first ? first.rss : null;
  const port: number | undefined = s.primary.metrics?.port;
  const code: number = await cluster.shutdown({ timeout: 5000 });
  console.log(serving, rss, port, code, s.totals.respawns, first?.connections.handed);
  await supervise({ heartbeat: true, control: true });
  await supervise({ control: '/run/shop/ctl.sock' });
  const ready: boolean | undefined = first?.ready;
  const socket: string | null = s.primary.control;
  console.log(ready, socket, s.totals.maxRequests);
  await reload();
  await scale(2);
  stats();
  await shutdown();
  const up: UpgradeReport = await upgrade();
  const to: number | null = up.to;
  console.log(up.ok, up.from, to, up.workers?.map((w) => w.pid), up.readyMs, up.ms);
  await cluster.upgrade({ timeout: 60000 });
  await supervise({ upgradeSignal: true });
}

cluster.on('replace', (worker, old, reason, info) => {
  const r: 'respawn' | 'reload' | 'hang' | 'memory' | 'maxRequests' = reason;
  console.log(worker.id, old.id, r, info?.delay);
});
cluster.on('crashloop', (info) => console.log(info.crashes, info.window, info.worker.id));
cluster.on('hang', (worker, ms) => console.log(worker.id, ms + 1));
cluster.on('memory', (worker, rss) => console.log(worker.id, rss + 1));
cluster.on('maxRequests', (worker, served) => console.log(worker.id, served + 1));
cluster.on('reload', (report: ReloadReport) => {
  for (const r of report.results) {
    if (r.outcome === 'failed') console.log(r.id, r.error, r.attempts);
    else if (r.replacement) console.log(r.replacement.pid);
  }
});
cluster.once('shutdown', ({ signal, timeout, reason }) => console.log(signal, timeout, reason === 'upgrade'));
cluster.on('upgrade', (report: UpgradeReport) => console.log(report.ok ? report.to : report.error));

void main();

// Which engine runs the primary.
const engine: 'rust' | 'node' = cluster.engine;
if (engine === 'node') console.log('portable engine');
