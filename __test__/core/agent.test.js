'use strict';
// A worker pays for what its agent loads at start-up (each file ~0.3 ms of
// CPU on a Node boot of ~20 ms), so the agent loads its parts when first
// needed (lib/agent/index.js).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { run, both } = require('./run');

test('a worker loads the agent\'s parts when it first needs them', async () => {
  const r = await run('agent-loading.js', 'rust');
  assert.equal(r.code, 0, r.stderr);
  const at = Object.fromEntries(r.events.map((e) => [e.at, e.loaded]));
  assert.deepEqual(at.start, ['index.js', 'lib/agent/index.js', 'lib/contract.json']);
  // The first message loads the sender (and says hello); the encoders come
  // with the first message the agent writes itself, after the answer.
  assert.deepEqual(at['first message'], ['index.js', 'lib/agent/index.js', 'lib/agent/sender.js', 'lib/contract.json']);
  for (const file of ['lib/serialization.js', 'lib/v8_subset.js', 'lib/json_subset.js']) {
    assert.ok(at['second message'].includes(file), `${file} after the agent wrote a message`);
  }
  for (const file of ['lib/agent/drain.js', 'lib/agent/conn_channel.js']) {
    assert.ok(!at['second message'].includes(file), `${file} before any server`);
    assert.ok(at.listening.includes(file), `${file} with the first server`);
  }
});

test('code that wraps process._send and cluster._getServer first still works, as under node:cluster', async () => {
  const { node, rust } = await both('agent-wrapped.js');
  assert.equal(rust.code, 0, rust.stderr);
  assert.equal(node.code, 0, node.stderr);
  const port = (events) => events.map((e) => (e.message && e.message.listening ? { ...e, message: { listening: 'port' } } : e));
  assert.deepEqual(port(rust.events), port(node.events));
  assert.equal(rust.events.filter((e) => e.ev === 'message').length, 8);
});

test('a worker that never stops sending still gets the agent\'s writes once Node\'s queued ones are out', async () => {
  const r = await run('agent-takeover.js', 'rust', { args: ['flow'] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.events.filter((e) => e.ev === 'order'), []);
  const done = r.events.find((e) => e.ev === 'message' && e.message.done);
  assert.ok(done, r.stdout);
  // Node's writes were queued when the primary answered; since then every
  // echo was answered at once, so Node's queue never emptied by itself.
  assert.equal(done.message.nodeWritesInLast100, 0, r.stderr);
  assert.deepEqual(r.events.at(-2), { ev: 'flood', received: 400 });
});

for (const when of ['now', 'tick']) {
  test(`messages and a socket sent while Node's writes are still queued arrive in order, as under node:cluster (${when})`, async () => {
    const { node, rust } = await both('agent-takeover.js', { args: ['handle', when] });
    assert.equal(node.code, 0, node.stderr);
    assert.equal(rust.code, 0, rust.stderr);
    assert.deepEqual(rust.events, node.events);
    assert.deepEqual(rust.events.map((e) => e.tag ?? e.message?.tag ?? e.ev),
      ['a', 'b', 'socket', 'c', 'd', 'flood', 'exit']);
  });
}

// lib/agent/heap.js. Without it the worker's heap is given back to the
// kernel after every young-space GC and faulted back in: 7-31 minor faults
// per round trip on Node 20 and 22, 1.2-4.2 on Node 24; with it 0.07-0.9
// (node:cluster's worker: 0.5-2.2). Page faults are counted, not timed.
test('a worker that echoes 64 KiB messages does not fault its heap back in after every GC', { skip: process.platform !== 'linux' && 'counts /proc faults' }, async () => {
  const r = await run('large-echo.js', 'rust');
  assert.equal(r.code, 0, r.stderr);
  const done = r.events.find((e) => e.ev === 'done');
  assert.ok(done, r.stdout);
  assert.ok(done.faultsPerRoundTrip < 2, `${done.faultsPerRoundTrip} minor faults per round trip`);
});
