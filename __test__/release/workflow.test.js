'use strict';
// What the release workflow relies on and cannot be run here: the workflow
// files pass actionlint (with shellcheck on their run: scripts; and the test
// set-up scripts pass shellcheck), the
// release's build matrix is package.json's napi.targets, and npm/ holds the
// platform packages @napi-rs/cli writes for them.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { actionlint } = require('../../scripts/tools');

const ROOT = path.resolve(__dirname, '../..');
const WORKFLOWS = path.join(ROOT, '.github', 'workflows');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('actionlint finds nothing in .github/workflows/', () => {
  const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(WORKFLOWS, f));
  assert.ok(files.some((f) => f.endsWith('release.yml')), 'release.yml is there');
  const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
  assert.equal(shellcheck.status, 0, 'shellcheck is on PATH (scripts/setup.sh installs it): actionlint runs it on run: scripts');
  const r = spawnSync(actionlint(), ['-no-color', ...files], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('scripts/setup.sh and .ci/run pass shellcheck', () => {
  const r = spawnSync('shellcheck', ['scripts/setup.sh', '.ci/run'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('the release builds and publishes exactly package.json napi.targets', () => {
  const text = fs.readFileSync(path.join(WORKFLOWS, 'release.yml'), 'utf8');
  const build = text.slice(text.indexOf('\n  build:'), text.indexOf('\n  test-'));
  const targets = [...build.matchAll(/^\s+target: ([\w-]+)$/gm)].map((m) => m[1]);
  assert.deepEqual(targets.sort(), [...pkg.napi.targets].sort());
});

test('npm/ is what `napi create-npm-dirs` writes for napi.targets', (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rust-cluster-npm-dirs-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(tmp, 'package.json'));
  const cli = path.join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'create-npm-dirs', '--cwd', tmp], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const tree = (dir) => Object.fromEntries(fs.readdirSync(dir, { recursive: true })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
  assert.deepEqual(tree(path.join(ROOT, 'npm')), tree(path.join(tmp, 'npm')),
    'npm/ is out of date: run `npx napi create-npm-dirs`');
});
