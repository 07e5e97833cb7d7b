'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both, perWorker } = require('./run');

// The order of 'disconnect' and 'exit' for a worker that dies depends on
// which of the channel's EOF and SIGCHLD the primary sees first, in Node as
// in Rust; compare the set of events and the state each reports at 'exit'.
function normalize(events) {
  const byWorker = perWorker(events);
  for (const id of Object.keys(byWorker)) {
    byWorker[id] = byWorker[id].map((e) => (e.ev === 'exit'
      ? { ev: e.ev, way: e.way, code: e.code, signal: e.signal, eAD: e.eAD, dead: e.dead }
      : { ev: e.ev, way: e.way }))
      .sort((a, b) => a.ev.localeCompare(b.ev));
  }
  return byWorker;
}

test('kill(), disconnect(), exit codes, signals and exitedAfterDisconnect match node:cluster', async () => {
  const { node, rust } = await both('exits.js');
  assert.equal(node.code, 0, `node:cluster (the reference) failed:\n${node.stderr}`);
  assert.equal(rust.code, 0, rust.stderr);
  assert.deepEqual(normalize(rust.events), normalize(node.events));
  const exits = rust.events.filter((e) => e.ev === 'exit');
  assert.equal(exits.length, 7);
  assert.deepEqual(exits.find((e) => e.way === 'exit3').code, 3);
  assert.deepEqual(exits.find((e) => e.way === 'killSIGKILL').signal, 'SIGKILL');
  assert.equal(exits.find((e) => e.way === 'disconnect').eAD, true);
  assert.equal(exits.find((e) => e.way === 'kill').eAD, false);
});
