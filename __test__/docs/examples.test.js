'use strict';
// Every code example of the node:cluster documentation (v21, and the v25
// one that differs, as printed and corrected), as a runnable fixture
// (fixtures/docs-*), run under node:cluster and rust-cluster; what the
// example prints (stdout, and stderr where the example writes there) and
// what the driver observes must be the same. Pids and ports are replaced by names; lines that different
// processes print are compared as a sorted list unless the order is fixed.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { compareImpls, FIXTURES, sortByJSON, CONCURRENCY } = require('../helpers/harness');

function normalizer({ ordered = false, anyWorker = false, stderr = null } = {}) {
  return (r) => {
    const names = new Map();
    for (const e of r.events) {
      if (e.ev === 'pid') names.set(String(e.pid), anyWorker && e.label.startsWith('WORKER') ? 'WORKER_PID' : e.label);
      if (e.ev === 'port') names.set(String(e.port), 'PORT');
    }
    const sub = (s) => s.replace(/\d+/g, (m) => names.get(m) || m);
    let text = r.stdout.split('\n').filter(Boolean).map(sub);
    // A timer prints numReqs every second: how many lines appear before the
    // last one is timing; compare the last one (checked for the rest).
    const numReqs = text.filter((l) => l.startsWith('numReqs = '));
    if (numReqs.length) text = [...text.filter((l) => !l.startsWith('numReqs = ')), numReqs.at(-1)];
    if (!ordered) text = text.sort();
    const walk = (v) => {
      if (typeof v === 'string') return sub(v);
      if (typeof v === 'number') return names.get(String(v)) || v;
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    const events = r.events.filter((e) => e.ev !== 'pid').map(walk);
    // Driver events of different workers interleave freely (checks assert
    // the order where it is fixed).
    const out = { text, events: ordered ? events : sortByJSON(events) };
    if (stderr) out.stderr = r.stderr.split('\n').filter((l) => stderr.test(l)).map(sub);
    return out;
  };
}

function textOf(r, opts) {
  return normalizer(opts)(r).text;
}

// The 'message' example: workers notify the primary of each request it
// counts; the driver makes 3 requests and ends at "numReqs = 3".
function checkNumReqs(r) {
  const values = r.stdout.split('\n').filter((l) => l.startsWith('numReqs = ')).map((l) => Number(l.slice(10)));
  assert.ok(values.length >= 1);
  assert.equal(values.at(-1), 3);
  assert.deepEqual([...values].sort((a, b) => a - b), values, 'numReqs never decreases');
  assert.equal(r.events.filter((e) => e.ev === 'response' && e.body === 'hello world\n').length, 3);
}

const FORK_ERROR = /^Something must be wrong/;
const cases = [
  {
    fixture: 'docs-intro.js',
    check: (r) => {
      const n = normalizer({ ordered: true })(r);
      assert.equal(n.text[0], 'Primary PRIMARY_PID is running');
      assert.deepEqual(textOf(r), ['Primary PRIMARY_PID is running', 'Worker WORKER1_PID started', 'Worker WORKER2_PID started',
        'worker WORKER1_PID died', 'worker WORKER2_PID died']);
      assert.deepEqual(n.events.filter((e) => e.ev === 'response').map((e) => e.body), ['hello world\n', 'hello world\n']);
    },
  },
  { fixture: 'docs-worker-event-disconnect.js', expect: ['Worker has disconnected'] },
  { fixture: 'docs-worker-event-exit.js', expect: ['worker success!'] },
  { fixture: 'docs-worker-event-exit.js', env: { DOC_VARIANT: 'code' }, expect: ['worker exited with error code: 3'] },
  { fixture: 'docs-worker-event-exit.js', env: { DOC_VARIANT: 'signal' }, expect: ['worker was killed by signal: SIGTERM'] },
  { fixture: 'docs-worker-event-listening.js', expect: ['Worker is listening { addressType: 4, address: null, port: PORT, fd: undefined }'] },
  { fixture: 'docs-worker-event-online.js', expect: ['Worker is online'] },
  { fixture: 'docs-worker-event-message.js', check: (r) => checkNumReqs(r) },
  {
    fixture: 'docs-worker-disconnect.js',
    check: (r) => assert.deepEqual(r.events, [
      { ev: 'worker-got', msg: 'shutdown' },
      { ev: 'disconnect', id: 1, eAD: true },
      { ev: 'exit', id: 1, code: 0, signal: null, eAD: true },
    ]),
  },
  { fixture: 'docs-worker-exitedafterdisconnect.js', expect: [] },
  { fixture: 'docs-worker-exitedafterdisconnect.js', env: { DOC_VARIANT: 'disconnect' }, expect: ['Oh, it was just voluntary – no need to worry'] },
  {
    fixture: 'docs-worker-isdead.js',
    opts: { ordered: true, anyWorker: true },
    check: (r) => {
      assert.deepEqual(textOf(r, { ordered: true }), ['Primary PRIMARY_PID is running', 'worker is dead: false', 'worker is dead: false',
        'worker is dead: true', 'worker is dead: true']);
      assert.deepEqual(normalizer({ anyWorker: true })(r).events.map((e) => e.body),
        ['Current process\n WORKER_PID', 'Current process\n WORKER_PID']);
    },
  },
  { fixture: 'docs-worker-send.js', check: (r) => assert.deepEqual(r.events[0], { ev: 'echoed', id: 1, msg: 'hi there' }) },
  { fixture: 'docs-event-disconnect.js', expect: ['The worker #1 has disconnected', 'The worker #2 has disconnected'] },
  { fixture: 'docs-event-exit.js', expect: ['worker WORKER1_PID died (SIGTERM). restarting...'] },
  { fixture: 'docs-event-exit.js', env: { DOC_VARIANT: 'code' }, expect: ['worker WORKER1_PID died (1). restarting...'] },
  {
    fixture: 'docs-event-fork.js',
    opts: { stderr: FORK_ERROR },
    check: (r) => assert.equal(r.stderr.split('\n').filter((l) => FORK_ERROR.test(l)).length, 1),
  },
  {
    fixture: 'docs-event-fork.js',
    env: { DOC_VARIANT: 'no-listen' },
    opts: { stderr: FORK_ERROR },
    check: (r) => assert.equal(r.stderr.split('\n').filter((l) => FORK_ERROR.test(l)).length, 2),
  },
  { fixture: 'docs-event-listening.js', expect: ['A worker is now connected to null:PORT', 'A worker is now connected to null:PORT'] },
  { fixture: 'docs-event-listening.js', env: { DOC_VARIANT: 'host' }, expect: ['A worker is now connected to 127.0.0.1:PORT', 'A worker is now connected to 127.0.0.1:PORT'] },
  { fixture: 'docs-event-online.js', expect: ['Yay, the worker responded after it was forked', 'Yay, the worker responded after it was forked'] },
  {
    fixture: 'docs-setupprimary.js',
    cwd: path.join(FIXTURES, 'docs-setupprimary-cwd'),
    check: (r) => {
      assert.deepEqual(textOf(r), []);
      const closed = r.events.filter((e) => e.ev === 'worker-closed').sort((a, b) => a.id - b.id);
      assert.deepEqual(closed.map((e) => [e.id, e.code, e.stdout, e.stderr]), [
        [1, 0, 'worker.js: worker #1 args ["--use","https"]\n', 'worker.js: worker #1 stderr\n'],
        [2, 0, 'worker.js: worker #2 args ["--use","http"]\n', 'worker.js: worker #2 stderr\n'],
      ]);
      assert.equal(r.events.filter((e) => e.ev === 'setup').length, 4);
    },
  },
  { fixture: 'docs-cluster-worker.js', expect: ['I am primary', 'I am worker #1', 'I am worker #2'] },
  { fixture: 'docs-cluster-workers.js', expect: ['worker #1 got: big announcement to all workers', 'worker #2 got: big announcement to all workers'] },
  // v25's CommonJS version as printed dies before any fork (it never
  // defines numCPUs); the same program with that line added runs.
  {
    fixture: 'docs-v25-event-message-cjs.js',
    code: 1,
    opts: { stderr: /numCPUs/ },
    check: (r) => {
      assert.match(r.stderr, /ReferenceError: numCPUs is not defined/);
      assert.equal(r.rawStdout, '', 'nothing ran after the throw');
    },
  },
  { fixture: 'docs-v25-event-message-cjs-fixed.js', check: (r) => checkNumReqs(r) },
];

// The ES module versions of the examples that have one.
for (const c of [...cases]) {
  const mjs = c.fixture.replace(/\.js$/, '.mjs');
  if (['docs-intro.js', 'docs-worker-event-exit.js', 'docs-worker-event-message.js', 'docs-worker-isdead.js',
    'docs-setupprimary.js', 'docs-cluster-worker.js', 'docs-cluster-workers.js'].includes(c.fixture)) {
    cases.push({ ...c, fixture: mjs });
  }
}

// Rows that compare messages in order are run in a fixed order; the
// others' worker lines are sorted by normalizer().
describe('docs/examples', { concurrency: CONCURRENCY }, () => {
  for (const c of cases) {
    const variant = c.env && c.env.DOC_VARIANT ? ` (${c.env.DOC_VARIANT})` : '';
    test(`docs example ${c.fixture}${variant}`, { timeout: 60000 }, async (t) => {
      const check = (r) => {
        if (c.expect) assert.deepEqual(textOf(r), [...c.expect].sort());
        if (c.check) c.check(r);
      };
      await compareImpls(t, c.fixture, { env: c.env, cwd: c.cwd, code: c.code, check }, normalizer(c.opts));
    });
  }
});
