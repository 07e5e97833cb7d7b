'use strict';
// --prefix-logs: every line a worker writes to stdout or stderr comes out
// of the primary's stdout or stderr prefixed with the worker's id (and,
// with --timestamps, an ISO time): `[3] listening` or
// `2026-11-30T17:00:00.000Z [3] listening`. Workers run with piped stdio
// (silent); only whole lines are written, one write each, so lines of
// different workers never mix mid-line. A line still unfinished when its
// worker exits is written with a newline added.
const { StringDecoder } = require('node:string_decoder');

// A line longer than this is cut and written in parts: a worker that never
// writes a newline must not grow the primary.
const MAX_LINE = 64 * 1024;

// Per output stream: the worker streams paused until it drains.
const waiting = new WeakMap();

// The terminal or pipe is slow: stop reading the worker until it drains
// (one 'drain' listener per output, however many workers wait on it).
function holdUntilDrained(stream, out) {
  let paused = waiting.get(out);
  if (!paused) {
    paused = new Set();
    waiting.set(out, paused);
    out.once('drain', () => {
      waiting.delete(out);
      for (const s of paused) s.resume();
    });
  }
  paused.add(stream);
  stream.pause();
}

function prefixLines(stream, out, prefix) {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const write = (line) => {
    if (!out.write(`${prefix()}${line}\n`)) holdUntilDrained(stream, out);
  };
  stream.on('data', (chunk) => {
    const text = partial + decoder.write(chunk);
    const lines = text.split('\n');
    partial = lines.pop();
    for (const line of lines) write(line);
    while (partial.length > MAX_LINE) {
      write(partial.slice(0, MAX_LINE));
      partial = partial.slice(MAX_LINE);
    }
  });
  stream.on('end', () => {
    const rest = partial + decoder.end();
    partial = '';
    if (rest !== '') write(rest);
  });
}

const guarded = new WeakSet();

// Whoever reads the primary's output went away (EPIPE): the logs are lost,
// the cluster must not be.
function guard(out) {
  if (guarded.has(out)) return;
  guarded.add(out);
  out.on('error', () => {});
}

/** Prefix the output of `worker` (forked with silent: true). */
function prefixWorker(worker, { timestamps = false, stdout = process.stdout, stderr = process.stderr } = {}) {
  guard(stdout);
  guard(stderr);
  const prefix = () => `${timestamps ? `${new Date().toISOString()} ` : ''}[${worker.id}] `;
  if (worker.process.stdout) prefixLines(worker.process.stdout, stdout, prefix);
  if (worker.process.stderr) prefixLines(worker.process.stderr, stderr, prefix);
}

module.exports = { prefixWorker, prefixLines };
