'use strict';
// Upgrading the primary itself: `rust-cluster upgrade`, SIGUSR2 (the CLI,
// and a program that opts in with supervise({ upgradeSignal })). A real
// primary serving real HTTP clients (wrk, Connection: close, in its own
// process) is upgraded to a new version on disk; then: no request failed,
// the primary pid changed, every worker is new, the control socket answers
// from the new primary. And the failures: a new primary whose workers never
// listen, one that crashes at start: the old one goes on serving and
// answering. On the portable engine (RUST_CLUSTER_ENGINE=node) an upgrade
// is refused with a clear error and changes nothing.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { FIXTURES, runtimeDir, startProcess, startCli, cli, get, until } = require('./helpers');

const PORTABLE = process.env.RUST_CLUSTER_ENGINE === 'node';
const APP = path.join(FIXTURES, 'upgrade-app.js');
const SUPERVISED = path.join(FIXTURES, 'upgrade-supervised.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A deploy directory: VERSION (what the code "is"), MODE (how it is broken). */
function deploy(t, version) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-upgrade-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const files = { dir, version: path.join(dir, 'VERSION'), mode: path.join(dir, 'MODE'), socket: path.join(dir, 'app.sock') };
  fs.writeFileSync(files.version, version);
  return files;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the processes in process group `pgid`. */
function groupPids(pgid) {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/))
    .filter(([pid, g, stat]) => Number(g) === pgid && stat && !stat.startsWith('Z')).map(([pid]) => Number(pid));
}

