'use strict';
// cluster.scale(n) and SIGTTIN/SIGTTOU.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { supervised, command } = require('./helpers');

test('scale(n) up and down; bad n is rejected with Node-style errors', async () => {
  const p = await supervised({ shutdown: { timeout: 3000 } }, 1);
  try {
    assert.equal((await command(p, { do: 'scale', n: 3 })).value, 3);
    // The new workers were listening when scale() resolved.
    assert.deepEqual(p.events.filter((e) => e.ev === 'listening').map((e) => e.id).sort(), [1, 2, 3]);
    assert.equal((await command(p, { do: 'scale', n: 1 })).value, 1);
    // The newest were drained; they left on their own.
    assert.deepEqual(p.events.filter((e) => e.ev === 'exit').map((e) => [e.id, e.code]).sort(), [[2, 0], [3, 0]]);
    const { value } = await command(p, { do: 'stats' });
    assert.deepEqual(value.workers.map((w) => w.id), [1]);
    assert.deepEqual(await command(p, { do: 'scale', n: -1 }), { ev: 'result', do: 'scale', error: 'The value of "n" is out of range. It must be an integer >= 0 and <= 1024. Received -1', code: 'ERR_OUT_OF_RANGE' });
    assert.equal((await command(p, { do: 'scale', n: '2' })).code, 'ERR_INVALID_ARG_TYPE');
  } finally {
    process.kill(p.child.pid, 'SIGTERM');
  }
  assert.equal((await p.done).code, 0);
});

test('SIGTTIN adds a worker, SIGTTOU removes one', async () => {
  const p = await supervised({ scaleSignals: true, shutdown: { timeout: 3000 } }, 1);
  try {
    process.kill(p.child.pid, 'SIGTTIN');
    await p.waitFor((e) => e.ev === 'listening' && e.id === 2);
    process.kill(p.child.pid, 'SIGTTOU');
    assert.deepEqual(await p.waitFor((e) => e.ev === 'exit'), { ev: 'exit', id: 2, code: 0, signal: null });
    const { value } = await command(p, { do: 'stats' });
    assert.deepEqual(value.workers.map((w) => w.id), [1]);
  } finally {
    process.kill(p.child.pid, 'SIGTERM');
  }
  assert.equal((await p.done).code, 0);
});
