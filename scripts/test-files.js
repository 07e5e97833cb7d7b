'use strict';
// The test files under a directory, as `npm test` and `npm run test:matrix`
// run them: every *.test.js (.cjs, .mjs) outside fixtures/ and helpers/,
// relative to the package root, sorted.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

function testFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures' && entry.name !== 'helpers') out.push(...testFiles(full));
    } else if (/\.test\.(c|m)?js$/.test(entry.name)) {
      out.push(path.relative(root, full));
    }
  }
  return out.sort();
}

// Tests of the binaries and of the release (arm64 emulation, a local
// registry, actionlint), not of Node: they run once, on the host's Node,
// not again per Node version (scripts/test-matrix.js).
const NOT_PER_NODE = ['arm64', 'release'].map((d) => path.join('__test__', d) + path.sep);

/** testFiles() less those of NOT_PER_NODE. */
function perNodeFiles(dir) {
  return testFiles(dir).filter((f) => !NOT_PER_NODE.some((d) => f.startsWith(d)));
}

module.exports = { testFiles, perNodeFiles };

// `node scripts/test-files.js dir...`: the test files under each, one a line
// (for `node --test $(...)` in CI jobs that run part of the suite).
if (require.main === module) {
  for (const dir of process.argv.slice(2)) {
    for (const f of testFiles(path.resolve(root, dir))) console.log(f);
  }
}
