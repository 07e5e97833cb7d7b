'use strict';
// Numbers for people, in the width of a terminal column.

/** 42s, 3m05s, 2h03m, 4d02h */
function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

/** 812K, 45.2M, 1.3G */
function bytes(n) {
  if (n === null || n === undefined) return '-';
  if (n < 1024 * 1024) return `${Math.round(n / 1024)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)}M`;
  return `${(n / 1024 ** 3).toFixed(1)}G`;
}

function count(n) {
  return n === null || n === undefined ? '-' : String(n);
}

/** Rows of cells, each column right-aligned except those in `left`. */
function table(rows, left = new Set()) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((cell, i) => (left.has(i) ? String(cell).padEnd(widths[i])
    : String(cell).padStart(widths[i]))).join('  ').trimEnd());
}

module.exports = { duration, bytes, count, table };
