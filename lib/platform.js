'use strict';
// The platform triple napi-rs uses to name prebuilt binaries
// (`rust_cluster.<triple>.node`, package `@rust-cluster/<triple>`), and the
// table of targets the project knows how to name and build.
const fs = require('node:fs');

// napi-rs platform triple -> Rust target and the npm os/cpu/libc fields of
// its binary package. `lib` is the file name cargo gives the cdylib.
const TARGETS = {
  'linux-x64-gnu': { rust: 'x86_64-unknown-linux-gnu', os: 'linux', cpu: 'x64', libc: 'glibc' },
  'linux-arm64-gnu': { rust: 'aarch64-unknown-linux-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc' },
  'linux-x64-musl': { rust: 'x86_64-unknown-linux-musl', os: 'linux', cpu: 'x64', libc: 'musl' },
  'darwin-x64': { rust: 'x86_64-apple-darwin', os: 'darwin', cpu: 'x64' },
  'darwin-arm64': { rust: 'aarch64-apple-darwin', os: 'darwin', cpu: 'arm64' },
  'win32-x64-msvc': { rust: 'x86_64-pc-windows-msvc', os: 'win32', cpu: 'x64' },
};

function libName(os) {
  if (os === 'win32') return 'rust_cluster.dll';
  if (os === 'darwin') return 'librust_cluster.dylib';
  return 'librust_cluster.so';
}

function isMuslFromFilesystem() {
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    return null;
  }
}

function isMuslFromReport() {
  const report = process.report;
  if (!report || typeof report.getReport !== 'function') return null;
  // The network part of a report can take seconds (reverse DNS); skip it.
  const excluded = report.excludeNetwork;
  report.excludeNetwork = true;
  let data;
  try {
    data = report.getReport();
  } catch {
    return null;
  } finally {
    report.excludeNetwork = excluded;
  }
  if (typeof data === 'string') data = JSON.parse(data);
  if (!data || !data.header) return null;
  if (data.header.glibcVersionRuntime) return false;
  if (Array.isArray(data.sharedObjects)) {
    return data.sharedObjects.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'));
  }
  return true;
}

function libcSuffix() {
  let musl = isMuslFromFilesystem();
  if (musl === null) musl = isMuslFromReport();
  const abi = musl ? 'musl' : 'gnu';
  return process.arch === 'arm' ? `-${abi}eabihf` : `-${abi}`;
}

function tripleOf(platform, arch) {
  if (platform === 'linux') return `linux-${arch}${libcSuffix()}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

let triple;
function platformTriple() {
  if (triple === undefined) triple = tripleOf(process.platform, process.arch);
  return triple;
}

function bindingFileName(t = platformTriple()) {
  return `rust_cluster.${t}.node`;
}

function packageName(t = platformTriple()) {
  return `@rust-cluster/${t}`;
}

module.exports = { TARGETS, libName, platformTriple, bindingFileName, packageName };
