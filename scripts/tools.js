'use strict';
// The test tools scripts/setup.sh installs outside the Debian packages, under
// $RUST_CLUSTER_TOOLS (default ~/.cache/rust-cluster-tools). A missing one
// is an error that says how to get it: tests do not skip.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const TOOLS = process.env.RUST_CLUSTER_TOOLS || path.join(os.homedir(), '.cache', 'rust-cluster-tools');

function tool(rel) {
  const file = path.join(TOOLS, rel);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run scripts/setup.sh first (the README's test command does)`);
  }
  return file;
}

/** PATH with the venv of zig, cargo-zigbuild and actionlint in front. */
function pathWithTools(env = process.env) {
  return [path.dirname(tool('py/bin/cargo-zigbuild')), env.PATH].filter(Boolean).join(path.delimiter);
}

module.exports = {
  TOOLS,
  tool,
  pathWithTools,
  actionlint: () => tool('py/bin/actionlint'),
  arm64Node: () => tool('node-arm64/bin/node'),
  verdaccio: () => tool('verdaccio/node_modules/verdaccio/bin/verdaccio'),
};
