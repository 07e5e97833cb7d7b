'use strict';
// The figures the bench reports: key -> { title, unit, better, digits, sub }.
// `sub` rows are the cost per operation of the rate above them: the primary's,
// and for P4 also the worker's.

const HTTP_METRICS = {
  P1: { title: 'P1 new connections/s (Connection: close)', unit: 'conn/s', better: 'higher', digits: 0 },
  P2_cs: { title: 'primary context switches per connection', unit: 'cs', better: 'lower', digits: 2, sub: true },
  P2: { title: 'P2 primary CPU per connection', unit: 'µs', better: 'lower', digits: 1, sub: true },
  P3: { title: 'P3 keep-alive requests/s', unit: 'req/s', better: 'higher', digits: 0 },
  P3_cs: { title: 'primary context switches per request', unit: 'cs', better: 'lower', digits: 3, sub: true },
  P3_cpu: { title: 'primary CPU per request', unit: 'µs', better: 'lower', digits: 2, sub: true },
  P6: { title: 'P6 fairness: max/min connections per worker over the P1 run', unit: 'ratio', better: 'lower', digits: 3 },
  RSS_rest: { title: 'primary RSS at rest', unit: 'MiB', better: 'lower', digits: 1 },
  RSS_load: { title: 'primary RSS under load (peak during P1)', unit: 'MiB', better: 'lower', digits: 1 },
};

const IPC_PAYLOADS = [
  { key: 'json_50B', name: 'json 50 B', serialization: 'json', bytes: 50 },
  { key: 'json_64KiB', name: 'json 64 KiB', serialization: 'json', bytes: 65536 },
  { key: 'advanced_50B', name: 'advanced 50 B', serialization: 'advanced', bytes: 50 },
  { key: 'advanced_64KiB', name: 'advanced 64 KiB', serialization: 'advanced', bytes: 65536 },
];
const IPC_WINDOWS = [16, 64];

// One P4 variant per payload and window, e.g. P4_json_50B_w16.
const IPC_VARIANTS = [];
for (const p of IPC_PAYLOADS) {
  for (const window of IPC_WINDOWS) {
    IPC_VARIANTS.push({ ...p, window, key: `P4_${p.key}_w${window}` });
  }
}

const FORK_WORKERS = 8;

const IPC_METRICS = {};
for (const v of IPC_VARIANTS) {
  IPC_METRICS[v.key] = { title: `P4 echo round trips/s, ${v.name}, ${v.window} in flight`, unit: 'msg/s', better: 'higher', digits: 0 };
  IPC_METRICS[`${v.key}_cs`] = { title: 'primary context switches per round trip', unit: 'cs', better: 'lower', digits: 3, sub: true };
  IPC_METRICS[`${v.key}_cpu`] = { title: 'primary CPU per round trip', unit: 'µs', better: 'lower', digits: 2, sub: true };
  IPC_METRICS[`${v.key}_wcpu`] = { title: "the worker's CPU per round trip", unit: 'µs', better: 'lower', digits: 2, sub: true };
}

// Fork runs unpinned only, once per cluster module like P4.
const FORK_METRICS = {
  P5: { title: `P5 fork() of ${FORK_WORKERS} workers to all online`, unit: 'ms', better: 'lower', digits: 0 },
};

// Scale phase: per worker count, for round robin.
const SCALE_METRICS = {
  conn: { title: 'new connections/s (Connection: close)', unit: 'conn/s', digits: 0 },
  conn_cpu: { title: 'primary CPU per connection', unit: 'µs', digits: 1 },
  conn_cs: { title: 'primary context switches per connection', unit: 'cs', digits: 2 },
  echo: { title: 'echo round trips/s, json 50 B, spread over the workers', unit: 'msg/s', digits: 0 },
  echo_cpu: { title: 'primary CPU per round trip', unit: 'µs', digits: 2 },
  echo_cs: { title: 'primary context switches per round trip', unit: 'cs', digits: 3 },
};

module.exports = { HTTP_METRICS, IPC_METRICS, FORK_METRICS, IPC_VARIANTS, IPC_PAYLOADS, IPC_WINDOWS, FORK_WORKERS, SCALE_METRICS };
