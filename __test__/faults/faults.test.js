'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { run, both, ROOT } = require('../core/run');

test('a hung worker (handoffTimeout) is killed and no request waits on it', async () => {
  const r = await run('../../faults/fixtures/hung.js', 'rust');
  const done = r.events.find((e) => e.ev === 'done');
  assert.ok(done, r.stdout + r.stderr);
  assert.deepEqual({ ok: done.ok, failed: done.failed }, { ok: 20, failed: 0 });
  assert.ok(r.events.some((e) => e.ev === 'hung exit' && e.signal === 'SIGKILL'));
  assert.ok(r.events.some((e) => e.ev === 'warning' && e.code === 'RUST_CLUSTER_UNRESPONSIVE_WORKER'));
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

test('when the primary is SIGKILLed, no worker is left running a second later', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'primary-killed.js')], {
    env: { ...process.env, CLUSTER_MODULE: ROOT },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.on('exit', () => reject(new Error('primary exited early')));
    setTimeout(() => reject(new Error('workers never listened')), 15000);
  });
  assert.equal(ready.pids.every(alive), true);
  child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  const survivors = ready.pids.filter(alive);
  for (const pid of survivors) process.kill(pid, 'SIGKILL');
  assert.deepEqual(survivors, []);
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
