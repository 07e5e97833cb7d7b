'use strict';
// Type tests for index.d.ts: runs the TypeScript compiler over the programs
// under __test__/types/ (see the tsconfig*.json files there).
//
//  - The compat/ programs are written against @types/node's `cluster` types;
//    they must type-check against ours under "module": "commonjs" (with and
//    without esModuleInterop) and "module": "nodenext", and also against
//    @types/node itself (the reference configs), which proves they are
//    valid @types/node programs in the first place.
//  - named/ and esm/ use what only our declarations offer (named value
//    imports, augmentation) and must type-check too.
//  - fail/ must be rejected, with errors on exactly the lines marked
//    `// expect-error`, by ours and by @types/node alike.
//
// Needs the devDependencies typescript and @types/node (npm install): every
// test fails without them, rather than being skipped.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const typesDir = path.join(__dirname, 'types');

function resolveFromRoot(id) {
  try {
    return require.resolve(id, { paths: [root] });
  } catch {
    return null;
  }
}

const tsc = resolveFromRoot('typescript/bin/tsc');
const typesNode = resolveFromRoot('@types/node/package.json');
let notInstalled = null;
if (!tsc) notInstalled = 'the devDependency typescript is not installed: run npm install';
else if (!typesNode) notInstalled = 'the devDependency @types/node is not installed: run npm install';

// Runs tsc on one config; resolves to { code, output }. At most two at a
// time: each takes a few seconds of CPU.
let running = 0;
const queue = [];
function runTsc(config) {
  return new Promise((resolve) => {
    const start = () => {
      running++;
      const child = spawn(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', path.join(typesDir, config)], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (code, signal) => {
        running--;
        if (queue.length) queue.shift()();
        resolve({ code, signal, output });
      });
    };
    if (running < 2) start();
    else queue.push(start);
  });
}

// Errors in tsc's --pretty false output, as a set of "file:line" keys
// (file relative to __test__/types, with forward slashes).
function errorLines(output) {
  const lines = new Set();
  for (const m of output.matchAll(/^(.+?)\((\d+),\d+\): error TS\d+:/gm)) {
    const file = path.relative(typesDir, path.resolve(root, m[1])).split(path.sep).join('/');
    lines.add(`${file}:${m[2]}`);
  }
  return lines;
}

// The lines of fail/*.ts marked `// expect-error`, in the same form.
function expectedErrorLines() {
  const lines = new Set();
  for (const name of fs.readdirSync(path.join(typesDir, 'fail')).sort()) {
    if (!name.endsWith('.ts')) continue;
    const text = fs.readFileSync(path.join(typesDir, 'fail', name), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (/\/\/ expect-error\b/.test(line)) lines.add(`fail/${name}:${i + 1}`);
    });
  }
  return lines;
}

const passing = {
  'tsconfig.json': 'module commonjs + esModuleInterop (also checks index.d.ts itself)',
  'tsconfig.nointerop.json': 'module commonjs without esModuleInterop',
  'tsconfig.nodenext.json': 'module nodenext, CommonJS and ES module importers',
  'tsconfig.reference.json': 'compat/ corpus against @types/node (commonjs)',
  'tsconfig.reference-nodenext.json': 'compat/ corpus against @types/node (nodenext)',
};
const failing = {
  'tsconfig.fail.json': 'fail/ corpus is rejected by index.d.ts',
  'tsconfig.fail-reference.json': 'fail/ corpus is rejected by @types/node on the same lines',
};

// Start every run up front so they overlap; each test awaits its own.
const runs = {};
if (!notInstalled) {
  for (const config of [...Object.keys(passing), ...Object.keys(failing)]) runs[config] = runTsc(config);
}

for (const [config, what] of Object.entries(passing)) {
  test(`types: ${what} (${config})`, { timeout: 180_000 }, async () => {
    assert.strictEqual(notInstalled, null, notInstalled);
    const { code, signal, output } = await runs[config];
    assert.strictEqual(code, 0, `tsc -p __test__/types/${config} failed (code ${code}, signal ${signal}):\n${output}`);
  });
}

for (const [config, what] of Object.entries(failing)) {
  test(`types: ${what} (${config})`, { timeout: 180_000 }, async () => {
    assert.strictEqual(notInstalled, null, notInstalled);
    const { code, signal, output } = await runs[config];
    assert.notStrictEqual(code, 0, `tsc -p __test__/types/${config} accepted programs that must not type-check`);
    assert.strictEqual(signal, null, `tsc was killed by ${signal}:\n${output}`);
    assert.match(output, /error TS\d+/, `tsc failed without type errors:\n${output}`);
    const expected = expectedErrorLines();
    assert.ok(expected.size > 10, 'the fail/ corpus marks its lines with // expect-error');
    const actual = errorLines(output);
    const missing = [...expected].filter((l) => !actual.has(l));
    const unexpected = [...actual].filter((l) => !expected.has(l));
    assert.deepStrictEqual(
      { missing, unexpected },
      { missing: [], unexpected: [] },
      `lines marked expect-error that type-check (missing) / errors on other lines (unexpected):\n${output}`,
    );
  });
}
