'use strict';
// The control socket and the commands that use it (status, scale, reload,
// stop), against real primaries: the CLI's, and a program's own
// supervise({ control }).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { CLI, FIXTURES, runtimeDir, startProcess, startCli, cli, get } = require('./helpers');
const client = require('../../lib/supervisor/control-client');

const APP = path.join(FIXTURES, 'app.js');

function portOf(p) {
  return Number(/listening on 127\.0\.0\.1:(\d+)/.exec(p.stderr())[1]);
}

async function pidsServing(port, n) {
  const seen = new Set();
  for (let i = 0; i < n * 4; i++) seen.add(Number((await get(port)).body));
  return seen;
}

test('status, status --json, scale, reload and stop from the shell; status round trip measured', async (t) => {
  const xdg = runtimeDir();
  const env = { XDG_RUNTIME_DIR: xdg };
  const p = await startCli(['-w', '2', '--name', 'shop'], APP, ['0'], { env });
  t.after(() => p.kill());
  const port = portOf(p);
  const socket = path.join(xdg, 'rust-cluster', 'shop.sock');
  assert.match(p.stderr(), new RegExp(`control socket ${socket.replace(/[.]/g, '\\.')}`));

  const table = await cli(['status'], { env });
  assert.equal(table.code, 0, table.stderr);
  const json = JSON.parse((await cli(['status', '--json'], { env })).stdout);
  assert.deepEqual(Object.keys(json), ['primary', 'workers', 'totals']);
  assert.equal(json.primary.control, socket);
  assert.equal(json.workers.length, 2);
  for (const w of json.workers) {
    assert.match(table.stdout, new RegExp(`^\\s*${w.id}\\s+${w.pid}\\s+listening\\s`, 'm'));
  }
  assert.match(table.stdout, /^shop: primary pid \d+, up \d+s, 2 of 2 workers serving/);
  // Every line fits an 80-column terminal.
  for (const line of table.stdout.split('\n')) assert.ok(line.length <= 80, line);

  // Round trip of one status request on an open connection, and of the
  // whole `rust-cluster status` command.
  const conn = await client.connect(socket);
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t = process.hrtime.bigint();
    await conn.request('status');
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  conn.close();
  times.sort((a, b) => a - b);
  console.log(`# status round trip over the control socket: median ${times[100].toFixed(2)} ms, ` +
    `p99 ${times[198].toFixed(2)} ms (200 requests); whole \`rust-cluster status\` command ${table.ms} ms`);

  const scaled = await cli(['scale', '3'], { env });
  assert.equal(scaled.code, 0, scaled.stderr);
  assert.equal(scaled.stdout, '3 workers serving\n');
  const before = await pidsServing(port, 3);
  assert.equal(before.size, 3);

  const reload = await cli(['reload'], { env });
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stdout, /^reloaded: 3 replaced in [\d.]+ s$/m);
  assert.equal((reload.stdout.match(/-> worker \d+ \(pid \d+\)/g) || []).length, 3);
  const after = await pidsServing(port, 3);
  assert.equal(after.size, 3);
  assert.deepEqual([...after].filter((pid) => before.has(pid)), [], 'only new processes serve');
  assert.match(p.stderr(), /reload done: 3 workers replaced/);

  const bad = await cli(['scale', 'many'], { env });
  assert.equal(bad.code, 2);
  const range = await cli(['scale', '5000'], { env });
  assert.equal(range.code, 1);
  assert.match(range.stderr, /scale failed: .*out of range/);

  const stop = await cli(['stop', '--timeout', '5000'], { env });
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /^stopped: every worker finished in time$/m);
  const { code } = await p.closed;
  assert.equal(code, 0);
  assert.ok(!fs.existsSync(socket), 'the socket file is removed');
  const gone = await cli(['status'], { env });
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /no running cluster found/);
});

