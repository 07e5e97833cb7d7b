'use strict';
// The resolve rule of rust-cluster/register's module hooks, shared by the
// in-thread hooks (register.js) and the off-thread ones (register-hooks.mjs).
// Returns the resolution for a cluster import from outside rust-cluster's
// own modules (index.js, lib/), or null to let the next hook resolve it.
function resolveCluster(urls, specifier, context) {
  if (specifier !== 'cluster' && specifier !== 'node:cluster') return null;
  const parent = typeof context.parentURL === 'string' ? context.parentURL : '';
  if (parent === urls.cjs || parent.startsWith(urls.lib)) return null;
  const required = Array.isArray(context.conditions) && context.conditions.includes('require');
  return { url: required ? urls.cjs : urls.esm, format: required ? 'commonjs' : 'module', shortCircuit: true };
}

module.exports = { resolveCluster };
