'use strict';
// Builds the native addon from source with cargo and copies it next to
// index.js as rust_cluster.<triple>.node, the name lib/binding.js loads.
//
//   node scripts/build.js                 release build for this machine
//   node scripts/build.js --debug         debug build
//   node scripts/build.js --if-missing    (npm install) build only when no
//                                         usable binary is there: neither a
//                                         local .node nor an installed
//                                         @rust-cluster/<triple> package (the
//                                         latter only when installed as a
//                                         dependency, not in a checkout)
//   node scripts/build.js --target linux-arm64-gnu
//                                         cross-build for another triple (a
//                                         napi triple or a Rust target) with
//                                         cargo-zigbuild (`cargo install
//                                         cargo-zigbuild`, `pip install ziglang`)
//                                         and `rustup target add <rust target>`
//   node scripts/build.js --target linux-x64-gnu --zig
//                                         host target through zig too, linked
//                                         against glibc 2.17 (portable binary)
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { TARGETS, libName, platformTriple, bindingFileName, packageName } = require('../lib/platform');

const root = path.join(__dirname, '..');
const argv = process.argv.slice(2);
const debug = argv.includes('--debug');
const ifMissing = argv.includes('--if-missing');
const forceZig = argv.includes('--zig');
const targetArg = (() => {
  const i = argv.findIndex((a) => a === '--target' || a.startsWith('--target='));
  if (i === -1) return null;
  return argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
})();

function fail(message) {
  console.error(`rust-cluster: ${message}`);
  process.exit(1);
}

// Accept a napi triple (linux-arm64-gnu) or a Rust target (aarch64-unknown-linux-gnu).
function resolveTarget(name) {
  if (TARGETS[name]) return name;
  const found = Object.keys(TARGETS).find((t) => TARGETS[t].rust === name);
  if (!found) fail(`unknown target '${name}'. Known: ${Object.keys(TARGETS).join(', ')}`);
  return found;
}

const hostTriple = platformTriple();
const triple = targetArg ? resolveTarget(targetArg) : hostTriple;
const outFile = path.join(root, bindingFileName(triple));

// A binary that exists and loads in this Node: nothing to build.
function usable(file) {
  try {
    require(file);
    return true;
  } catch (err) {
    console.warn(`rust-cluster: ${file} is there but does not load (${err.message}); building from source.`);
    return false;
  }
}

function installedPrebuilt() {
  let pkgJson;
  try {
    pkgJson = require.resolve(`${packageName(hostTriple)}/package.json`, { paths: [root] });
  } catch {
    return null;
  }
  const dir = path.dirname(pkgJson);
  const file = path.join(dir, bindingFileName(hostTriple));
  return fs.existsSync(file) ? file : null;
}

if (ifMissing && !targetArg) {
  if (fs.existsSync(outFile) && usable(outFile)) process.exit(0);
  // Only an installed copy (inside node_modules) takes the prebuilt package:
  // a development checkout builds its own source, even once a published
  // @rust-cluster/<triple> lands in its node_modules. RUST_CLUSTER_BUILD_FROM_SOURCE=1
  // forces a source build everywhere.
  const asDependency = root.split(path.sep).includes('node_modules');
  const fromSource = /^(1|true)$/i.test(process.env.RUST_CLUSTER_BUILD_FROM_SOURCE || '');
  const prebuilt = asDependency && !fromSource ? installedPrebuilt() : null;
  if (prebuilt && usable(prebuilt)) {
    console.log(`rust-cluster: using prebuilt ${packageName(hostTriple)}; not building from source.`);
    process.exit(0);
  }
  console.log(`rust-cluster: no prebuilt binary for ${hostTriple} (Node ${process.version}); building from source with cargo.`);
}

const info = TARGETS[triple];
const cross = triple !== hostTriple;
const useZig = cross || forceZig;
const cargo = process.env.CARGO || 'cargo';
const args = [useZig ? 'zigbuild' : 'build', '--lib', '--locked'];
if (!debug) args.push('--release');
const env = { ...process.env };
if (targetArg) {
  if (!info) fail(`no Rust target known for ${triple}`);
  // cargo-zigbuild takes a glibc version suffix; 2.17 is what napi-rs
  // targets for gnu binaries that run on old distributions.
  const zigTarget = useZig && info.libc === 'glibc' ? `${info.rust}.2.17` : info.rust;
  args.push('--target', zigTarget);
  if (info.libc === 'musl') {
    // musl targets link the C runtime statically by default, which rules out
    // a cdylib; Node on musl loads addons dynamically against its libc.
    const key = `CARGO_TARGET_${info.rust.toUpperCase().replace(/-/g, '_')}_RUSTFLAGS`;
    env[key] = [env[key], '-C target-feature=-crt-static'].filter(Boolean).join(' ');
  }
}

console.log(`rust-cluster: ${cargo} ${args.join(' ')}`);
const result = spawnSync(cargo, args, { cwd: root, stdio: 'inherit', env });
if (result.error) {
  fail(`could not run '${cargo}' (${result.error.code}) to build the native addon for ` +
    `${triple} (Node ${process.version}). Building from source needs a Rust toolchain: ` +
    'https://rustup.rs' + (useZig ? ', plus cargo-zigbuild and zig for cross builds' : '') +
    `. Alternatively install the prebuilt package ${packageName(triple)} if one exists for this platform.`);
}
if (result.status !== 0) {
  if (useZig) {
    console.error('rust-cluster: cross builds need `rustup target add ' + (info ? info.rust : triple) +
      '`, `cargo install cargo-zigbuild` and zig (`pip install ziglang`).');
  }
  process.exit(result.status || 1);
}

const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target');
const profile = debug ? 'debug' : 'release';
const built = targetArg
  ? path.join(targetDir, info.rust, profile, libName(info.os))
  : path.join(targetDir, profile, libName(process.platform));
fs.copyFileSync(built, outFile);
console.log(`rust-cluster: built ${path.basename(outFile)}`);
