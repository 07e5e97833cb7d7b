'use strict';
// Reload under a fault schedule, rust-cluster beside a hand-written
// node:cluster supervisor (fixtures/node-supervisor.js): a worker SIGKILLed
// every 2 s, a deploy (new version on disk + SIGHUP) every 5 s whose first
// replacement is SIGKILLed as soon as it is forked, under Connection: close
// load. Then: which workers run the last version, what each reload
// reported, how many requests failed.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { FIXTURES, runtimeDir, startProcess, startCli, cli, get, until } = require('./helpers');
const { freePort } = require('../helpers/ports');

// Deterministic choices, the same for both supervisors.
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function events(p) {
  return p.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

async function underFaults(t, fixture, { workers = 2, seconds = 12 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-faults-'));
  const versionFile = path.join(dir, 'VERSION');
  let version = 1;
  fs.writeFileSync(versionFile, String(version));
  const port = await freePort();
  const p = startProcess([path.join(FIXTURES, fixture), String(workers)],
    { env: { VERSION_FILE: versionFile, PORT: String(port) }, timeout: 120000 });
  t.after(() => p.kill());
  await p.waitOut(new RegExp(`("ev":"listening"[^]*){${workers}}`));

  // Who is serving, from the supervisor's own events.
  const serving = () => {
    const alive = new Map();
    for (const e of events(p)) {
      if (e.ev === 'listening') alive.set(e.pid, e.id);
      if (e.ev === 'exit') alive.delete(e.pid);
    }
    return [...alive.keys()];
  };
  const kill = (pid) => {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  };

  // Load: 4 clients, Connection: close, until told to stop; each pauses
  // 5 ms between requests, to leave the 2 cores to the cluster (and to the
  // tests running beside this one).
  const load = { ok: 0, failed: 0, errors: {} };
  let loading = true;
  const clients = Array.from({ length: 4 }, async () => {
    while (loading) {
      await sleep(5);
      try {
        const r = await get(port, '/', { timeout: 5000 });
        if (r.status === 200) load.ok++;
        else load.failed++;
      } catch (err) {
        load.failed++;
        load.errors[err.code || err.message] = (load.errors[err.code || err.message] || 0) + 1;
      }
    }
  });

  const random = prng(42);
  const schedule = [];
  for (let t = 2.5; t < seconds; t += 2) schedule.push({ at: t * 1000, act: 'kill' });
  for (let t = 1; t < seconds; t += 5) schedule.push({ at: t * 1000, act: 'deploy' });
  schedule.sort((a, b) => a.at - b.at);
  const started = Date.now();
  const faults = [];
  for (const step of schedule) {
    await sleep(Math.max(0, started + step.at - Date.now()));
    if (step.act === 'kill') {
      const pids = serving();
      if (pids.length === 0) continue;
      const pid = pids[Math.floor(random() * pids.length)];
      faults.push({ t: step.at, kill: pid });
      kill(pid);
    } else {
      fs.writeFileSync(versionFile, String(++version));
      const mark = p.stdout().length;
      p.child.kill('SIGHUP');
      // The first worker forked after the SIGHUP: the reload's replacement.
      p.waitOut(/"ev":"fork","id":\d+,"pid":(\d+)/, mark, 10000).then((m) => {
        faults.push({ t: Date.now() - started, killReplacement: Number(m[1]) });
        kill(Number(m[1]));
      }, () => {});
    }
  }
  loading = false;
  await Promise.all(clients);

  // Let every reload finish, then let respawns settle at `workers` serving.
  const deploys = schedule.filter((s) => s.act === 'deploy').length;
  await until(() => events(p).filter((e) => e.ev === 'reload').length >= deploys, 60000, 'every reload to end');
  await until(() => serving().length === workers, 30000, `${workers} workers serving`);
  await sleep(300);
  const served = new Map();
  for (let i = 0; i < workers * 8; i++) {
    const [v, pid] = (await get(port)).body.split(' ');
    served.set(Number(pid), Number(v));
  }
  p.child.kill('SIGTERM');
  await p.closed;
  fs.rmSync(dir, { recursive: true, force: true });
  const reports = events(p).filter((e) => e.ev === 'reload').map((e) => e.report);
  const outcomes = {};
  for (const r of reports) for (const w of r.results) outcomes[w.outcome] = (outcomes[w.outcome] || 0) + 1;
  return {
    latest: version,
    stale: [...served.values()].filter((v) => v !== version).length,
    versions: [...served.values()],
    reports,
    outcomes,
    retried: reports.flatMap((r) => r.results).filter((w) => w.attempts > 1).length,
    load,
    faults,
  };
}

test('reload under a fault schedule: rust-cluster retries and replaces every worker; a hand-written node:cluster supervisor keeps old code', async (t) => {
  const ours = await underFaults(t, 'ours-supervisor.js');
  const theirs = await underFaults(t, 'node-supervisor.js');
  const line = (name, r) => `# ${name}: reload outcomes per worker ${JSON.stringify(r.outcomes)}, ` +
    `replacements retried ${r.retried}, workers on the last version at the end ` +
    `${r.versions.length - r.stale}/${r.versions.length}, requests ${r.load.ok + r.load.failed} (failed ${r.load.failed}: ` +
    `${JSON.stringify(r.load.errors)})`;
  console.log(line('rust-cluster', ours));
  console.log(line('node:cluster, hand-written', theirs));

  // Ours: every replacement killed before it was ready was forked again;
  // no reload left a worker on old code; at the end, all run the last one.
  assert.ok(ours.retried >= 1, `a replacement was killed and retried: ${JSON.stringify(ours.reports)}`);
  for (const r of ours.reports) assert.equal(r.failed, 0, JSON.stringify(r));
  assert.equal(ours.stale, 0, `versions served at the end: ${ours.versions} (latest ${ours.latest})`);
  // The hand-written one gave up at the killed replacement: the deploy did
  // not happen, which is what this test exists to catch. (Whether its
  // workers still run old code at the end is left to chance: a worker the
  // schedule killed shortly before the last deploy may be respawned after
  // it, on the new version, as both were once under the Node 22 matrix.)
  assert.ok(theirs.reports.some((r) => r.failed > 0), JSON.stringify(theirs.reports));
});

test('a failed reload does not reset the crash count: a crash-looping deploy under periodic SIGHUPs reaches the crash-loop stop', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-crashloop-'));
  const versionFile = path.join(dir, 'VERSION');
  const broken = path.join(dir, 'BROKEN');
  fs.writeFileSync(versionFile, '1');
  const port = await freePort();
  const p = startProcess([path.join(FIXTURES, 'ours-supervisor.js'), '2',
    JSON.stringify({ respawn: { minDelay: 50, maxDelay: 200, maxCrashes: 4, crashWindow: 60000 }, reloadRetries: 1 })],
  { env: { VERSION_FILE: versionFile, BROKEN_FILE: broken, PORT: String(port) }, timeout: 120000 });
  t.after(() => p.kill());
  await p.waitOut(/("ev":"listening"[^]*){2}/);
  // A deploy that crashes at start-up: one reload of it fails first (the
  // respawns below alone could reach the crash loop before any reload
  // reported). Then a worker that dies (its respawns run the broken code)
  // and a SIGHUP every 300 ms, as a deploy script that retries would send.
  fs.writeFileSync(broken, '');
  p.child.kill('SIGHUP');
  let hups = 1;
  await p.waitOut(/"ev":"reload"/, 0, 30000);
  const first = events(p).find((e) => e.ev === 'listening');
  process.kill(first.pid, 'SIGKILL');
  const timer = setInterval(() => { hups++; p.child.kill('SIGHUP'); }, 300);
  try {
    await p.waitOut(/"ev":"crashloop"/, 0, 30000);
  } finally {
    clearInterval(timer);
  }
  const reports = events(p).filter((e) => e.ev === 'reload').map((e) => e.report);
  console.log(`# crash loop reached after ${hups} SIGHUPs, ${reports.length} reloads (` +
    `${reports.filter((r) => r.failed > 0).length} left a worker on the old code)`);
  // The surviving worker still serves the old code.
  assert.ok(reports.some((r) => r.failed > 0 && r.results.some((w) => w.outcome === 'failed')), JSON.stringify(reports));
  assert.equal((await get(port)).body.split(' ')[0], '1');
  p.child.kill('SIGTERM');
  await p.closed;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('`rust-cluster reload` of a deploy that crashes at start-up: exit 1, names the workers still on the old code, which serve on', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-broken-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const versionFile = path.join(dir, 'VERSION');
  const broken = path.join(dir, 'BROKEN');
  fs.writeFileSync(versionFile, '1');
  const port = await freePort();
  const env = { XDG_RUNTIME_DIR: runtimeDir(), VERSION_FILE: versionFile, BROKEN_FILE: broken, PORT: String(port) };
  const p = await startCli(['-w', '2', '--name', 'broken'], path.join(FIXTURES, 'versioned-app.js'), [], { env });
  t.after(() => p.kill());
  fs.writeFileSync(broken, '');
  const r = await cli(['reload'], { env });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^reload incomplete: 0 replaced, 2 NOT replaced$/m);
  assert.match(r.stdout, /worker 1 \(pid \d+\): NOT replaced, still runs the old code: worker \d+ exited \(1\) before it was ready after 3 attempts/);
  assert.match(r.stdout, /worker 2 \(pid \d+\): NOT replaced, still runs the old code/);
  assert.match(p.stderr(), /reload incomplete: 0 workers replaced, 2 NOT replaced/);
  const json = JSON.parse((await cli(['reload', '--json'], { env })).stdout);
  assert.deepEqual(json.results.map((w) => [w.id, w.outcome, w.attempts]), [[1, 'failed', 3], [2, 'failed', 3]]);
  for (let i = 0; i < 4; i++) assert.equal((await get(port)).body.split(' ')[0], '1');
  p.child.kill('SIGTERM');
  assert.equal((await p.closed).code, 0);
});

test('a reload that replaced every worker forgives their past crashes; crashes after it still count', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-forgive-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const versionFile = path.join(dir, 'VERSION');
  fs.writeFileSync(versionFile, '1');
  const port = await freePort();
  const p = startProcess([path.join(FIXTURES, 'ours-supervisor.js'), '2',
    JSON.stringify({ respawn: { minDelay: 50, maxDelay: 200, maxCrashes: 3, crashWindow: 600000 } })],
  { env: { VERSION_FILE: versionFile, PORT: String(port) } });
  t.after(() => p.kill());
  await p.waitOut(/("ev":"listening"[^]*){2}/);
  // Kill a serving worker; resolves once its respawn listens (or a crash
  // loop stopped respawning).
  const crash = async () => {
    const listening = events(p).filter((e) => e.ev === 'listening');
    const exited = new Set(events(p).filter((e) => e.ev === 'exit').map((e) => e.pid));
    const victim = listening.find((e) => !exited.has(e.pid));
    const mark = p.stdout().length;
    process.kill(victim.pid, 'SIGKILL');
    const m = await p.waitOut(/"ev":"(listening|crashloop)"/, mark);
    return m[1];
  };
  assert.equal(await crash(), 'listening');
  assert.equal(await crash(), 'listening');
  p.child.kill('SIGHUP');
  await p.waitOut(/"ev":"reload","report":\{"replaced":2,"failed":0/);
  // Two crashes before the reload were forgiven: two more stay below 3.
  assert.equal(await crash(), 'listening');
  assert.equal(await crash(), 'listening');
  // And the third since the reload is a crash loop.
  assert.equal(await crash(), 'crashloop');
  p.child.kill('SIGTERM');
  await p.closed;
});
