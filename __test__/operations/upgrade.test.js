'use strict';
// Upgrading the primary itself: `rust-cluster upgrade`, SIGUSR2 (the CLI,
// and a program that opts in with supervise({ upgradeSignal })),
// cluster.upgrade(). A real primary serving real HTTP clients (wrk,
// Connection: close, in its own process) is upgraded to a new version on
// disk; then: no request failed, the load went on through it (wrk saw the
// old version, then the new one after the old primary exited), the primary
// pid changed, every worker is new, the control socket, the metrics server
// and a Unix socket server answer from the new primary, systemd heard the
// new main pid (and nothing from a process it did not know as the main
// one), and neither primary leaks a descriptor. And the failures: a new
// primary whose workers never listen, one that crashes at start: the old
// one goes on serving (under load: no request fails) and answering, with
// its descriptors as before. On the portable engine (RUST_CLUSTER_ENGINE=node)
// an upgrade is refused with a clear error and changes nothing.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { CLI, FIXTURES, runtimeDir, startProcess, startCli, cli, get, until, notifySocket } = require('./helpers');
const client = require('../../lib/supervisor/control-client');

const PORTABLE = process.env.RUST_CLUSTER_ENGINE === 'node';
const APP = path.join(FIXTURES, 'upgrade-app.js');
const SUPERVISED = path.join(FIXTURES, 'upgrade-supervised.js');
const PROGRESS = path.join(FIXTURES, 'upgrade-progress.lua');
// Generous: the machine may be running other suites.
const LONG = 60000;

/** A deploy directory: VERSION (what the code "is"), MODE (how it is broken). */
function deploy(t, version) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-upgrade-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const files = { dir, version: path.join(dir, 'VERSION'), mode: path.join(dir, 'MODE'), socket: path.join(dir, 'app.sock') };
  fs.writeFileSync(files.version, version);
  return files;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the live processes in process group `pgid`. */
function groupPids(pgid) {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/))
    .filter(([, g, stat]) => Number(g) === pgid && stat && !stat.startsWith('Z')).map(([pid]) => Number(pid));
}

/**
 * The open descriptors of `pid`: `kinds`, what each points at with inode
 * numbers dropped (sorted), and `sockets`, the socket inodes.
 */
