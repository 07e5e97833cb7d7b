'use strict';
// Running the command line against a real primary: the primary (the CLI,
// or a fixture) in its own process group with its own XDG_RUNTIME_DIR, so
// that control sockets of parallel tests never meet; subcommands as child
// processes.
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin', 'rust-cluster.js');
const FIXTURES = path.join(__dirname, 'fixtures');

/** A fresh runtime directory (mode 0700), removed at exit. */
function runtimeDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-ops-'));
  fs.chmodSync(dir, 0o700);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cleanEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const k of ['NODE_UNIQUE_ID', 'NODE_CHANNEL_FD', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT', 'NOTIFY_SOCKET',
    'WATCHDOG_USEC', 'WATCHDOG_PID']) {
    if (!(extra && k in extra)) delete env[k];
  }
  return env;
}

const live = new Set();
process.on('exit', () => {
  for (const pid of live) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Start `node args...` (the CLI: args[0] = CLI) in its own process group.
 * Returns { child, stderr(), stdout(), waitErr(re, from), waitOut(re, from), closed }.
 */
function startProcess(args, { env = {}, timeout = 90000, stdio = ['pipe', 'pipe', 'pipe'], cwd = ROOT } = {}) {
  const child = spawn(process.execPath, args, { cwd, env: cleanEnv(env), detached: true, stdio });
  live.add(child.pid);
  const text = { out: '', err: '' };
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = w.re.exec(text[w.stream].slice(w.from));
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  if (child.stdout) child.stdout.setEncoding('utf8').on('data', (d) => { text.out += d; check(); });
  if (child.stderr) child.stderr.setEncoding('utf8').on('data', (d) => { text.err += d; check(); });
  if (child.stdin) child.stdin.on('error', () => {});
  const killer = setTimeout(() => {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }, timeout);
  let exited = null;
  const closed = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      exited = signal || code;
      clearTimeout(killer);
      live.delete(child.pid);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* all gone */ }
      for (const w of waiters) w.reject(new Error(`exited (${signal || code}) while waiting for ${w.re}\n` +
        `stdout:\n${text.out}\nstderr:\n${text.err}`));
      resolve({ code, signal, stdout: text.out, stderr: text.err });
    });
  });
  const wait = (stream) => (re, from = 0, ms = 60000) => new Promise((resolve, reject) => {
    const w = { re, from, stream, resolve, reject };
    const timer = setTimeout(() => {
      if (waiters.includes(w)) waiters.splice(waiters.indexOf(w), 1);
      reject(new Error(`timed out waiting for ${re}\nstdout:\n${text.out}\nstderr:\n${text.err}`));
    }, ms);
    w.resolve = (m) => { clearTimeout(timer); resolve(m); };
    w.reject = (e) => { clearTimeout(timer); reject(e); };
    waiters.push(w);
    check();
  });
  return {
    child,
    closed,
    /** Kill the whole process group (test clean-up). */
    kill() {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    },
    stdout: () => text.out,
    stderr: () => text.err,
    /** The exit code or signal once it has exited, else null. */
    exited: () => exited,
    waitOut: wait('out'),
    waitErr: wait('err'),
  };
}

/** Start the CLI running `app` with `options`; resolves once `workers` are up. */
async function startCli(options, app, appArgs = [], { env = {}, workers = 2, up = /up, listening/g } = {}) {
  const p = startProcess([CLI, ...options, app, ...appArgs], { env });
  await p.waitErr(new RegExp(`(${up.source}[^]*){${workers}}`));
  return p;
}

/** Run a CLI subcommand; resolves to { code, stdout, stderr, ms }. */
function cli(args, { env = {}, timeout = 60000 } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: cleanEnv(env), timeout, cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** GET http://127.0.0.1:port/path with Connection: close; resolves to { status, body }. */
function get(port, urlPath = '/', { timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * Poll `fn` until it returns a truthy value (or throw after `ms`). With
 * `proc` (from startProcess), throw as soon as it exits, and say what it
 * printed either way.
 */
async function until(fn, ms = 30000, what = 'a condition', proc = null) {
  const end = Date.now() + ms;
  const output = () => (proc === null ? '' : `\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (proc !== null && proc.exited() !== null) throw new Error(`exited (${proc.exited()}) while waiting for ${what}${output()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A Unix datagram socket bound at `address` (`@name`: the abstract namespace,
 * with the exact length systemd uses), as a service manager's notify socket:
 * Node cannot bind one, so a small Python process does and prints each
 * datagram as a JSON line. `heard` fills as they come ({ at, text, pid }:
 * `pid` is the sender's, from SO_PASSCRED, as systemd learns it to decide
 * whether NotifyAccess=main lets it speak); `ready` resolves once it is
 * bound; `close()` stops it.
 */
function notifySocket(address) {
  const script = [
    'import json, socket, struct, sys',
    'a = sys.argv[1]',
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
    's.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)',
    "s.bind('\\0' + a[1:] if a.startswith('@') else a)",
    "print('bound', flush=True)",
    'while True:',
    '    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))',
    '    pid = next((struct.unpack("iII", d[:12])[0] for (l, t, d) in anc',
    '                if l == socket.SOL_SOCKET and t == socket.SCM_CREDENTIALS), None)',
    "    print(json.dumps({'text': data.decode(), 'pid': pid}), flush=True)",
  ].join('\n');
  const child = spawn('python3', ['-u', '-c', script, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const heard = [];
  let buf = '';
  let bound;
  const ready = new Promise((resolve, reject) => {
    bound = resolve;
    child.once('exit', (code) => reject(new Error(`the notify socket's listener exited (${code})`)));
  });
  child.stdout.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'bound') bound();
      else heard.push({ at: Date.now(), ...JSON.parse(line) });
    }
  });
  return { heard, ready, close: () => child.kill() };
}

module.exports = { ROOT, CLI, FIXTURES, runtimeDir, cleanEnv, startProcess, startCli, cli, get, until, notifySocket };
