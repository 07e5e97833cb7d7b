'use strict';
// Runs a policies scenario (fixtures/primary.js) under rust-cluster and
// returns its findings by kind.
const path = require('node:path');
const assert = require('node:assert/strict');
const { runScenario, assertClean, describeRun } = require('../helpers/harness');

const PRIMARY = path.join(__dirname, 'fixtures', 'primary.js');

async function scenario(name, env = {}, opts = {}) {
  const r = await runScenario(PRIMARY, { impl: 'rust', env: { SCENARIO: name, ...env }, timeout: 60000, ...opts });
  const err = r.events.find((e) => e.ev === 'error');
  assert.equal(err, undefined, `${err && err.message}\n${describeRun(r)}`);
  assertClean(r);
  assert.ok(r.events.some((e) => e.ev === 'done'), describeRun(r));
  const found = {};
  for (const e of r.events) (found[e.ev] ||= []).push(e);
  // Nobody saw a message meant for someone else.
  assert.deepEqual(found.unexpected[0].messages, [], describeRun(r));
  found.run = r;
  return found;
}

module.exports = { scenario, describeRun };