function fds(pid) {
  const dir = `/proc/${pid}/fd`;
  const kinds = [];
  const sockets = [];
  for (const fd of fs.readdirSync(dir)) {
    let target;
    try {
      target = fs.readlinkSync(`${dir}/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) sockets.push(m[1]);
    kinds.push(target.replace(/\[\d+\]$/, '[]'));
  }
  return { kinds: kinds.sort(), sockets };
}

/** fds(pid) once two looks a moment apart agree (a connection just closed may linger). */
async function settledFds(pid) {
  let last = fds(pid);
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = fds(pid);
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

/**
 * `pid` has the same kinds of descriptors as `expected` (one of fds()), no
 * socket open twice: polled, as connections the load left may still be
 * closing.
 */
async function sameFds(pid, expected, what) {
  const same = () => JSON.stringify(fds(pid).kinds) === JSON.stringify(expected.kinds);
  await until(same, 30000, `${what}'s descriptors to be as expected`).catch(() => {});
  const now = fds(pid);
  assert.deepEqual(now.kinds, expected.kinds, `${what} (pid ${pid}): descriptors`);
  assert.equal(new Set(now.sockets).size, now.sockets.length, `${what} (pid ${pid}) has a socket open twice`);
}

/**
 * wrk against 127.0.0.1:port, one thread, 4 connections, Connection: close,
 * until stop(). seen(version): responses of that version so far (in steps
 * of 50). stop() resolves to its counts.
 */
function startWrk(port) {
  const child = spawn('wrk', ['-t1', '-c4', '-d600s', '--timeout', '10s', '-H', 'Connection: close', '-s', PROGRESS,
    `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    seen(version) {
      const all = [...out.matchAll(new RegExp(`^${version} (\\d+)$`, 'gm'))];
      return all.length ? Number(all[all.length - 1][1]) : 0;
    },
    async stop() {
      child.kill('SIGINT');
      await exited;
      const m = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
      assert.ok(m, `wrk printed no summary:\n${out}`);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
      return {
        requests: Number(m[1]),
        errors: sock ? sock.slice(1).reduce((a, n) => a + Number(n), 0) : 0,
        non2xx: non2xx ? Number(non2xx[1]) : 0,
        rate: rate ? Math.round(Number(rate[1])) : null,
        out: out.split('\n').filter((l) => !/^v\d /.test(l)).join('\n'),
      };
    },
  };
}

function assertNoFailures(load) {
  assert.ok(load.requests > 0, load.out);
  assert.equal(load.errors, 0, load.out);
  assert.equal(load.non2xx, 0, load.out);
}

/** One datagram to 127.0.0.1:port; resolves to the answer (retried: UDP may lose one). */
async function udpAsk(port) {
  const socket = dgram.createSocket('udp4');
  try {
    return await until(() => new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 1000);
      socket.once('message', (m) => { clearTimeout(timer); resolve(String(m)); });
      socket.send('?', port, '127.0.0.1');
    }), LONG, 'an answer over UDP');
  } finally {
    socket.close();
  }
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

/** Median of 50 `status` round trips on one open control connection, ms. */
async function statusLatency(env, name) {
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = env.XDG_RUNTIME_DIR;
  let conn;
  try {
    conn = await client.connect(await client.locate({ name }));
  } finally {
    process.env.XDG_RUNTIME_DIR = saved;
  }
  const times = [];
  for (let i = 0; i < 50; i++) {
    const t0 = process.hrtime.bigint();
    await conn.request('status');
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  conn.close();
  times.sort((a, b) => a - b);
  return times[25].toFixed(2);
}

const exitOf = (child) => (child.exitCode !== null || child.signalCode !== null
  ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  : new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))));

test('rust-cluster upgrade with a bad --timeout: exit 2 and why, before looking for a cluster', async () => {
  for (const value of ['0', '5s']) {
    const r = await cli(['upgrade', '--timeout', value, '--name', 'nosuch'], { env: { XDG_RUNTIME_DIR: runtimeDir() } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`--timeout needs an integer >= 1, got '${value}'`));
  }
});

if (PORTABLE) {
  test('portable engine: rust-cluster upgrade is refused, the primary goes on as before', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'v1');
    const p = await startCli(['-w', '2', '--name', 'up'], APP, [], { env: { ...env, VERSION_FILE: d.version } });
    t.after(() => p.kill());
    const before = await status(env, 'up');
    const r = await cli(['upgrade', '--name', 'up'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /upgrade failed: upgrading the primary needs the Rust engine \(cluster\.engine is 'node' here\)/);
    // SIGUSR2 too: a warning, and nothing else happens.
    const from = p.stderr().length;
    process.kill(p.child.pid, 'SIGUSR2');
    await p.waitErr(/upgrade failed: upgrading the primary needs the Rust engine/, from);
    const after = await status(env, 'up');
    assert.equal(after.primary.pid, before.primary.pid);
    assert.deepEqual(after.workers.map((w) => w.pid), before.workers.map((w) => w.pid));
  });
} else {
  test('rust-cluster upgrade under wrk (Connection: close), round robin: no request fails; a new primary, all new workers, the same sockets; systemd told; no descriptor leaked', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'v1');
    const notify = notifySocket(path.join(d.dir, 'notify'));
    t.after(() => notify.close());
    await notify.ready;
    const p = await startCli(['-w', '2', '--name', 'shop', '--stats-port', '0'], APP, [], {
      env: {
        ...env, VERSION_FILE: d.version, SOCKET_PATH: d.socket, PORT_FILE: path.join(d.dir, 'port'),
        NOTIFY_SOCKET: path.join(d.dir, 'notify'), WATCHDOG_USEC: '1000000',
      },
    });
    t.after(() => p.kill());
    const port = Number(await until(() => fs.existsSync(path.join(d.dir, 'port')) && fs.readFileSync(path.join(d.dir, 'port'), 'utf8'), LONG, 'the port'));
    const before = await status(env, 'shop');
    const metricsPort = before.primary.metrics.port;
    assert.match((await get(port)).body, /^v1 /);
    const oldPids = before.workers.map((w) => w.pid);
    const oldFds = { primary: await settledFds(before.primary.pid), worker: await settledFds(oldPids[0]) };
    await until(() => notify.heard.some((m) => /^READY=1$/m.test(m.text)), LONG, 'READY=1');

    const wrk = startWrk(port);
    await until(() => wrk.seen('v1') >= 200, LONG, 'wrk to get 200 answers');
    fs.writeFileSync(d.version, 'v2');
    const asked = Date.now();
    const command = cli(['upgrade', '--name', 'shop', '--timeout', '60000', '--json'], { env });
    const r = await command;
    await until(() => !alive(before.primary.pid), LONG, 'the old primary to exit');
    const oldExitMs = Date.now() - asked;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${p.stderr()}`);
    const report = JSON.parse(r.stdout);
    // The old primary drained its workers and exited with 0.
    assert.deepEqual(await exitOf(p.child), { code: 0, signal: null });
    // Still under load once only the new one is left.
    const v2 = wrk.seen('v2');
    await until(() => wrk.seen('v2') >= v2 + 200, LONG, 'wrk to get 200 more answers from the new workers');
    const load = await wrk.stop();
    console.log(`# rust-cluster upgrade (round robin, 2 workers) under wrk -c4 Connection: close at ${load.rate} req/s: ` +
      `${load.requests} requests, ${load.errors} socket errors, ${load.non2xx} non-2xx; new workers serving ` +
      `${report.readyMs} ms, new primary took over ${report.ms} ms after the request; old primary gone ${oldExitMs} ms after ` +
      '`rust-cluster upgrade` was started (its Node start-up included)');
    assertNoFailures(load);

    // The name's control socket is the new primary's, its workers are all new.
    const after = await status(env, 'shop');
    assert.equal(report.ok, true);
    assert.equal(report.from, before.primary.pid);
    assert.equal(after.primary.pid, report.to);
    assert.notEqual(after.primary.pid, before.primary.pid);
    assert.deepEqual(after.workers.map((w) => w.pid).sort(), report.workers.map((w) => w.pid).sort());
    assert.equal(after.workers.length, 2);
    for (const w of after.workers) assert.ok(!oldPids.includes(w.pid), `worker ${w.pid} is an old one`);
    for (const pid of oldPids) await until(() => !alive(pid), LONG, `old worker ${pid} to exit`);
    assert.match((await get(port)).body, /^v2 /);
    // The Unix socket went over too, and its path stayed.
    assert.match(await getUnix(d.socket), /^v2 /);
    // So did the metrics server, on its port.
    assert.equal(after.primary.metrics.port, metricsPort);
    const metrics = (await get(metricsPort, '/metrics')).body;
    for (const w of after.workers) assert.match(metrics, new RegExp(`pid="${w.pid}"`));
    console.log(`# status round trip on the new primary's control socket: median ${await statusLatency(env, 'shop')} ms of 50`);

    // No descriptor left behind: the new primary has what the old one had,
    // each socket once; the new workers what the old ones had (nothing of
    // what the new primary inherited).
    await sameFds(report.to, oldFds.primary, 'the new primary');
    for (const w of after.workers) await sameFds(w.pid, oldFds.worker, `new worker ${w.id}`);

    // systemd: READY=1 from the old primary, then from it MAINPID=<new>, and
    // from then on only the new one speaks (READY=1, its watchdog): under
    // NotifyAccess=main, systemd drops what another process says.
    const heard = notify.heard;
    const switched = heard.findIndex((m) => /^MAINPID=/m.test(m.text) && !/^READY=1$/m.test(m.text));
    assert.ok(switched > 0, JSON.stringify(heard));
    assert.match(heard[switched].text, new RegExp(`^MAINPID=${report.to}$`, 'm'));
    for (const [i, m] of heard.entries()) {
      assert.equal(m.pid, i <= switched ? before.primary.pid : report.to, `datagram ${i} from the wrong process: ${JSON.stringify(heard)}`);
    }
    await until(() => notify.heard.some((m) => m.pid === report.to && /^WATCHDOG=1$/m.test(m.text)), LONG, 'the new primary to feed the watchdog');
    const ready = notify.heard.filter((m) => /^READY=1$/m.test(m.text));
    assert.deepEqual(ready.map((m) => m.pid), [before.primary.pid, report.to]);
    assert.match(ready[1].text, new RegExp(`^MAINPID=${report.to}$`, 'm'));
    assert.ok(!notify.heard.some((m) => /^STOPPING=1$/m.test(m.text)), 'the old primary said STOPPING=1');

    // The new primary stops as any primary does; the socket's path goes with it.
    const stop = await cli(['stop', '--name', 'shop'], { env });
    assert.equal(stop.code, 0, stop.stderr);
    await until(() => !alive(report.to), LONG, 'the new primary to exit');
    assert.equal(fs.existsSync(d.socket), false);
    assert.match(p.stderr(), /took over from the old primary/);
  });

  for (const [policy, how] of [['none', 'cluster.upgrade()'], ['reuseport', 'SIGUSR2']]) {
    test(`SCHED_${policy.toUpperCase()}, ${how} (supervise({ upgradeSignal: true })) under wrk: no request fails, no descriptor leaked`, async (t) => {
      const env = { XDG_RUNTIME_DIR: runtimeDir() };
      const d = deploy(t, 'v1');
      const p = startProcess([SUPERVISED, '2'], {
        env: { ...env, NAME: 'app', VERSION_FILE: d.version, NODE_CLUSTER_SCHED_POLICY: policy, ...(policy === 'none' ? { SOCKET_PATH: d.socket, UDP: '1' } : {}) },
      });
      t.after(() => p.kill());
      // SCHED_NONE: TCP, a Unix socket and UDP per worker.
      await p.waitOut(new RegExp(`("ev":"listening".*\n[^]*){${policy === 'none' ? 6 : 2}}`), 0, LONG);
      const listening = p.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.ev === 'listening');
      const port = listening.find((e) => e.addressType === 4).port;
      const udpPort = policy === 'none' ? listening.find((e) => e.addressType === 'udp4').port : null;
      const before = await status(env, 'app');
      const oldPids = before.workers.map((w) => w.pid);
      const oldFds = { primary: await settledFds(before.primary.pid), worker: await settledFds(oldPids[0]) };

      const wrk = startWrk(port);
      await until(() => wrk.seen('v1') >= 200, LONG, 'wrk to get 200 answers');
      fs.writeFileSync(d.version, 'v2');
      const asked = Date.now();
      const oldExit = exitOf(p.child).then((e) => ({ ...e, ms: Date.now() - asked }));
      if (how === 'SIGUSR2') process.kill(p.child.pid, 'SIGUSR2');
      else p.child.stdin.write('upgrade\n');
      const [line] = await p.waitOut(new RegExp(`\\{"primary":${p.child.pid},"ev":"upgrade".*\\n`), 0, LONG);
      const report = JSON.parse(line);
      assert.equal(report.ok, true, line);
      if (how !== 'SIGUSR2') {
        // What cluster.upgrade() resolved to: the same report.
        const [resolved] = await p.waitOut(new RegExp(`\\{"primary":${p.child.pid},"ev":"upgraded".*\\n`), 0, LONG);
        assert.deepEqual({ ...JSON.parse(resolved), ev: 'upgrade' }, report);
      }
      // The new primary says so too.
      const [theirs] = await p.waitOut(new RegExp(`\\{"primary":${report.to},"ev":"upgrade".*\\n`), 0, LONG);
      assert.equal(JSON.parse(theirs).from, p.child.pid);
      const { ms: oldExitMs, ...exit } = await oldExit;
      assert.deepEqual(exit, { code: 0, signal: null });
      const v2 = wrk.seen('v2');
      await until(() => wrk.seen('v2') >= v2 + 200, LONG, 'wrk to get 200 more answers from the new workers');
      const load = await wrk.stop();
      console.log(`# SCHED_${policy.toUpperCase()} upgrade (${how}, 2 workers) under wrk -c4 Connection: close at ${load.rate} req/s: ` +
        `${load.requests} requests, ${load.errors} socket errors, ${load.non2xx} non-2xx; new workers serving ${report.readyMs} ms, ` +
        `new primary took over ${report.ms} ms, old primary exited ${oldExitMs} ms after the ${how === 'SIGUSR2' ? 'signal' : 'call'}`);
      assertNoFailures(load);

      const after = await status(env, 'app');
      assert.equal(after.primary.pid, report.to);
      assert.notEqual(after.primary.pid, before.primary.pid);
      assert.equal(after.workers.length, 2);
      for (const w of after.workers) assert.ok(!oldPids.includes(w.pid), `worker ${w.pid} is an old one`);
      for (const pid of oldPids) await until(() => !alive(pid), LONG, `old worker ${pid} to exit`);
      // Each connection a fresh one, all answered by the new version.
      for (let i = 0; i < 20; i++) assert.match((await get(port)).body, /^v2 /);
      if (policy === 'none') {
        assert.match(await getUnix(d.socket), /^v2 /);
        const answer = await udpAsk(udpPort);
        assert.match(answer, /^v2 /);
        assert.ok(after.workers.some((w) => answer === `v2 ${w.pid}`), answer);
      }
      await sameFds(report.to, oldFds.primary, 'the new primary');
      for (const w of after.workers) await sameFds(w.pid, oldFds.worker, `new worker ${w.id}`);
    });
  }

  test('a deploy that moves a `current` symlink: the new primary starts in the directory the shell named ($PWD) and runs the new release', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'unused');
    for (const v of ['v1', 'v2']) {
      fs.mkdirSync(path.join(d.dir, v));
      fs.writeFileSync(path.join(d.dir, v, 'VERSION'), v);
      fs.writeFileSync(path.join(d.dir, v, 'app.js'),
        `process.env.VERSION_FILE = require('node:path').join(__dirname, 'VERSION');\nrequire(${JSON.stringify(APP)});\n`);
    }
    const current = path.join(d.dir, 'current');
    fs.symlinkSync('v1', current);
    // As a shell started it: `cd current && rust-cluster app.js`.
    const p = startProcess([CLI, '-w', '1', '--name', 'rel', 'app.js'],
      { cwd: current, env: { ...env, PWD: current, PORT_FILE: path.join(d.dir, 'port') } });
    t.after(() => p.kill());
    const port = Number(await until(() => fs.existsSync(path.join(d.dir, 'port')) && fs.readFileSync(path.join(d.dir, 'port'), 'utf8'), LONG, 'the port'));
    assert.match((await get(port)).body, /^v1 /);
    fs.unlinkSync(current);
    fs.symlinkSync('v2', current);
    const r = await cli(['upgrade', '--name', 'rel'], { env });
    assert.equal(r.code, 0, r.stderr + p.stderr());
    assert.deepEqual(await exitOf(p.child), { code: 0, signal: null });
    assert.match((await get(port)).body, /^v2 /);
  });

  test('a new primary whose workers never listen: stopped after --upgrade-timeout, the old one goes on serving (under wrk: no request fails) and answering, its descriptors as before', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'v1');
    // The failed new primary's shutdown kills its workers after 1 s.
    const p = await startCli(['-w', '2', '--name', 'hang', '--upgrade-timeout', '3000', '--shutdown-timeout', '1000'], APP, [],
      { env: { ...env, VERSION_FILE: d.version, MODE_FILE: d.mode } });
    t.after(() => p.kill());
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(p.stderr())[1]);
    const before = await status(env, 'hang');
    const ours = [before.primary.pid, ...before.workers.map((w) => w.pid)].sort();
    const oldFds = await settledFds(before.primary.pid);
    fs.writeFileSync(d.version, 'v2');
    fs.writeFileSync(d.mode, 'hang');

    // From the shell: exit 1, and why.
    const wrk = startWrk(port);
    await until(() => wrk.seen('v1') >= 200, LONG, 'wrk to get 200 answers');
    const r = await cli(['upgrade', '--name', 'hang', '--json'], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, false);
    assert.match(report.error, /did not become ready within 3000 ms; this primary \(pid \d+\) goes on serving/);
    // The new primary and its workers are stopped; only ours are left.
    await until(() => !alive(report.to), LONG, 'the failed new primary to exit');
    await until(() => JSON.stringify(groupPids(p.child.pid).sort()) === JSON.stringify(ours), LONG,
      `only the old primary and its workers in the group (${ours})`);
    const served = wrk.seen('v1');
    await until(() => wrk.seen('v1') >= served + 200, LONG, 'wrk to get 200 more answers');
    const load = await wrk.stop();
    console.log(`# failed upgrade (new workers never listen) under wrk -c4 Connection: close at ${load.rate} req/s: ` +
      `${load.requests} requests, ${load.errors} socket errors, ${load.non2xx} non-2xx`);
    assertNoFailures(load);
    assert.equal(wrk.seen('v2'), 0);
    const after = await status(env, 'hang');
    assert.equal(after.primary.pid, before.primary.pid);
    assert.deepEqual(after.workers.map((w) => w.pid), before.workers.map((w) => w.pid));
    assert.match((await get(port)).body, /^v1 /);
    await sameFds(before.primary.pid, oldFds, 'the old primary after the failed upgrade');

    // SIGUSR2 (the CLI's upgrade signal) fails the same way, and says so.
    const from = p.stderr().length;
    process.kill(p.child.pid, 'SIGUSR2');
    await p.waitErr(/upgrade failed: the new primary \(pid \d+\) did not become ready within 3000 ms/, from, LONG);
    assert.equal((await status(env, 'hang')).primary.pid, before.primary.pid);

    // Fixed: the next upgrade goes through.
    fs.rmSync(d.mode);
    const ok = await cli(['upgrade', '--name', 'hang'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /upgraded in [\d.]+ s \(new workers serving after [\d.]+ s\): primary pid \d+ -> \d+, 2 new workers serving/);
    assert.deepEqual(await exitOf(p.child), { code: 0, signal: null });
    assert.match((await get(port)).body, /^v2 /);
  });

  test('a new primary that crashes at start: the old one goes on serving, its control socket answers', async (t) => {
    const env = { XDG_RUNTIME_DIR: runtimeDir() };
    const d = deploy(t, 'v1');
    const p = startProcess([SUPERVISED, '2'], { env: { ...env, NAME: 'crashy', VERSION_FILE: d.version, MODE_FILE: d.mode } });
    t.after(() => p.kill());
    const m = await p.waitOut(/("ev":"listening"[^]*){2}/, 0, LONG);
    const port = Number(/"port":([1-9]\d*)/.exec(m[0])[1]);
    const before = await status(env, 'crashy');
    const oldFds = await settledFds(before.primary.pid);
    fs.writeFileSync(d.version, 'v2');
    fs.writeFileSync(d.mode, 'primary-crash');

    process.kill(p.child.pid, 'SIGUSR2');
    const [line] = await p.waitOut(/\{"primary":\d+,"ev":"upgrade".*\n/, 0, LONG);
    const report = JSON.parse(line);
    assert.equal(report.ok, false);
    assert.match(report.error, /exited \(code 1\) before it was ready/);
    assert.match(p.stderr(), /this deploy's primary is broken/);

    const after = await status(env, 'crashy');
    assert.equal(after.primary.pid, before.primary.pid);
    assert.deepEqual(after.workers.map((w) => w.pid), before.workers.map((w) => w.pid));
    assert.match((await get(port)).body, /^v1 /);
    await sameFds(before.primary.pid, oldFds, 'the old primary after the failed upgrade');
    // The control command reports the same failure.
    const r = await cli(['upgrade', '--name', 'crashy'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /upgrade failed: the new primary \(pid \d+\) exited \(code 1\) before it was ready/);
    assert.equal((await status(env, 'crashy')).primary.pid, before.primary.pid);
  });
}
