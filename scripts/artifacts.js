'use strict';
// `npm run artifacts`: copies the built binaries rust_cluster.<triple>.node
// (from the package root, where scripts/build.js puts them, or from --dir
// <dir>, searched recursively as CI artifact downloads are laid out) into
// npm/<triple>/ for every target in package.json napi.targets. Prints what it
// copied and what is missing; exits non-zero if it copied nothing.
const fs = require('node:fs');
const path = require('node:path');
const { bindingFileName } = require('../lib/platform');
const { triples } = require('./npm-dirs');

const root = path.join(__dirname, '..');
const i = process.argv.indexOf('--dir');
const from = i === -1 ? root : path.resolve(process.argv[i + 1]);

function find(dir, name, depth = 0) {
  const direct = path.join(dir, name);
  if (fs.existsSync(direct)) return direct;
  if (depth >= 3 || dir === root) return null;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const hit = find(path.join(dir, entry.name), name, depth + 1);
      if (hit) return hit;
    }
  }
  return null;
}

let copied = 0;
for (const triple of triples()) {
  const name = bindingFileName(triple);
  const src = find(from, name);
  const destDir = path.join(root, 'npm', triple);
  if (!src) {
    console.log(`artifacts: ${triple.padEnd(16)} missing (no ${name} in ${path.relative(process.cwd(), from) || '.'})`);
    continue;
  }
  if (!fs.existsSync(path.join(destDir, 'package.json'))) {
    console.error(`artifacts: npm/${triple}/package.json is missing; run node scripts/npm-dirs.js`);
    process.exit(1);
  }
  const dest = path.join(destDir, name);
  fs.copyFileSync(src, dest);
  copied++;
  console.log(`artifacts: ${triple.padEnd(16)} ${path.relative(root, src)} -> ${path.relative(root, dest)} ` +
    `(${fs.statSync(dest).size} bytes)`);
}
if (!copied) {
  console.error('artifacts: nothing copied; build first with `npm run build` (or scripts/build.js --target <triple>)');
  process.exit(1);
}
