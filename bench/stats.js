'use strict';
// Summaries of repeated measurements, and number formatting for the tables.

function finite(values) {
  return values.filter((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Median of the numbers (Infinity counts; null and NaN do not). */
function median(values) {
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Coefficient of variation (sample stdev / mean) of the finite runs. */
function cv(values) {
  const v = finite(values);
  if (v.length < 2) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (mean === 0) return 0;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return Math.sqrt(variance) / mean;
}

function round4(x) {
  return Math.round(x * 10000) / 10000;
}

/** A number for JSON: rounded, null for NaN and ±Infinity. */
function jsonNum(x) {
  if (x == null || !Number.isFinite(x)) return null;
  return round4(x);
}

/** { median, runs, cv } of one metric's runs, for the JSON. */
function summarize(runs) {
  return { median: jsonNum(median(runs)), runs: runs.map(jsonNum), cv: jsonNum(cv(runs)) };
}

/** a / b when both are usable numbers, else null. */
function ratio(a, b) {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return round4(a / b);
}

function fmt(x, digits) {
  if (x == null || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return '∞';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

module.exports = { median, cv, round4, jsonNum, summarize, ratio, fmt };