/** wrk against 127.0.0.1:port, Connection: close, until stop(); resolves to its counts. */
function startWrk(port) {
  const child = spawn('wrk', ['-t1', '-c4', '-d600s', '--timeout', '10s', '-H', 'Connection: close',
    `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      const m = /(\d+) requests in/.exec(out);
      assert.ok(m, `wrk printed no summary:\n${out}`);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      return {
        requests: Number(m[1]),
        errors: sock ? sock.slice(1).reduce((a, n) => a + Number(n), 0) : 0,
        non2xx: non2xx ? Number(non2xx[1]) : 0,
        out,
      };
    },
  };
}

function getUnix(socketPath) {
  return new Promise((resolve, reject) => {
    http.get({ socketPath, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function status(env, name) {
  const r = await cli(['status', '--json', '--name', name], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const exitOf = (child) => (child.exitCode !== null || child.signalCode !== null
  ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  : new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))));

if (PORTABLE) {
  test('portable engine: rust-cluster upgrade is refused, the primary goes on as before', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'v1');
    const p = await startCli(['-w', '2', '--name', 'up'], APP, [], { env: { ...env, VERSION_FILE: d.version } });
    t.after(() => p.kill());
    const before = await status(env, 'up');
    const r = await cli(['upgrade', '--name', 'up'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /upgrading the primary needs the Rust engine/);
    const after = await status(env, 'up');
    assert.equal(after.primary.pid, before.primary.pid);
    assert.deepEqual(after.workers.map((w) => w.pid), before.workers.map((w) => w.pid));
  });
} else {
  test('rust-cluster upgrade under wrk (Connection: close): no request fails, a new primary and all new workers serve the new version', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'v1');
    // A port of its own here (port 0 goes over too: the SIGUSR2 tests).
    const port = await freePort();
    const p = await startCli(['-w', '2', '--name', 'shop'], APP, [],
      { env: { ...env, VERSION_FILE: d.version, SOCKET_PATH: d.socket, PORT: String(port) } });
    t.after(() => p.kill());
    const before = await status(env, 'shop');
    assert.match((await get(port)).body, /^v1 /);

    const wrk = startWrk(port);
    await sleep(1000);
    fs.writeFileSync(d.version, 'v2');
    const r = await cli(['upgrade', '--name', 'shop', '--json'], { env });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${p.stderr()}`);
    const report = JSON.parse(r.stdout);
    // The old primary drains its workers and exits, with 0.
    assert.deepEqual(await exitOf(p.child), { code: 0, signal: null });
    await sleep(1000);
    const load = await wrk.stop();
    console.log(`# upgrade of 2 workers under wrk -c4 Connection: close: ${load.requests} requests, ` +
      `${load.errors} socket errors, ${load.non2xx} non-2xx; the new primary took over ${report.ms} ms after the command`);
    assert.ok(load.requests > 0, load.out);
    assert.equal(load.errors, 0, load.out);
    assert.equal(load.non2xx, 0, load.out);

    // The name's control socket is the new primary's, its workers are all new.
    const after = await status(env, 'shop');
    assert.equal(report.from, before.primary.pid);
    assert.equal(after.primary.pid, report.to);
    assert.notEqual(after.primary.pid, before.primary.pid);
    const oldPids = before.workers.map((w) => w.pid);
    assert.equal(after.workers.length, 2);
    for (const w of after.workers) assert.ok(!oldPids.includes(w.pid), `worker ${w.pid} is an old one`);
    for (const pid of [before.primary.pid, ...oldPids]) await until(() => !alive(pid), 30000, `pid ${pid} to exit`);
    assert.match((await get(port)).body, /^v2 /);
    // The Unix socket went over too, and its path stayed.
    assert.match(await getUnix(d.socket), /^v2 /);

    // The new primary stops as any primary does; the socket's path goes with it.
    const stop = await cli(['stop', '--name', 'shop'], { env });
    assert.equal(stop.code, 0, stop.stderr);
    await until(() => !alive(report.to), 30000, 'the new primary to exit');
    assert.equal(fs.existsSync(d.socket), false);
    assert.match(p.stderr(), /took over from the old primary/);
  });

  for (const policy of ['none', 'reuseport']) {
    test(`supervise({ upgradeSignal: true }), SIGUSR2, SCHED_${policy.toUpperCase()} under wrk: no request fails`, async (t) => {
      const env = { XDG_RUNTIME_DIR: runtimeDir() };
      const d = deploy(t, 'v1');
      const p = startProcess([SUPERVISED, '2'], {
        env: { ...env, NAME: 'app', VERSION_FILE: d.version, NODE_CLUSTER_SCHED_POLICY: policy, ...(policy === 'none' ? { SOCKET_PATH: d.socket } : {}) },
      });
      t.after(() => p.kill());
      const m = await p.waitOut(new RegExp(`("ev":"listening"[^]*){${policy === 'none' ? 4 : 2}}`));
      const port = Number(/"port":([1-9]\d*)/.exec(m[0])[1]);
      const before = await status(env, 'app');

      const wrk = startWrk(port);
      await sleep(1000);
      fs.writeFileSync(d.version, 'v2');
      process.kill(p.child.pid, 'SIGUSR2');
      const [line] = await p.waitOut(new RegExp(`\\{"primary":${p.child.pid},"ev":"upgrade".*\\n`));
      const report = JSON.parse(line);
      assert.equal(report.ok, true, line);
      assert.deepEqual(await exitOf(p.child), { code: 0, signal: null });
      await sleep(1000);
      const load = await wrk.stop();
      console.log(`# SCHED_${policy.toUpperCase()} upgrade under wrk -c4: ${load.requests} requests, ` +
        `${load.errors} socket errors, ${load.non2xx} non-2xx; took over in ${report.ms} ms`);
      assert.ok(load.requests > 0, load.out);
      assert.equal(load.errors, 0, load.out);
      assert.equal(load.non2xx, 0, load.out);

      const after = await status(env, 'app');
      assert.equal(after.primary.pid, report.to);
      assert.notEqual(after.primary.pid, before.primary.pid);
      const oldPids = before.workers.map((w) => w.pid);
      for (const w of after.workers) assert.ok(!oldPids.includes(w.pid), `worker ${w.pid} is an old one`);
      for (const pid of oldPids) await until(() => !alive(pid), 30000, `old worker ${pid} to exit`);
      // Each connection a fresh one: every new worker gets some, none is old.
      for (let i = 0; i < 20; i++) assert.match((await get(port)).body, /^v2 /);
      if (policy === 'none') assert.match(await getUnix(d.socket), /^v2 /);
    });
  }

  test('a new primary whose workers never listen: stopped after --upgrade-timeout, the old one goes on serving and answering', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'v1');
    // The failed new primary's shutdown kills its workers after 1 s.
    const p = await startCli(['-w', '2', '--name', 'hang', '--upgrade-timeout', '3000', '--shutdown-timeout', '1000'], APP, [],
      { env: { ...env, VERSION_FILE: d.version, MODE_FILE: d.mode } });
    t.after(() => p.kill());
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(p.stderr())[1]);
    const before = await status(env, 'hang');
    fs.writeFileSync(d.version, 'v2');
    fs.writeFileSync(d.mode, 'hang');

    // From the shell: exit 1, and why.
    const r = await cli(['upgrade', '--name', 'hang', '--json'], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, false);
    assert.match(report.error, /did not become ready within 3000 ms; this primary \(pid \d+\) goes on serving/);
    // The new primary and its workers are stopped; only ours are left.
    const ours = [before.primary.pid, ...before.workers.map((w) => w.pid)].sort();
    await until(() => !alive(report.to), 30000, 'the failed new primary to exit');
    await until(() => JSON.stringify(groupPids(p.child.pid).sort()) === JSON.stringify(ours), 30000,
      `only the old primary and its workers in the group (${ours})`);
    const after = await status(env, 'hang');
    assert.equal(after.primary.pid, before.primary.pid);
    assert.deepEqual(after.workers.map((w) => w.pid), before.workers.map((w) => w.pid));
    assert.match((await get(port)).body, /^v1 /);

    // SIGUSR2 (the CLI's upgrade signal) fails the same way, and says so.
    const from = p.stderr().length;
    process.kill(p.child.pid, 'SIGUSR2');
    await p.waitErr(/upgrade failed: the new primary \(pid \d+\) did not become ready within 3000 ms/, from);
    assert.equal((await status(env, 'hang')).primary.pid, before.primary.pid);

    // Fixed: the next upgrade goes through.
    fs.rmSync(d.mode);
    const ok = await cli(['upgrade', '--name', 'hang'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /upgraded in [\d.]+ s: primary pid \d+ -> \d+, 2 new workers serving/);
    assert.deepEqual(await exitOf(p.child), { code: 0, signal: null });
    assert.match((await get(port)).body, /^v2 /);
  });

  test('a new primary that crashes at start: the old one goes on serving, its control socket answers', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'v1');
    const p = startProcess([SUPERVISED, '2'], { env: { ...env, NAME: 'crashy', VERSION_FILE: d.version, MODE_FILE: d.mode } });
    t.after(() => p.kill());
    const m = await p.waitOut(/("ev":"listening"[^]*){2}/);
    const port = Number(/"port":([1-9]\d*)/.exec(m[0])[1]);
    const before = await status(env, 'crashy');
    fs.writeFileSync(d.version, 'v2');
    fs.writeFileSync(d.mode, 'primary-crash');

    process.kill(p.child.pid, 'SIGUSR2');
    const [line] = await p.waitOut(/\{"primary":\d+,"ev":"upgrade".*\n/);
    const report = JSON.parse(line);
    assert.equal(report.ok, false);
    assert.match(report.error, /exited \(code 1\) before it was ready/);
    assert.match(p.stderr(), /this deploy's primary is broken/);

    const after = await status(env, 'crashy');
    assert.equal(after.primary.pid, before.primary.pid);
    assert.deepEqual(after.workers.map((w) => w.pid), before.workers.map((w) => w.pid));
    assert.match((await get(port)).body, /^v1 /);
    // The control command reports the same failure.
    const r = await cli(['upgrade', '--name', 'crashy'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /upgrade failed: the new primary \(pid \d+\) exited \(code 1\) before it was ready/);
    assert.equal((await status(env, 'crashy')).primary.pid, before.primary.pid);
  });
}
