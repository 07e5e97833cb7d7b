'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');
const { setTimeout: delay } = require('node:timers/promises');
const { run, both, ROOT } = require('../core/run');
const { fixtureEnv } = require('../helpers/impl');

test('a hung worker (handoffTimeout) is killed and no request waits on it', { timeout: 90000 }, async () => {
  const r = await run('../../faults/fixtures/hung.js', 'rust', { timeout: 60000 });
  const done = r.events.find((e) => e.ev === 'done');
  const all = r.stdout + r.stderr;
  assert.ok(done, all);
  assert.deepEqual({ ok: done.ok, failed: done.failed }, { ok: 20, failed: 0 }, all);
  assert.ok(r.events.some((e) => e.ev === 'hung exit' && e.signal === 'SIGKILL'), all);
  // Only the hung worker was found unresponsive; the good one left by kill().
  assert.equal(r.events.filter((e) => e.ev === 'warning' && e.code === 'RUST_CLUSTER_UNRESPONSIVE_WORKER').length, 1, all);
  assert.deepEqual(r.events.filter((e) => e.ev === 'good exit'), [{ ev: 'good exit', code: null, signal: 'SIGTERM' }], all);
});

// Running, and not a zombie (an exited worker whose parent is gone may stay
// unreaped when nothing reaps orphans, as in some containers).
function alive(pid) {
  try {
    return !/^State:\s+Z/m.test(require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

test('when the primary is SIGKILLed, every worker goes', async () => {
  const { env, report } = fixtureEnv({ CLUSTER_MODULE: ROOT });
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'primary-killed.js')], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let giveUp;
  const ready = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.on('exit', () => reject(new Error('primary exited early')));
    giveUp = setTimeout(() => reject(new Error('workers never listened')), 30000);
  }).finally(() => clearTimeout(giveUp));
  assert.equal(ready.pids.length, 3);
  assert.equal(ready.pids.every(alive), true);
  child.kill('SIGKILL');
  await once(child, 'exit');
  report(); // a SIGKILLed primary writes none; remove the file
  // Poll: how soon they go is the machine's business, that they go is ours.
  let survivors = ready.pids.filter(alive);
  for (const until = Date.now() + 30000; survivors.length && Date.now() < until;) {
    await delay(50);
    survivors = survivors.filter(alive);
  }
  for (const pid of survivors) process.kill(pid, 'SIGKILL');
  assert.deepEqual(survivors, [], 'workers still running 30 s after their primary was SIGKILLed');
});

test('workers hold the same descriptors under node:cluster and rust-cluster', async () => {
  const { node, rust } = await both('../../faults/fixtures/fds.js');
  const lists = (r) => r.events.find((e) => e.ev === 'fds').lists;
  assert.equal(rust.code, 0, rust.stderr);
  // These workers load rust-cluster and listen round robin, so each has one
  // descriptor more: its connection channel, a Unix socket. Otherwise they
  // see the same kinds of descriptor at the same numbers.
  const expected = lists(node)[0];
  for (const list of lists(rust)) {
    const extra = list.filter((fd) => !expected.includes(fd));
    assert.equal(extra.length, 1, `${list} against ${expected}`);
    assert.match(extra[0], /^\d+:socket:\[\]$/);
    assert.deepEqual(list.filter((fd) => fd !== extra[0]), expected);
  }
  // Without the connection channel, exactly Node's.
  const plain = await run('../../faults/fixtures/fds.js', 'rust', { env: { RUST_CLUSTER_CONN_CHANNEL: '0' } });
  for (const list of lists(plain)) assert.deepEqual(list, expected);
});
