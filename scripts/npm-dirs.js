'use strict';
// Writes (or, with --check, verifies) the per-platform binary packages under
// npm/<triple>/: package.json and README.md, derived from the root
// package.json (version, license, engines, napi.targets) and lib/platform.js.
// The root package's optionalDependencies must list each of them at the same
// version; --check verifies that too. The .node files themselves are copied
// in by `npm run artifacts` (scripts/artifacts.js).
const fs = require('node:fs');
const path = require('node:path');
const { TARGETS, bindingFileName, packageName } = require('../lib/platform');

const root = path.join(__dirname, '..');
const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

// napi.targets holds Rust targets, as napi-rs does; map them to napi triples.
function triples() {
  const rust = (rootPkg.napi && rootPkg.napi.targets) || [];
  return rust.map((r) => {
    const t = Object.keys(TARGETS).find((k) => TARGETS[k].rust === r);
    if (!t) throw new Error(`package.json napi.targets: unknown Rust target ${r}`);
    return t;
  });
}

function manifest(triple) {
  const info = TARGETS[triple];
  const file = bindingFileName(triple);
  const pkg = {
    name: packageName(triple),
    version: rootPkg.version,
    description: `The ${triple} binary of rust-cluster (${info.rust})`,
    main: file,
    files: [file],
    os: [info.os],
    cpu: [info.cpu],
  };
  if (info.libc) pkg.libc = [info.libc];
  pkg.license = rootPkg.license;
  pkg.engines = rootPkg.engines;
  if (rootPkg.repository) pkg.repository = rootPkg.repository;
  return pkg;
}

function readme(triple) {
  const info = TARGETS[triple];
  return `# \`${packageName(triple)}\`

The prebuilt native addon of [rust-cluster](https://www.npmjs.com/package/rust-cluster)
for \`${triple}\` (Rust target \`${info.rust}\`).

Do not install this package directly: \`rust-cluster\` lists it as an optional
dependency, and npm installs it only where os, cpu${info.libc ? ' and libc' : ''} match
(${[info.os, info.cpu, info.libc].filter(Boolean).join(', ')}).
`;
}

function expected() {
  const out = new Map();
  for (const t of triples()) {
    const dir = path.join(root, 'npm', t);
    out.set(path.join(dir, 'package.json'), `${JSON.stringify(manifest(t), null, 2)}\n`);
    out.set(path.join(dir, 'README.md'), readme(t));
  }
  return out;
}

function check() {
  const problems = [];
  for (const [file, text] of expected()) {
    const rel = path.relative(root, file);
    if (!fs.existsSync(file)) problems.push(`${rel} is missing`);
    else if (fs.readFileSync(file, 'utf8') !== text) problems.push(`${rel} is out of date`);
  }
  const optional = rootPkg.optionalDependencies || {};
  for (const t of triples()) {
    const name = packageName(t);
    if (optional[name] !== rootPkg.version) {
      problems.push(`package.json optionalDependencies["${name}"] is ${optional[name]}, not ${rootPkg.version}`);
    }
  }
  for (const name of Object.keys(optional)) {
    if (name.startsWith('@rust-cluster/') && !triples().some((t) => packageName(t) === name)) {
      problems.push(`package.json optionalDependencies has ${name}, which napi.targets does not list`);
    }
  }
  return problems;
}

if (require.main === module) {
  if (process.argv.includes('--check')) {
    const problems = check();
    for (const p of problems) console.error(`npm-dirs: ${p}`);
    if (problems.length) {
      console.error('npm-dirs: run `node scripts/npm-dirs.js` (and fix optionalDependencies by hand)');
      process.exit(1);
    }
    console.log('npm-dirs: npm/ and optionalDependencies are in sync');
  } else {
    for (const [file, text] of expected()) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      console.log(`npm-dirs: wrote ${path.relative(root, file)}`);
    }
  }
}

module.exports = { triples, manifest, check };
