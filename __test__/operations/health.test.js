'use strict';
// /healthz and /readyz on the stats server, as a load balancer or
// Kubernetes probes them: ready while workers serve, 503 from the moment a
// shutdown begins (while workers still drain), healthy throughout.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { FIXTURES, runtimeDir, startCli, get, until } = require('./helpers');

test('/healthz 200 while the primary runs; /readyz 200 with workers serving, 503 during the drain', async (t) => {
  const env = { XDG_RUNTIME_DIR: runtimeDir(), SLOW_MS: '3000' };
  const p = await startCli(['-w', '2', '--stats-port', '0', '--shutdown-timeout', '20000'],
    path.join(FIXTURES, 'slow-app.js'), ['0'], { env });
  t.after(() => p.kill());
  const stats = Number(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(p.stderr())[1]);
  const app = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(p.stderr())[1]);

  assert.deepEqual(await get(stats, '/healthz'), { status: 200, body: 'ok\n' });
  assert.deepEqual(await get(stats, '/readyz'), { status: 200, body: 'ready: 2 workers serve\n' });
  assert.equal((await get(stats, '/nope')).status, 404);

  // A request in flight holds its worker during the shutdown.
  const slow = get(app, '/slow');
  const handed = async () => [...(await get(stats, '/metrics')).body
    .matchAll(/^rust_cluster_worker_connections_handed_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
  await until(async () => (await handed()) >= 1, 10000, 'the slow request to be handed to a worker');
  p.child.kill('SIGTERM');
  await p.waitErr(/SIGTERM: shutting down/);
  assert.deepEqual(await get(stats, '/readyz'), { status: 503, body: 'not ready: shutting down\n' });
  assert.deepEqual(await get(stats, '/healthz'), { status: 200, body: 'ok\n' });
  // The drain goes on: the in-flight request gets its answer.
  assert.deepEqual(await slow, { status: 200, body: 'slow' });
  assert.equal((await p.closed).code, 0);
});