test('malformed, unknown and oversized requests get error answers and leave the primary serving', async (t) => {
  const xdg = runtimeDir();
  const env = { XDG_RUNTIME_DIR: xdg };
  const p = await startCli(['-w', '1', '--name', 'garbage'], APP, ['0'], { env, workers: 1 });
  t.after(() => p.kill());
  const socket = path.join(xdg, 'rust-cluster', 'garbage.sock');
  const exchange = (payload) => new Promise((resolve) => {
    const s = net.connect(socket);
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d) => { text += d; });
    s.on('error', () => {});
    s.on('close', () => resolve(text.split('\n').filter(Boolean).map((l) => JSON.parse(l))));
    s.write(payload);
    setTimeout(() => s.end(), 500);
  });
  const answers = await exchange('not json\n[1,2]\n{"cmd":42}\n{"id":7,"cmd":"status"}\n{"id":"s","cmd":"scale","n":-1}\n\n');
  assert.deepEqual(answers.map((a) => [a.id, a.ok, a.ok ? null : a.error.code]), [
    [null, false, 'ERR_RUST_CLUSTER_CONTROL_BAD_REQUEST'],
    [null, false, 'ERR_RUST_CLUSTER_CONTROL_BAD_REQUEST'],
    [null, false, 'ERR_RUST_CLUSTER_CONTROL_UNKNOWN_COMMAND'],
    [7, true, null],
    ['s', false, 'ERR_OUT_OF_RANGE'],
  ]);
  // 1 MiB without a newline: one error answer, then the connection closes.
  const big = await exchange('x'.repeat(1 << 20));
  assert.equal(big.length, 1);
  assert.match(big[0].error.message, /longer than 65536 bytes/);
  // Binary garbage, and a connection that leaves mid-request.
  await exchange(Buffer.from([0, 255, 10, 0xc3, 0x28, 10]));
  const half = net.connect(socket);
  half.on('error', () => {});
  half.write('{"cmd":"sta');
  half.destroy();

  const status = await cli(['status', '--json'], { env });
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).totals.active, 1);
  assert.equal((await get(portOf(p))).status, 200);
  p.child.kill('SIGTERM');
  assert.equal((await p.closed).code, 0);
});

test('a stale socket is replaced, a live name is refused, several clusters need --name', async (t) => {
  const xdg = runtimeDir();
  const env = { XDG_RUNTIME_DIR: xdg };
  const dead = await startCli(['-w', '1', '--name', 'alpha'], APP, ['0'], { env, workers: 1 });
  t.after(() => dead.kill());
  process.kill(-dead.child.pid, 'SIGKILL');
  await dead.closed;
  const socket = path.join(xdg, 'rust-cluster', 'alpha.sock');
  assert.ok(fs.statSync(socket).isSocket(), 'a SIGKILLed primary leaves its socket behind');

  const alpha = await startCli(['-w', '1', '--name', 'alpha'], APP, ['0'], { env, workers: 1 });
  t.after(() => alpha.kill());
  const again = startProcess([CLI, '-w', '1', '--name', 'alpha', APP, '0'], { env });
  t.after(() => again.kill());
  const refused = await again.closed;
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /a cluster named 'alpha' is already running/);

  const beta = await startCli(['-w', '1', '--name', 'beta'], APP, ['0'], { env, workers: 1 });
  t.after(() => beta.kill());
  const which = await cli(['status'], { env });
  assert.equal(which.code, 2);
  assert.match(which.stderr, /2 clusters are running: alpha, beta; pick one with --name NAME/);
  const b = await cli(['status', '--json', '--name', 'beta'], { env });
  assert.equal(JSON.parse(b.stdout).primary.pid, beta.child.pid);
  const none = await cli(['status', '--name', 'gamma'], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no cluster named 'gamma' is running \(running: alpha, beta\)/);

  alpha.child.kill('SIGTERM');
  beta.child.kill('SIGTERM');
  assert.equal((await alpha.closed).code, 0);
  assert.equal((await beta.closed).code, 0);
});

test('supervise({ control }) in a program: default name, or a socket path of its own', async (t) => {
  const xdg = runtimeDir();
  const env = { XDG_RUNTIME_DIR: xdg };
  const p = startProcess([path.join(FIXTURES, 'supervised.js'), JSON.stringify({ control: true, shutdown: true }), '2'], { env });
  t.after(() => p.kill());
  await p.waitOut(/"ev":"supervised"/);
  await p.waitOut(/("ev":"listening"[^]*){2}/);
  const s = await cli(['status', '--json', '--name', 'supervised'], { env });
  assert.equal(s.code, 0, s.stderr);
  assert.equal(JSON.parse(s.stdout).workers.length, 2);
  assert.equal((await cli(['stop'], { env })).code, 0);
  assert.equal((await p.closed).code, 0, 'stop exits the program with the shutdown code');

  const own = path.join(xdg, 'own', 'ctl.sock');
  fs.mkdirSync(path.dirname(own));
  const q = startProcess([path.join(FIXTURES, 'supervised.js'), JSON.stringify({ control: own, shutdown: true }), '1'], { env });
  t.after(() => q.kill());
  await q.waitOut(/"ev":"listening"/);
  const r = await cli(['scale', '2', '--socket', own], { env });
  assert.equal(r.stdout, '2 workers serving\n', r.stderr);
  q.child.kill('SIGTERM');
  assert.equal((await q.closed).code, 0);
  assert.ok(!fs.existsSync(own));

  const bad = startProcess([path.join(FIXTURES, 'supervised.js'), JSON.stringify({ control: { name: '../x' } }), '1'], { env });
  t.after(() => bad.kill());
  const out = await bad.closed;
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /ERR_INVALID_ARG_VALUE/);
});

