'use strict';
// readySignal: workers that never listen are up when they send 'ready',
// for the CLI's status lines, /readyz, scale and reload.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { FIXTURES, runtimeDir, startProcess, CLI, cli, get, until } = require('./helpers');

test('--ready-signal: up at process.send(\'ready\'); /readyz, scale and reload wait for it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-ready-'));
  const go = path.join(dir, 'GO');
  const env = { XDG_RUNTIME_DIR: runtimeDir(), GO_FILE: go };
  const p = startProcess([CLI, '-w', '2', '--ready-signal', '--stats-port', '0', '--name', 'consumer',
    path.join(FIXTURES, 'consumer.js')], { env });
  t.after(() => p.kill());
  const m = await p.waitErr(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
  const stats = Number(m[1]);
  const status = async () => JSON.parse((await cli(['status', '--json', '--name', 'consumer'], { env })).stdout);
  await until(async () => (await status()).workers.filter((w) => w.state === 'online').length === 2, 30000, 'two workers online');
  assert.deepEqual(await get(stats, '/readyz'), { status: 503, body: 'not ready: no worker serves\n' });
  assert.doesNotMatch(p.stderr(), /up \(ready\)/);

  fs.writeFileSync(go, '');
  await p.waitErr(/(up \(ready\)[^]*){2}/);
  assert.deepEqual(await get(stats, '/readyz'), { status: 200, body: 'ready: 2 workers serve\n' });
  assert.deepEqual((await status()).workers.map((w) => w.ready), [true, true]);

  const scaled = await cli(['scale', '3', '--name', 'consumer'], { env });
  assert.equal(scaled.stdout, '3 workers serving\n', scaled.stderr);

  // A reload waits for each replacement's 'ready', not for 'online'.
  fs.unlinkSync(go);
  const reload = cli(['reload', '--name', 'consumer'], { env });
  const s = await until(async () => {
    const v = await status();
    return v.workers.some((w) => w.id === 4 && w.state === 'online') && v;
  }, 30000, 'the first replacement online');
  assert.deepEqual(s.workers.filter((w) => w.id <= 3).map((w) => w.state), ['online', 'online', 'online'],
    'no old worker is drained before its replacement is ready');
  assert.equal(s.workers.find((w) => w.id === 4).ready, false);
  fs.writeFileSync(go, '');
  const r = await reload;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /reloaded: 3 replaced/);
  p.child.kill('SIGTERM');
  assert.equal((await p.closed).code, 0);
  fs.rmSync(dir, { recursive: true, force: true });
});
