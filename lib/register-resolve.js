'use strict';
// The rule of rust-cluster/register: which specifiers name cluster, and the
// resolve hook shared by the in-thread hooks (register.js) and the
// off-thread ones (register-hooks.mjs).
// Returns the resolution for a cluster import from outside rust-cluster's
// own modules (index.js, lib/), or null to let the next hook resolve it.
function isCluster(specifier) {
  return specifier === 'cluster' || specifier === 'node:cluster';
}

function resolveCluster(urls, specifier, context) {
  if (!isCluster(specifier)) return null;
  const parent = typeof context.parentURL === 'string' ? context.parentURL : '';
  if (parent === urls.cjs || parent.startsWith(urls.lib)) return null;
  const required = Array.isArray(context.conditions) && context.conditions.includes('require');
  return { url: required ? urls.cjs : urls.esm, format: required ? 'commonjs' : 'module', shortCircuit: true };
}

module.exports = { isCluster, resolveCluster };
