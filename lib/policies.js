'use strict';
// The scheduling policies: node's two and the three rust-cluster adds
// (README: Scheduling policies rust-cluster adds), with their
// NODE_CLUSTER_SCHED_POLICY names. Shared by both engines; only the Rust
// engine (lib/primary.js) implements the three extra ones, the portable
// engine (lib/portable/) serves them round robin.
const { policies } = require('./contract.json');

const {
  SCHED_NONE, SCHED_RR, SCHED_REUSEPORT, SCHED_LEASTCONN, SCHED_STICKY,
} = policies;

/** NODE_CLUSTER_SCHED_POLICY value -> policy. */
const POLICY_NAMES = new Map([
  ['rr', SCHED_RR],
  ['none', SCHED_NONE],
  ['reuseport', SCHED_REUSEPORT],
  ['leastconn', SCHED_LEASTCONN],
  ['sticky', SCHED_STICKY],
]);

/** The policies rust-cluster adds: constant name and env value. */
const EXTENSIONS = new Map([...POLICY_NAMES]
  .filter(([, value]) => value !== SCHED_RR && value !== SCHED_NONE)
  .map(([name, value]) => [value, {
    constant: Object.keys(policies).find((constant) => policies[constant] === value),
    name,
  }]));

module.exports = {
  SCHED_NONE, SCHED_RR, SCHED_REUSEPORT, SCHED_LEASTCONN, SCHED_STICKY, POLICY_NAMES, EXTENSIONS,
};
