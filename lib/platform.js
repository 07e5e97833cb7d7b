'use strict';
// The platform triple napi-rs uses to name binaries
// (`rust_cluster.<triple>.node`, package `@rust-cluster/binding-<triple>`),
// for what names them outside @napi-rs/cli: the install script's source
// build (scripts/install.js) and the tests. The same rules as the loader
// @napi-rs/cli generates (binding.js).
const fs = require('node:fs');

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
  return `@rust-cluster/binding-${t}`;
}

module.exports = { platformTriple, bindingFileName, packageName };
