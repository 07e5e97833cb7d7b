'use strict';
// What the CLI does for development and logs: --watch reloads on changes
// (debounced; not for node_modules or dot-folders), --prefix-logs and
// --timestamps prefix whole lines, never mixing two workers' lines.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { FIXTURES, runtimeDir, startCli } = require('./helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('--watch=DIR: a change reloads once (debounced), also in a new subdirectory; node_modules and dot-folders do not', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-watch-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(path.join(FIXTURES, 'app.js'), path.join(dir, 'app.js'));
  for (const d of ['node_modules/dep', '.git']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const env = { XDG_RUNTIME_DIR: runtimeDir() };
  const p = await startCli(['-w', '1', `--watch=${dir}`], path.join(dir, 'app.js'), ['0'], { env, workers: 1 });
  t.after(() => p.kill());
  await p.waitErr(/watching .* for changes/);
  const reloads = () => (p.stderr().match(/files changed: reloading/g) || []).length;

  fs.writeFileSync(path.join(dir, 'node_modules/dep/index.js'), '1');
  fs.writeFileSync(path.join(dir, '.git/HEAD'), '1');
  await sleep(1000);
  assert.equal(reloads(), 0, p.stderr());

  // Several writes in a row: one reload.
  for (let i = 0; i < 5; i++) {
    fs.appendFileSync(path.join(dir, 'app.js'), `// ${i}\n`);
    await sleep(20);
  }
  await p.waitErr(/reload done: 1 workers replaced/);
  await sleep(800);
  assert.equal(reloads(), 1, p.stderr());

  const mark = p.stderr().length;
  fs.mkdirSync(path.join(dir, 'lib'));
  await sleep(500);
  fs.writeFileSync(path.join(dir, 'lib', 'util.js'), '1');
  await p.waitErr(/reload done/, mark);
  p.child.kill('SIGTERM');
  assert.equal((await p.closed).code, 0);
});

test('--prefix-logs --timestamps: every line whole, prefixed with its worker id and an ISO time', async (t) => {
  const env = { XDG_RUNTIME_DIR: runtimeDir(), LINES: '150' };
  const p = await startCli(['-w', '2', '--prefix-logs', '--timestamps'], path.join(FIXTURES, 'chatty.js'), [], { env });
  t.after(() => p.kill());
  p.child.kill('SIGTERM');
  const { code, stdout, stderr } = await p.closed;
  assert.equal(code, 0);
  for (const [name, text] of [['out', stdout], ['err', stderr]]) {
    const lines = text.split('\n').filter((l) => !l.startsWith('[rust-cluster]'));
    assert.equal(lines.pop(), '', 'ends with a newline');
    const seen = { 1: [], 2: [] };
    for (const line of lines) {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) \[(\d)\] (out|err) of (\d) (line (\d+) (x+)|unfinished)$/.exec(line);
      assert.ok(m, `not a whole prefixed line: ${line.slice(0, 120)}`);
      assert.equal(m[3], name);
      assert.equal(m[2], m[4], 'the prefix names the worker that wrote the line');
      if (m[6] !== undefined) {
        assert.equal(m[7].length, 1000 + (Number(m[6]) % 7) * 300);
        seen[m[2]].push(Number(m[6]));
      } else {
        seen[m[2]].push('unfinished');
      }
    }
    const expected = [...Array.from({ length: 150 }, (_, i) => i), 'unfinished'];
    assert.deepEqual(seen, { 1: expected, 2: expected }, `${name}: every line once, in order`);
  }
});