// A user other than the one running the primary (uid 0 here): nobody, or
// one made for the tests.
function otherUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const ids = (name) => ({
    uid: Number(execFileSync('id', ['-u', name]).toString()),
    gid: Number(execFileSync('id', ['-g', name]).toString()),
  });
  for (const name of ['nobody', 'rc-other']) {
    try {
      return ids(name);
    } catch {
      // Not there.
    }
  }
  try {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'rc-other'], { stdio: 'ignore' });
    return ids('rc-other');
  } catch {
    return null;
  }
}

/** Try to connect to `socket` as `user`; resolves to 'connected' or the error code. */
function connectAs(user, socket) {
  const script = `const s=require('net').connect(${JSON.stringify(socket)});` +
    's.on("connect",()=>{console.log("connected");s.destroy()});s.on("error",(e)=>console.log(e.code))';
  const args = user ? ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', process.execPath, '-e', script]
    : null;
  return new Promise((resolve) => {
    if (args) execFile('setpriv', args, (err, stdout) => resolve(stdout.trim() || (err && err.message)));
    else execFile(process.execPath, ['-e', script], (err, stdout) => resolve(stdout.trim()));
  });
}

const other = otherUser();
test('another user cannot connect: socket 0600, directory 0700, both owned by the user', { skip: !other && 'needs root and setpriv to act as a second uid' }, async (t) => {
  // A runtime directory anyone may enter: only rust-cluster's own
  // directory and the socket's mode stand in the other user's way.
  const xdg = runtimeDir();
  fs.chmodSync(xdg, 0o755);
  const env = { XDG_RUNTIME_DIR: xdg };
  const p = await startCli(['-w', '1', '--name', 'private'], APP, ['0'], { env, workers: 1 });
  t.after(() => p.kill());
  const dir = path.join(xdg, 'rust-cluster');
  const socket = path.join(dir, 'private.sock');
  const d = fs.statSync(dir);
  const s = fs.statSync(socket);
  assert.equal(d.mode & 0o777, 0o700);
  assert.equal(s.mode & 0o777, 0o600);
  assert.equal(d.uid, process.getuid());
  assert.equal(s.uid, process.getuid());
  assert.equal(await connectAs(null, socket), 'connected', 'the owner connects');
  assert.equal(await connectAs(other, socket), 'EACCES');

  // A socket path in a directory open to all (mode 1777, like /tmp): the
  // socket's own mode keeps the other user out.
  const open = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-open-'));
  fs.chmodSync(open, 0o1777);
  const own = path.join(open, 'ctl.sock');
  const q = startProcess([path.join(FIXTURES, 'supervised.js'), JSON.stringify({ control: own, shutdown: true }), '1'], { env });
  t.after(() => q.kill());
  await q.waitOut(/"ev":"listening"/);
  assert.equal(fs.statSync(own).mode & 0o777, 0o600);
  assert.equal(await connectAs(null, own), 'connected');
  assert.equal(await connectAs(other, own), 'EACCES');

  // A directory of ours left with a loose mode is tightened at start.
  p.child.kill('SIGTERM');
  await p.closed;
  fs.chmodSync(dir, 0o755);
  const p2 = await startCli(['-w', '1', '--name', 'private'], APP, ['0'], { env, workers: 1 });
  t.after(() => p2.kill());
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.equal(await connectAs(other, socket), 'EACCES');

  p2.child.kill('SIGTERM');
  q.child.kill('SIGTERM');
  await Promise.all([p2.closed, q.closed]);
  fs.rmSync(open, { recursive: true, force: true });
});
