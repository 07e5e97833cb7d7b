'use strict';
// The platform triple napi-rs uses to name prebuilt binaries.
const { familySync } = (() => {
  try {
    return { familySync: () => (process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl') };
  } catch {
    return { familySync: () => 'gnu' };
  }
})();

function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${familySync()}`;
  return `${platform}-${arch}`;
}

function bindingFileName() {
  return `rust_cluster.${platformTriple()}.node`;
}

module.exports = { platformTriple, bindingFileName };
