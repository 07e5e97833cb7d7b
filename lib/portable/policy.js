'use strict';
// Scheduling policies on the portable engine. node:cluster knows SCHED_RR
// and SCHED_NONE only, and its first setupPrimary() asserts on anything
// else. rust-cluster's own policies (reuseport, leastconn, sticky) need the
// Rust engine: here they are accepted where the Rust engine accepts them
// (cluster.schedulingPolicy, NODE_CLUSTER_SCHED_POLICY, the first
// setupPrimary()'s options) and served round robin, with one warning naming
// the policy.
const { SCHED_RR, POLICY_NAMES, EXTENSIONS } = require('../policies');

let warned = false;

function warnFallback(policy) {
  if (warned) return;
  warned = true;
  const { constant, name } = EXTENSIONS.get(policy);
  process.emitWarning(`scheduling policy ${name} (${constant}) needs rust-cluster's Rust engine, ` +
    'which is not in use here (cluster.engine is \'node\'): connections are handed out round robin',
  { code: 'RUST_CLUSTER_POLICY_UNSUPPORTED' });
}

function install(cluster) {
  // Not enumerable: Object.keys(cluster) stays what node:cluster has.
  for (const [value, { constant }] of EXTENSIONS) {
    Object.defineProperty(cluster, constant, { value, writable: true, enumerable: false, configurable: true });
  }
  // node:cluster read the variable already and took an unknown value (to
  // it) as its default; read as the Rust engine reads it.
  const fromEnv = POLICY_NAMES.get(process.env.NODE_CLUSTER_SCHED_POLICY);
  if (EXTENSIONS.has(fromEnv)) cluster.schedulingPolicy = fromEnv;

  const setupPrimary = cluster.setupPrimary;
  let initialized = false;
  function setupPrimaryPortable(options) {
    if (!initialized) {
      initialized = true;
      // The Rust engine's extension: the first call may name the policy.
      if (options != null && options.schedulingPolicy !== undefined) {
        cluster.schedulingPolicy = options.schedulingPolicy;
      }
      if (EXTENSIONS.has(cluster.schedulingPolicy)) {
        warnFallback(cluster.schedulingPolicy);
        cluster.schedulingPolicy = SCHED_RR;
      }
    }
    return Reflect.apply(setupPrimary, this, [options]);
  }
  // node's fork() calls cluster.setupPrimary(), so it goes through here too.
  cluster.setupPrimary = setupPrimaryPortable;
  cluster.setupMaster = setupPrimaryPortable;
}

module.exports = { install };
