'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { both, perWorker } = require('./run');

test('setupPrimary/setupMaster, settings, setup event, silent, stdio, cwd and env match node:cluster', async () => {
  const { node, rust } = await both('settings.js', { env: { FROM_PARENT: 'inherited' } });
  assert.equal(rust.code, 0, rust.stderr);
  const byLabel = (events) => perWorker(events.map((e) => ({ ...e, id: e.label })));
  assert.deepEqual(byLabel(rust.events), byLabel(node.events));
  const a = rust.events.find((e) => e.ev === 'report' && e.label === 'a').m;
  assert.deepEqual(a.args, ['first']);
  assert.equal(a.extra, 'one');
  assert.equal(a.inherited, 'inherited');
  assert.equal(a.uniqueId, undefined);
  assert.equal(rust.events.find((e) => e.ev === 'exit' && e.label === 'a').stdout, 'stdout of first\n');
});
