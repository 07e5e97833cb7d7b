'use strict';
// The platform triple napi-rs uses to name prebuilt binaries.

function libc() {
  if (process.platform !== 'linux') return '';
  const report = process.report && process.report.getReport();
  const header = report && (typeof report === 'string' ? JSON.parse(report).header : report.header);
  return header && header.glibcVersionRuntime ? '-gnu' : '-musl';
}

let triple;
function platformTriple() {
  if (triple === undefined) triple = `${process.platform}-${process.arch}${libc()}`;
  return triple;
}

function bindingFileName() {
  return `rust_cluster.${platformTriple()}.node`;
}

module.exports = { platformTriple, bindingFileName };
