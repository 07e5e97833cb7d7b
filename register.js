'use strict';
// `node --require rust-cluster/register app.js` (or `--import`, or in
// NODE_OPTIONS): every `cluster` in the process is rust-cluster, not only the
// program's own. Libraries that require cluster themselves (prom-client's
// AggregatorRegistry, sticky-session helpers, ...) would otherwise get
// node:cluster, which has no workers when rust-cluster forked them.
//
// Redirected: require('cluster') and require('node:cluster'), `import ...
// from 'cluster'` and 'node:cluster', process.getBuiltinModule('cluster').
// rust-cluster's own modules (index.js, lib/) still get node:cluster, which
// is what a worker runs.
// Workers inherit the flag with execArgv/NODE_OPTIONS, which is harmless: in
// a worker, rust-cluster is node:cluster.
const Module = require('node:module');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { isCluster, resolveCluster } = require('./lib/register-resolve');

const kRegistered = Symbol.for('rust-cluster.register');
const cjsEntry = path.join(__dirname, 'index.js');
const libDir = path.join(__dirname, 'lib') + path.sep;
const urls = {
  lib: pathToFileURL(libDir).href,
  cjs: pathToFileURL(cjsEntry).href,
  esm: pathToFileURL(path.join(__dirname, 'index.mjs')).href,
};

function registerCommonJS() {
  const load = Module._load;
  Module._load = function _load(request, parent, isMain) {
    const file = parent && typeof parent.filename === 'string' ? parent.filename : '';
    const own = file === cjsEntry || file.startsWith(libDir);
    return load.call(this, isCluster(request) && !own ? cjsEntry : request, parent, isMain);
  };

  const getBuiltinModule = process.getBuiltinModule;
  if (typeof getBuiltinModule === 'function') {
    process.getBuiltinModule = function getBuiltin(id) {
      return isCluster(id) ? require(cjsEntry) : getBuiltinModule.call(this, id);
    };
  }
}

function registerESM() {
  if (typeof Module.registerHooks === 'function') {
    // In-thread hooks (Node >= 22.15): they see require() too, but
    // Module._load above has already replaced a CommonJS request by then.
    Module.registerHooks({
      resolve: (specifier, context, next) => resolveCluster(urls, specifier, context) || next(specifier, context),
    });
  } else if (typeof Module.register === 'function') {
    // Off-thread hooks (Node 18.19+, 20.6+).
    Module.register('./lib/register-hooks.mjs', pathToFileURL(__filename), { data: urls });
  }
  // Older Node: import of cluster stays node:cluster; require() is covered.
}

if (!globalThis[kRegistered]) {
  Object.defineProperty(globalThis, kRegistered, { value: true });
  registerCommonJS();
  registerESM();
}
