'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { run } = require('../core/run');

const FAULTS = ['invalid-json', 'endless-line', 'handle-without-fd', 'fd-flood', 'invalid-v8', 'header-4gb'];

for (const fault of FAULTS) {
  test(`a worker writing garbage (${fault}) is cut off; the primary and other workers go on`, async () => {
    const r = await run('../../faults/fixtures/garbage.js', 'rust', { env: { FAULT: fault } });
    const evs = r.events.map((e) => e.ev);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(evs.includes('bad disconnected'), evs.join());
    assert.ok(r.events.some((e) => e.ev === 'good serves' && e.body === 'ok'), evs.join());
    assert.ok(evs.includes('primary alive at end'));
    if (fault !== 'handle-without-fd') {
      assert.ok(r.events.some((e) => e.ev === 'bad error' && e.code === 'ERR_IPC_CHANNEL_PROTOCOL'), evs.join());
    }
  });
}
