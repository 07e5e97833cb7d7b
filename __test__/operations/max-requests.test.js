'use strict';
// maxRequests (+ jitter): a worker that has served that many connections is
// replaced like in a reload, counted by the agent, or by the primary's
// handed connections for workers without it.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { FIXTURES, runtimeDir, startProcess, startCli, cli, get, until } = require('./helpers');

test('CLI --max-requests 10 --max-requests-jitter 5: workers replaced after 10..15 connections, no request lost', async (t) => {
  const env = { XDG_RUNTIME_DIR: runtimeDir() };
  const p = await startCli(['-w', '2', '--max-requests', '10', '--max-requests-jitter', '5', '--name', 'maxreq'],
    path.join(FIXTURES, 'app.js'), ['0'], { env });
  t.after(() => p.kill());
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(p.stderr())[1]);
  const pids = new Set();
  let failed = 0;
  for (let i = 0; i < 80; i++) {
    try {
      pids.add((await get(port)).body);
    } catch {
      failed++;
    }
  }
  await until(() => (p.stderr().match(/started in place of worker \d+ \(maxRequests\)/g) || []).length >= 2, 30000,
    'two replacements');
  const served = [...p.stderr().matchAll(/served (\d+) connections: replacing it/g)].map((m) => Number(m[1]));
  console.log(`# maxRequests 10 + jitter 5: ${served.length} workers replaced after ${served.join(', ')} connections; ` +
    `${pids.size} processes served 80 requests, ${failed} failed`);
  assert.equal(failed, 0);
  for (const n of served) assert.ok(n >= 10 && n <= 15, `replaced after ${n}`);
  // The replacements serve.
  await until(async () => !pids.has((await get(port)).body), 30000, 'a new process to serve');
  const s = JSON.parse((await cli(['status', '--json'], { env })).stdout);
  assert.ok(s.totals.maxRequests >= 2);
  p.child.kill('SIGTERM');
  assert.equal((await p.closed).code, 0);
});

test('workers without the agent are recycled by the connections the primary handed them', async (t) => {
  const env = { XDG_RUNTIME_DIR: runtimeDir() };
  const p = startProcess([path.join(FIXTURES, 'noagent-primary.js'), JSON.stringify({ maxRequests: 5, shutdown: true }), '1'], { env });
  t.after(() => p.kill());
  const m = await p.waitOut(/"ev":"listening","id":1,"pid":\d+,"port":(\d+)/);
  const port = Number(m[1]);
  for (let i = 0; i < 6; i++) assert.equal((await get(port)).status, 200);
  const r = await p.waitOut(/"ev":"maxRequests","id":1,"served":(\d+)/);
  assert.ok(Number(r[1]) >= 5);
  await p.waitOut(/"ev":"replace","id":2,"old":1,"reason":"maxRequests"/);
  assert.equal((await get(port)).status, 200);
  p.child.kill('SIGTERM');
  assert.equal((await p.closed).code, 0);
});
