'use strict';
// The README's systemd unit and Kubernetes Deployment, checked as far as
// they can be without systemd or a cluster running them: the unit with
// `systemd-analyze verify`, the manifest's fields against each other; then
// each one's command line is run as the manager would run it (notify
// socket and watchdog; probes; SIGTERM to the main process only).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, CLI, FIXTURES, runtimeDir, startProcess, get, until, notifySocket } = require('./helpers');
const { freePort } = require('../helpers/ports');

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function block(lang) {
  const blocks = [...README.matchAll(new RegExp('^```' + lang + '\\n([^]*?)^```$', 'gm'))].map((m) => m[1]);
  assert.equal(blocks.length, 1, `one \`\`\`${lang} block in the README`);
  return blocks[0];
}

/** Connections the primary handed to workers, from /metrics. */
async function handed(statsPort) {
  const { body } = await get(statsPort, '/metrics');
  return [...body.matchAll(/^rust_cluster_worker_connections_handed_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
}

function hasSystemdAnalyze() {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The unit's [Service] keys (the last value of each). */
function serviceKeys(unit) {
  const section = /^\[Service\]\n([^[]*)/m.exec(unit)[1];
  return Object.fromEntries(section.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** A [Service] command line with the package and the app swapped for ours. */
function localCommand(line, port, statsPort) {
  return line.split(/\s+/).map((w) => {
    if (w.endsWith('node_modules/rust-cluster/bin/rust-cluster.js')) return CLI;
    if (w === 'server.js') return path.join(FIXTURES, 'slow-app.js');
    if (w === '8080') return String(port);
    if (w === '9100') return String(statsPort);
    if (w === '/usr/bin/node' || w === 'node') return process.execPath;
    return w;
  });
}

test('systemd unit: systemd-analyze verify has nothing to say', { skip: !hasSystemdAnalyze() && 'systemd-analyze is not installed' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-unit-'));
  const file = path.join(dir, 'shop.service');
  fs.writeFileSync(file, block('ini'));
  const r = await new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', file], (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 0, r.stderr);
  // It warns and goes on for unknown keys and bad values: none here.
  assert.doesNotMatch(r.stderr, /shop\.service/, r.stderr);
});

test('systemd unit: Type=notify, KillMode=mixed, TimeoutStopSec above the shutdown timeout; ExecStart and ExecReload run as systemd would', async (t) => {
  const unit = serviceKeys(block('ini'));
  assert.equal(unit.Type, 'notify');
  assert.equal(unit.KillMode, 'mixed');
  const shutdownMs = Number(/--shutdown-timeout (\d+)/.exec(unit.ExecStart)[1]);
  assert.ok(Number(unit.TimeoutStopSec) * 1000 > shutdownMs);
  assert.ok(Number(unit.WatchdogSec) > 0);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-systemd-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const notify = notifySocket(path.join(dir, 'notify'));
  t.after(() => notify.close());
  await notify.ready;
  const heard = {
    some: (f) => notify.heard.some(({ text }) => f(text)),
    filter: (f) => notify.heard.filter(({ text }) => f(text)),
  };
  const port = await freePort();
  const statsPort = await freePort();
  const env = {
    XDG_RUNTIME_DIR: runtimeDir(),
    NOTIFY_SOCKET: path.join(dir, 'notify'),
    WATCHDOG_USEC: String(Number(unit.WatchdogSec) * 1e6),
  };
  const [, ...startArgs] = localCommand(unit.ExecStart, port, statsPort);
  const main = startProcess(startArgs, { env });
  t.after(() => main.kill());
  await until(() => heard.some((m) => /^READY=1$/m.test(m)), 30000, 'READY=1', main);
  assert.ok(heard.some((m) => m === 'WATCHDOG=1\n'));
  assert.equal((await get(statsPort, '/readyz')).status, 200);

  const [, ...reloadArgs] = localCommand(unit.ExecReload, port, statsPort);
  const reload = startProcess(reloadArgs, { env });
  t.after(() => reload.kill());
  const r = await reload.closed;
  assert.equal(r.code, 0, r.stderr);
  await until(() => heard.filter((m) => /^READY=1$/m.test(m)).length === 2, 10000, 'READY=1 after the reload', main);
  assert.ok(heard.some((m) => /^RELOADING=1$/m.test(m)));

  // systemctl stop with KillMode=mixed: SIGTERM to the main process only.
  const slow = get(port, '/slow');
  await until(async () => (await handed(statsPort)) >= 1, 10000, 'the slow request to be handed', main);
  main.child.kill('SIGTERM');
  assert.deepEqual(await slow, { status: 200, body: 'slow' });
  assert.equal((await main.closed).code, 0);
  assert.ok(heard.some((m) => /^STOPPING=1$/m.test(m)));
});

test('Kubernetes Deployment: probes on the stats port, grace period above preStop + shutdown; the container answers its probes through a termination', async (t) => {
  const YAML = require('yaml');
  const doc = YAML.parse(block('yaml'));
  assert.equal(doc.apiVersion, 'apps/v1');
  assert.equal(doc.kind, 'Deployment');
  const spec = doc.spec.template.spec;
  assert.deepEqual(doc.spec.selector.matchLabels, doc.spec.template.metadata.labels);
  assert.equal(spec.containers.length, 1);
  const c = spec.containers[0];
  const args = c.args.map(String);
  const value = (opt) => args[args.indexOf(opt) + 1];
  const portNamed = (name) => c.ports.find((p) => p.name === name).containerPort;

  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(portNamed(c.readinessProbe.httpGet.port), Number(value('--stats-port')));
  assert.equal(portNamed(c.livenessProbe.httpGet.port), Number(value('--stats-port')));
  assert.equal(value('--stats-host'), '0.0.0.0', 'the kubelet probes the pod IP');
  assert.equal(portNamed('http'), Number(args[args.length - 1]));
  const [sleep, seconds] = c.lifecycle.preStop.exec.command;
  assert.equal(sleep, 'sleep');
  assert.ok(spec.terminationGracePeriodSeconds > Number(seconds) + Number(value('--shutdown-timeout')) / 1000);

  // The container's command line, run here.
  const port = await freePort();
  const statsPort = await freePort();
  const line = [...c.command, ...args].join(' ').replace('--stats-host 0.0.0.0', '--stats-host 127.0.0.1');
  const [, ...cliArgs] = localCommand(line, port, statsPort);
  const pod = startProcess(cliArgs, { env: { XDG_RUNTIME_DIR: runtimeDir() } });
  t.after(() => pod.kill());
  await until(async () => (await get(statsPort, c.readinessProbe.httpGet.path).catch(() => ({}))).status === 200, 30000, 'ready', pod);
  assert.equal((await get(statsPort, c.livenessProbe.httpGet.path)).status, 200);
  const slow = get(port, '/slow');
  await until(async () => (await handed(statsPort)) >= 1, 10000, 'the slow request to be handed', pod);
  pod.child.kill('SIGTERM');
  await pod.waitErr(/SIGTERM: shutting down/);
  assert.equal((await get(statsPort, c.readinessProbe.httpGet.path)).status, 503);
  assert.equal((await get(statsPort, c.livenessProbe.httpGet.path)).status, 200);
  assert.deepEqual(await slow, { status: 200, body: 'slow' });
  assert.equal((await pod.closed).code, 0);
});
