'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { run, both } = require('../core/run');

const FIXTURE = '../../faults/fixtures/garbage.js';
const CUT_OFF = ['invalid-json', 'endless-line', 'fd-flood', 'invalid-v8', 'header-4gb'];

// node:cluster's own primary does not survive these (a JSON.parse error in
// its channel reader, say), so rust-cluster is checked on its own.
for (const fault of CUT_OFF) {
  test(`a worker writing garbage (${fault}) is cut off; the primary and other workers go on`, async () => {
    const r = await run(FIXTURE, 'rust', { env: { FAULT: fault } });
    const evs = r.events.map((e) => e.ev);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.events.some((e) => e.ev === 'bad error' && e.code === 'ERR_IPC_CHANNEL_PROTOCOL'), evs.join());
    assert.ok(evs.includes('bad disconnected'), evs.join());
    // Its channel ended, the worker's Node exits by itself (nothing kills it).
    assert.deepEqual(r.events.filter((e) => e.ev === 'bad exit'), [{ ev: 'bad exit', code: 0, signal: null }]);
    assert.ok(r.events.some((e) => e.ev === 'good serves' && e.body === 'ok'), evs.join());
    assert.ok(evs.includes('primary alive at end'));
  });
}

// A NODE_HANDLE message with no descriptor is not garbage to a primary: it
// answers NODE_HANDLE_NACK ("send it again"), node:cluster's as ours. The
// worker, which never sent a handle, has no queue of handles to resend, and
// its own Node dies on an internal assertion (child_process's
// assert(ArrayIsArray(target._handleQueue))). So nobody cuts it off: it
// crashes itself, exit code 1, with no 'error' on the primary's side.
test('a worker sending NODE_HANDLE without a descriptor is NACKed and crashes on it, as under node:cluster', async () => {
  const { node, rust } = await both(FIXTURE, { env: { FAULT: 'handle-without-fd' } });
  // 'bad exit' may come before or after the others (exit vs disconnect).
  const seen = (r) => r.events.map(({ rssMiB, ...e }) => JSON.stringify(e)).sort();
  const expected = [
    { ev: 'bad disconnected' },
    { ev: 'bad exit', code: 1, signal: null },
    { ev: 'good serves', body: 'ok' },
    { ev: 'primary alive at end' },
  ].map((e) => JSON.stringify(e)).sort();
  for (const r of [node, rust]) {
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen(r), expected, `${r.ran.rustPrimary ? 'rust-cluster' : 'node:cluster'}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /ERR_INTERNAL_ASSERTION[\s\S]*node:internal\/child_process/, 'the worker died of the NACK');
  }
});
