'use strict';
// Round robin where the workers accept for themselves (src/accept_share.rs):
// at a high rate of new connections, workers that load rust-cluster take
// them from the listening socket, kept even by counters they share; below
// it the primary accepts again. RUST_CLUSTER_SHARE_AT=1 makes any rate high.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { scenario } = require('./run');

const ratio = (tally) => Math.max(...Object.values(tally)) / Math.min(...Object.values(tally));
const total = (tally) => Object.values(tally).reduce((a, b) => a + b, 0);

test('workers accept for themselves under load: every connection answered, evenly, counted; their copies close when the load stops and with their server', async () => {
  const found = await scenario('share', { RUST_CLUSTER_SHARE_AT: '1', WORKERS: '3', CONNS: '3000' });
  const [load] = found.load;
  assert.equal(total(load.tally), 3000);
  assert.equal(Object.keys(load.tally).length, 3);
  assert.ok(ratio(load.tally) <= 1.1, JSON.stringify(load));
  assert.deepEqual(load.midway, [1, 2, 3], 'every worker held a copy of the listening socket at some point');
  assert.deepEqual(load.after, [], 'no copy left once the load stopped');
  // Exact even where a worker accepts just as the primary takes its slot
  // back: the worker counts with a compare-and-swap on its grant and gives
  // back what it could not count (src/accept_share.rs).
  assert.equal(load.handed, 3000, 'connectionStats() counts what the workers accepted');
  // The first worker closed its server: the other two serve, evenly.
  const [closed] = found.closed;
  assert.equal(total(closed.tally), 2000);
  assert.deepEqual(Object.keys(closed.tally).sort(), ['2', '3']);
  assert.ok(ratio(closed.tally) <= 1.1, JSON.stringify(closed));
  assert.deepEqual(closed.midway, [2, 3]);
  assert.deepEqual(closed.after, []);
});

test('a worker whose server refuses what it accepted (maxConnections) gives it back: another worker answers', async () => {
  const found = await scenario('share', { RUST_CLUSTER_SHARE_AT: '1', WORKERS: '2', CONNS: '1000', FULL_WORKER: '1' });
  const [load] = found.load;
  assert.deepEqual(load.tally, { 2: 1000 });
  assert.deepEqual(load.midway, [1, 2]);
});

test('RUST_CLUSTER_SHARE_AT=0: the primary accepts every connection, as node:cluster does', async () => {
  const found = await scenario('share', { RUST_CLUSTER_SHARE_AT: '0', WORKERS: '2', CONNS: '1000' });
  const [load] = found.load;
  assert.deepEqual(load.tally, { 1: 500, 2: 500 });
  assert.deepEqual(load.midway, []);
});

test('more workers than RUST_CLUSTER_FAST_PATH_WORKERS: the primary accepts for them all; once fewer serve, they share again', async () => {
  const found = await scenario('share', { RUST_CLUSTER_SHARE_AT: '1', RUST_CLUSTER_FAST_PATH_WORKERS: '2', WORKERS: '3', CONNS: '3000' });
  const [load] = found.load;
  assert.equal(total(load.tally), 3000);
  assert.equal(Object.keys(load.tally).length, 3);
  assert.ok(ratio(load.tally) <= 1.1, JSON.stringify(load));
  assert.deepEqual(load.midway, [], 'no worker held the listening socket');
  assert.equal(load.handed, 3000);
  const [closed] = found.closed;
  assert.equal(total(closed.tally), 2000);
  assert.deepEqual(closed.midway, [2, 3], 'the two left share the socket');
  assert.deepEqual(closed.after, []);
});

// Workers that do not load rust-cluster get Node's `newconn` messages; under
// load a few of them in flight at once (src/round_robin_handle.rs), answered
// in any order, refusals going to the others.
test('plain workers under load: every connection answered, evenly, counted; a worker that closes its server hands back what it held', async () => {
  const found = await scenario('share', { RUST_CLUSTER_SHARE_AT: '1', WORKERS: '3', CONNS: '3000', NO_AGENT: '1' });
  const [load] = found.load;
  assert.equal(total(load.tally), 3000);
  assert.equal(Object.keys(load.tally).length, 3);
  assert.ok(ratio(load.tally) <= 2, JSON.stringify(load));
  assert.deepEqual(load.midway, [], 'plain workers never hold the listening socket');
  assert.equal(load.handed, 3000);
  // Here no counters keep them even: as with node:cluster, a worker that
  // reads its channel faster gets more (max/min up to 1.33 on a loaded CI
  // machine; on a quiet one the bench's P6 gives 1.035-1.051). Checked here:
  // every worker serves a real share.
  const [closed] = found.closed;
  assert.equal(total(closed.tally), 2000);
  assert.deepEqual(Object.keys(closed.tally).sort(), ['2', '3']);
  assert.ok(ratio(closed.tally) <= 2, JSON.stringify(closed));
});
