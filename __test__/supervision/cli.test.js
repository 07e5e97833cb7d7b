'use strict';
// The command line, bin/rust-cluster.js, running an unmodified server.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { freePort, FIXTURES, ROOT } = require('./helpers');

const CLI = path.join(ROOT, 'bin', 'rust-cluster.js');

function runCli(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

function get(port, agent = false) {
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', agent }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ body, connection: res.headers.connection }));
    }).on('error', reject);
  });
}

test('--help explains every option', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const opt of ['--workers', '--policy', '--reload-signal', '--respawn', '--shutdown-timeout', '--drain-timeout',
    '--heartbeat-timeout', '--max-rss', '--stats-port', '--stats-host', '--quiet', '--help', 'Exit codes']) {
    assert.ok(r.stdout.includes(opt), opt);
  }
});

test('bad command lines exit with 2', async () => {
  for (const args of [[], ['--bogus', 'app.js'], ['--workers', 'many', 'app.js'], ['--policy', 'fastest', 'app.js'],
    ['--reload-signal', 'SIGNOPE', 'app.js']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^rust-cluster: /);
  }
});

test('runs a plain server on 2 workers: serves, reloads on SIGHUP (drained), respawns, shuts down on SIGTERM', async () => {
  const port = await freePort();
  // A runtime directory of its own: the CLI's control socket (named after
  // the app) must not meet one of a suite running beside this one.
  const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-cli-'));
  const child = spawn(process.execPath, [CLI, '--workers', '2', '--respawn', '--stats-port', '0',
    path.join(FIXTURES, 'plain-app.js'), String(port)],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
  let stderr = '';
  const waiters = [];
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    for (const w of [...waiters]) if (w.re.test(stderr.slice(w.from))) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const kill = setTimeout(() => child.kill('SIGKILL'), 40000);
  const waitLine = (re, from = 0) => new Promise((resolve, reject) => {
    if (re.test(stderr.slice(from))) return resolve();
    waiters.push({ re, from, resolve });
    closed.then(() => reject(new Error(`CLI exited while waiting for ${re}\n${stderr}`)));
  });
  try {
    await waitLine(/(up, listening[^]*){2}/);
    const first = new Set();
    for (let i = 0; i < 4; i++) first.add((await get(port)).body);
    assert.equal(first.size, 2, 'both workers serve');

    // A keep-alive client busy during the reload: the agent the CLI loads
    // into the workers answers it with Connection: close while draining.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let running = true;
    let sawClose = false;
    let errors = 0;
    const loop = (async () => {
      while (running) {
        try {
          if ((await get(port, agent)).connection === 'close') sawClose = true;
        } catch {
          errors++;
        }
      }
    })();
    const mark = stderr.length;
    child.kill('SIGHUP');
    await waitLine(/reload done: 2 workers replaced/, mark);
    running = false;
    await loop;
    agent.destroy();
    assert.equal(errors, 0);
    assert.ok(sawClose, 'a response said Connection: close while its worker drained');
    assert.match(stderr.slice(mark), /reloaded, in place of worker 1[^]*reloaded, in place of worker 2/);
    const second = new Set();
    for (let i = 0; i < 4; i++) second.add((await get(port)).body);
    assert.equal(second.size, 2);
    assert.deepEqual([...second].filter((pid) => first.has(pid)), [], 'new processes serve');

    const metricsPort = Number(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr)[1]);
    const metrics = await new Promise((resolve, reject) => {
      http.get({ port: metricsPort, host: '127.0.0.1', path: '/metrics' }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    assert.match(metrics, /^rust_cluster_workers 2$/m);
    assert.match(metrics, /^rust_cluster_reloads_total 2$/m);

    const victim = Number([...second][0]);
    const mark2 = stderr.length;
    process.kill(victim, 'SIGKILL');
    await waitLine(/down \(SIGKILL\)[^]*respawned for worker \d+, after 100 ms[^]*up, listening/, mark2);
  } finally {
    child.kill('SIGTERM');
  }
  const { code } = await closed;
  clearTimeout(kill);
  fs.rmSync(runtime, { recursive: true, force: true });
  assert.equal(code, 0, stderr);
  assert.match(stderr, /SIGTERM: shutting down/);
  assert.equal((stderr.match(/down \(exit code 0\)/g) || []).length, 4, stderr);
});
