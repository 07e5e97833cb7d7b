'use strict';
// Running supervision fixtures: a primary as a child process (its own
// process group, so a hang is cleaned up), its stdout as JSON events.
const { spawn } = require('node:child_process');
const path = require('node:path');

const FIXTURES = path.join(__dirname, 'fixtures');
const ROOT = path.resolve(__dirname, '../..');
const { freePort } = require('../helpers/ports');

const live = new Set();
process.on('exit', () => {
  for (const pid of live) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Start `file` (in fixtures/ unless absolute) with `args`. Returns
 * { child, events, lines, waitFor(pred, ms), done } where `done` resolves to
 * { code, signal, events, stdout, stderr } when the process exits (or is
 * killed after `timeout` ms).
 */
function start(file, args = [], { timeout = 60000, env = {}, cwd = FIXTURES } = {}) {
  const full = path.isAbsolute(file) ? file : path.join(FIXTURES, file);
  const childEnv = { ...process.env, ...env };
  for (const k of ['NODE_UNIQUE_ID', 'NODE_CHANNEL_FD', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT']) delete childEnv[k];
  const child = spawn(process.execPath, [full, ...args], { cwd, env: childEnv, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child.pid);
  const events = [];
  let stdout = '';
  let stderr = '';
  let buf = '';
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      const hit = events.find(w.pred);
      if (hit) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(hit);
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d;
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('{')) {
        try { events.push(JSON.parse(line)); } catch { /* not ours */ }
      }
    }
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  child.stdin.on('error', () => {});
  const killTimer = setTimeout(() => {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }, timeout);
  const done = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* all gone */ }
      live.delete(child.pid);
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`exited (${signal || code}) before the awaited event\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }
      resolve({ code, signal, events, stdout, stderr });
    });
  });
  const waitFor = (pred, ms = 30000) => new Promise((resolve, reject) => {
    const w = { pred, resolve, reject };
    w.timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(w), 1);
      reject(new Error(`timed out waiting for an event\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, ms);
    waiters.push(w);
    check();
  });
  return { child, events, waitFor, done, output: () => ({ stdout, stderr }) };
}

/** Run to completion. */
function run(file, args, opts) {
  return start(file, args, opts).done;
}

module.exports = { start, run, freePort, FIXTURES, ROOT };

/**
 * Send a command to a fixtures/supervised.js primary and wait for its result.
 */
function command(p, c, ms = 30000) {
  const mine = (e) => e.ev === 'result' && e.do === c.do;
  const n = p.events.filter(mine).length;
  p.child.stdin.write(`${JSON.stringify(c)}\n`);
  return p.waitFor((e) => mine(e) && p.events.filter(mine).indexOf(e) === n, ms);
}

/** Start fixtures/supervised.js with `options` and `workers`, waiting until that many distinct workers listen. */
async function supervised(options, workers, opts) {
  const port = await freePort();
  const p = start('supervised.js', [JSON.stringify(options), String(workers), String(port)], opts);
  p.port = port;
  // A predicate without side effects: waitFor() runs it over every event
  // received so far each time more output arrives.
  const listened = (upTo) => new Set(upTo.filter((e) => e.ev === 'listening').map((e) => e.id)).size;
  await p.waitFor((e, i, all) => e.ev === 'listening' && listened(all.slice(0, i + 1)) >= workers);
  return p;
}

module.exports.command = command;
module.exports.supervised = supervised;
