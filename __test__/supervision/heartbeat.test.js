'use strict';
// Heartbeat: a worker whose event loop is blocked is killed and replaced;
// a worker over maxRss is replaced like in a reload.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { supervised, command } = require('./helpers');

function get(port) {
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function waitAgents(p, n) {
  // The agents have answered once the stats say so.
  for (;;) {
    const { value } = await command(p, { do: 'stats' });
    if (value.workers.filter((w) => w.agent).length >= n) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Heartbeat timeouts far above what a healthy worker's event loop stalls
// for on a loaded machine: only the blocked worker may be found hung.
test('heartbeat: a worker with a blocked event loop is killed and replaced', async () => {
  const p = await supervised({ heartbeat: { interval: 100, timeout: 5000 }, shutdown: { timeout: 3000 } }, 2);
  try {
    await waitAgents(p, 2);
    await command(p, { do: 'send', id: 1, msg: 'block' });
    const hang = await p.waitFor((e) => e.ev === 'hang');
    assert.equal(hang.id, 1);
    assert.deepEqual(p.events.filter((e) => e.ev === 'hang').map((e) => e.id), [1], 'only the blocked worker hangs');
    assert.deepEqual(await p.waitFor((e) => e.ev === 'replace'), { ev: 'replace', id: 3, old: 1, reason: 'hang' });
    assert.deepEqual(await p.waitFor((e) => e.ev === 'exit' && e.id === 1), { ev: 'exit', id: 1, code: null, signal: 'SIGKILL' });
    await p.waitFor((e) => e.ev === 'listening' && e.id === 3);
    const { value } = await command(p, { do: 'stats' });
    assert.deepEqual(value.workers.map((w) => [w.id, w.restarts]), [[2, 0], [3, 1]]);
    assert.equal(value.totals.hangs, 1);
    // Both serve (round robin).
    const ids = new Set();
    for (let i = 0; i < 4; i++) ids.add(await get(p.port));
    assert.deepEqual([...ids].sort(), ['2', '3']);
  } finally {
    process.kill(p.child.pid, 'SIGTERM');
  }
  const r = await p.done;
  assert.equal(r.code, 0, r.stderr);
});

test('memory recycle: a worker over maxRss is replaced and drained', async () => {
  const p = await supervised({ maxRss: 200 * 1024 * 1024, heartbeat: { interval: 100, timeout: 5000 }, shutdown: { timeout: 3000 } }, 2);
  try {
    const before = await waitAgents(p, 2);
    assert.ok(before.workers.every((w) => w.rss < 200 * 1024 * 1024), 'workers start below maxRss');
    await command(p, { do: 'send', id: 2, msg: { alloc: 250 } });
    const memory = await p.waitFor((e) => e.ev === 'memory');
    assert.equal(memory.id, 2);
    assert.ok(memory.rss > 200 * 1024 * 1024);
    assert.deepEqual(await p.waitFor((e) => e.ev === 'replace'), { ev: 'replace', id: 3, old: 2, reason: 'memory' });
    // Drained, not killed.
    assert.deepEqual(p.events.filter((e) => e.ev === 'exit'), [{ ev: 'exit', id: 2, code: 0, signal: null }]);
    const { value } = await command(p, { do: 'stats' });
    assert.deepEqual(value.workers.map((w) => w.id), [1, 3]);
    assert.equal(value.totals.recycles, 1);
  } finally {
    process.kill(p.child.pid, 'SIGTERM');
  }
  const r = await p.done;
  assert.equal(r.code, 0, r.stderr);
});
