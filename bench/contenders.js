'use strict';
// Who runs in the bench. One row per contender:
//   id, label
//   module        what the fixture's primary requires as its cluster module
//   workerModule  what its workers require instead (optional); 'node:cluster'
//                 gives rust-cluster's primary workers that never load
//                 rust-cluster (they speak Node's wire protocol only)
//   env           added to the fixture's environment (NODE_CLUSTER_SCHED_POLICY
//                 is read by both cluster modules)
//   group         IPC echo (P4) and fork (P5) depend on the cluster modules
//                 only, so they run once per group (GROUPS) and not per policy
//   setupPrimary  options for cluster.setupPrimary() before the first fork (optional)
//   schedulingPolicy  assigned to cluster.schedulingPolicy before the first fork:
//                 a number or a constant's name such as 'SCHED_RR' (optional)
//   runtime       'bun' runs the fixture under bun (when it is on PATH)
//   reference     shown for reference only: its problems do not fail the run
// To add a policy, add a row.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

const CONTENDERS = [
  { id: 'node-rr', label: 'node:cluster SCHED_RR', module: 'node:cluster', group: 'node', env: { NODE_CLUSTER_SCHED_POLICY: 'rr' } },
  { id: 'node-none', label: 'node:cluster SCHED_NONE', module: 'node:cluster', group: 'node', env: { NODE_CLUSTER_SCHED_POLICY: 'none' } },
  { id: 'rust-rr', label: 'rust-cluster round robin', module: ROOT, group: 'rust', env: { NODE_CLUSTER_SCHED_POLICY: 'rr' } },
  { id: 'rust-rr-plain', label: 'rust-cluster round robin, plain workers', module: ROOT, workerModule: 'node:cluster', group: 'rust-plain', env: { NODE_CLUSTER_SCHED_POLICY: 'rr' } },
  { id: 'rust-none', label: 'rust-cluster SCHED_NONE', module: ROOT, group: 'rust', env: { NODE_CLUSTER_SCHED_POLICY: 'none' } },
  { id: 'rust-reuseport', label: 'rust-cluster reuseport', module: ROOT, group: 'rust', env: { NODE_CLUSTER_SCHED_POLICY: 'reuseport' } },
  { id: 'rust-leastconn', label: 'rust-cluster leastconn', module: ROOT, group: 'rust', env: { NODE_CLUSTER_SCHED_POLICY: 'leastconn' } },
  { id: 'rust-sticky', label: 'rust-cluster sticky', module: ROOT, group: 'rust', env: { NODE_CLUSTER_SCHED_POLICY: 'sticky' } },
  { id: 'bun', label: 'bun node:cluster (reference)', module: 'node:cluster', runtime: 'bun', reference: true, env: {} },
];
const BASELINE = 'node-rr';

// The IPC/fork groups, in table order; the first is the baseline.
const GROUPS = [
  { id: 'node', label: 'node:cluster' },
  { id: 'rust', label: 'rust-cluster' },
  { id: 'rust-plain', label: 'rust-cluster, plain workers' },
];
const GROUP_BASELINE = 'node';

// The scale phase compares these (round robin, 2 / 8 / 32 workers).
const SCALE_CONTENDERS = ['node-rr', 'rust-rr'];

module.exports = { ROOT, CONTENDERS, BASELINE, GROUPS, GROUP_BASELINE, SCALE_CONTENDERS };
