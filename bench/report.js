'use strict';
// Markdown tables of a bench result (bench/run.js writes the same data as
// JSON). Cells show the median of the rounds and, in brackets, the ratio to
// the baseline column; `!` marks a figure some round of which failed.
const { HTTP_METRICS, IPC_METRICS, FORK_METRICS, SCALE_METRICS, IPC_VARIANTS } = require('./metrics');
const { fmt, ratio } = require('./stats');

/**
 * One table: a row per metric (sub rows, the primary's cost per operation,
 * are indented under their rate), a column per contender or group.
 * @param defs      metric definitions (bench/metrics.js)
 * @param section   { metrics: { key: { id: { median, runs } } }, ratios }
 * @param columns   [{ id, label }]
 * @param baseline  id of the column the ratios are against
 * @param status    (id, key) => { failed: bool, missing: '–' | 'failed' }
 */
function table(defs, section, columns, baseline, status) {
  const lines = [];
  lines.push(`| figure | better | ${columns.map((c) => c.label).join(' | ')} |`);
  lines.push(`| --- | --- | ${columns.map(() => '---:').join(' | ')} |`);
  for (const [key, info] of Object.entries(defs)) {
    if (!section.metrics[key]) continue;
    const cells = columns.map((c) => {
      const m = section.metrics[key][c.id];
      const st = status(c.id, key);
      if (!m || m.runs.length === 0) return st.missing;
      const med = m.median == null && m.runs.some((x) => x == null) ? Infinity : m.median;
      let s = fmt(med, info.digits);
      const r = section.ratios[key] && section.ratios[key][c.id];
      if (c.id !== baseline && r != null) s += ` (${r.toFixed(2)}×)`;
      if (st.failed) s += ' !';
      return s;
    });
    const title = info.sub ? `↳ ${info.title}` : info.title;
    const arrow = info.better === 'higher' ? '↑' : '↓';
    lines.push(`| ${title} (${info.unit}) | ${arrow} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Which metrics a problem recorded under `metric` spoils. */
function spoils(problemMetric, key) {
  if (problemMetric === key) return true;
  const base = key.replace(/_(cs|cpu|wcpu)$/, '');
  if (problemMetric === base) return true;
  // P2 and the RSS under load come from the P1 run, P6 too.
  if (problemMetric === 'P1' && ['P2', 'P2_cs', 'RSS_load', 'P6'].includes(key)) return true;
  return false;
}

function statusFor(problems, phase) {
  return (id, key) => {
    const mine = problems.filter((p) => p.contender === id && p.phase === phase);
    return {
      failed: mine.some((p) => spoils(p.metric, key)),
      missing: mine.length > 0 ? 'failed' : '–',
    };
  };
}

function httpTable(result, pinKey) {
  const columns = result.contenders.filter((c) => c.phases.includes('http'));
  const problems = result.problems.filter((p) => p.pin === pinKey);
  return table(HTTP_METRICS, result[pinKey].http, columns, result.baseline, statusFor(problems, 'http'));
}

function ipcTable(result, pinKey, withFork) {
  const columns = result.groups;
  const problems = result.problems.filter((p) => p.pin === pinKey || (withFork && p.phase === 'fork'));
  const ipc = result.config.phases.includes('ipc') ? result[pinKey].ipc : { metrics: {}, ratios: {} };
  const fork = withFork ? result.fork : { metrics: {}, ratios: {} };
  const section = { metrics: { ...ipc.metrics, ...fork.metrics }, ratios: { ...ipc.ratios, ...fork.ratios } };
  const st = statusFor(problems, 'ipc');
  const status = (id, key) => (key === 'P5' ? statusFor(problems, 'fork')(id, key) : st(id, key));
  return table({ ...IPC_METRICS, ...FORK_METRICS }, section, columns, result.groupBaseline, status);
}

/**
 * What Node's own worker allows: at its CPU per round trip under
 * node:cluster, the round trips/s that would keep it busy a whole CPU, as a
 * multiple of node:cluster's rate. A primary that serves Node's unmodified
 * worker goes past that only by making the worker's round trip cheaper.
 */
function workerLimitLine(result, pinKey) {
  const ipc = result[pinKey].ipc;
  const base = result.groupBaseline;
  const parts = [];
  for (const v of IPC_VARIANTS) {
    const rate = ipc.metrics[v.key] && ipc.metrics[v.key][base];
    const wcpu = ipc.metrics[`${v.key}_wcpu`] && ipc.metrics[`${v.key}_wcpu`][base];
    if (!rate || !wcpu || !rate.median || !wcpu.median) continue;
    const limit = 1e6 / wcpu.median;
    parts.push(`${v.name}, ${v.window} in flight: ${fmt(limit, 0)}/s (${fmt(limit / rate.median, 2)}×)`);
  }
  if (parts.length === 0) return null;
  return "Node's worker at one whole CPU (1 s ÷ its CPU per round trip under node:cluster), and that as a multiple " +
    `of node:cluster's round trips: ${parts.join('; ')}. ` +
    'A primary serving Node\'s unmodified worker goes past it only by making the worker\'s round trip cheaper.';
}

/**
 * Scale: a row per figure and cluster module, a column per worker count,
 * and the last count's figure over the first's (flat = 1.00×). rust-cluster
 * cells carry their ratio to node:cluster at the same count.
 */
function scaleTable(result) {
  const s = result.scale;
  const sizes = s.workers;
  const ids = s.contenders;
  const lines = [];
  const last = sizes[sizes.length - 1];
  const first = sizes[0];
  lines.push(`| figure | cluster module | ${sizes.map((n) => `${n} workers`).join(' | ')} | ${last} vs ${first} |`);
  lines.push(`| --- | --- | ${sizes.map(() => '---:').join(' | ')} | ---: |`);
  for (const [key, info] of Object.entries(SCALE_METRICS)) {
    ids.forEach((id, row) => {
      const label = result.contenders.find((c) => c.id === id).label;
      const med = (n) => (s.metrics[key][id][n] ? s.metrics[key][id][n].median : null);
      const cells = sizes.map((n) => {
        const m = s.metrics[key][id][n];
        if (!m || m.runs.length === 0) {
          return result.problems.some((p) => p.phase === 'scale' && p.contender === id && p.workers === n) ? 'failed' : '–';
        }
        let cell = fmt(m.median, info.digits);
        const base = id === s.baseline ? null : ratio(m.median, s.metrics[key][s.baseline] && s.metrics[key][s.baseline][n] ? s.metrics[key][s.baseline][n].median : null);
        if (base != null) cell += ` (${base.toFixed(2)}×)`;
        return cell;
      });
      const growth = ratio(med(last), med(first));
      const title = row === 0 ? `${info.title} (${info.unit})` : '';
      lines.push(`| ${title} | ${label} | ${cells.join(' | ')} | ${growth == null ? '–' : `${growth.toFixed(2)}×`} |`);
    });
  }
  return lines.join('\n');
}

/**
 * Syscalls per operation: the calls that are among the top `top` of any
 * column, then all calls together.
 */
function syscallTable(entries, columns, top = 8) {
  const names = new Set();
  for (const c of columns) {
    const e = entries[c.id];
    if (!e || !e.perOp) continue;
    Object.entries(e.perOp).sort((a, b) => b[1] - a[1]).slice(0, top).forEach(([n]) => names.add(n));
  }
  const maxOf = (n) => Math.max(...columns.map((c) => (entries[c.id] && entries[c.id].perOp ? entries[c.id].perOp[n] || 0 : 0)));
  const rows = [...names].sort((a, b) => maxOf(b) - maxOf(a));
  const lines = [];
  lines.push(`| syscall | ${columns.map((c) => c.label).join(' | ')} |`);
  lines.push(`| --- | ${columns.map(() => '---:').join(' | ')} |`);
  const cell = (c, f) => {
    const e = entries[c.id];
    if (!e) return '–';
    if (e.error) return 'failed';
    return f(e);
  };
  for (const n of rows) {
    lines.push(`| ${n} | ${columns.map((c) => cell(c, (e) => fmt(e.perOp[n] || 0, 3))).join(' | ')} |`);
  }
  lines.push(`| **all syscalls** | ${columns.map((c) => cell(c, (e) => `**${fmt(e.totalPerOp, 3)}**`)).join(' | ')} |`);
  lines.push(`| of which errors (EAGAIN...) | ${columns.map((c) => cell(c, (e) => fmt(e.errorsPerOp, 3))).join(' | ')} |`);
  return lines.join('\n');
}

/**
 * One line on the spread between rounds: how many cells of a section have a
 * coefficient of variation over 10%, and the worst.
 */
function noiseLine(metrics) {
  let cells = 0;
  const noisy = [];
  for (const [key, byId] of Object.entries(metrics)) {
    for (const [id, m] of Object.entries(byId)) {
      // Scale sections nest one level deeper (per worker count).
      const leaves = m && 'cv' in m ? [[id, m]] : Object.entries(m).map(([n, x]) => [`${id} ${n} workers`, x]);
      for (const [who, x] of leaves) {
        if (x.cv == null) continue;
        cells++;
        if (x.cv > 0.1) noisy.push({ who, key, cv: x.cv });
      }
    }
  }
  if (cells === 0) return 'One round per figure: no spread between rounds to show.';
  noisy.sort((a, b) => b.cv - a.cv);
  const worst = noisy.slice(0, 3).map((n) => `${n.who} ${n.key} ${(n.cv * 100).toFixed(0)}%`).join(', ');
  return `Spread between rounds: ${noisy.length} of ${cells} figures have a coefficient of variation over 10%` +
    `${noisy.length ? ` (worst: ${worst})` : ''}.`;
}

module.exports = { httpTable, ipcTable, workerLimitLine, scaleTable, syscallTable, noiseLine };
