'use strict';
// `--syscalls`: counts the primary's system calls with `strace -c -f -p`,
// attached to every thread of a running fixture's primary for a fixed number
// of operations. strace stops each thread at every system call, so nothing
// timed runs under it.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { track } = require('./fixture');

/**
 * Attach to every thread of `pid`; resolves once strace says it is attached
 * to an object whose detach() resolves to the counts.
 */
function attach(pid) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rust-cluster-bench-')), 'strace.txt');
  const child = track(spawn('strace', ['-c', '-f', '-p', String(pid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let err = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`strace did not attach to ${pid} within 10 s: ${err.trim().slice(0, 300)}`));
    }, 10000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      const first = !/attached/.test(err);
      err += d;
      if (first && /attached/.test(err)) {
        clearTimeout(timer);
        resolve({ detach: () => detach(child, exited, file, () => err) });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`strace exited (${signal || code}): ${err.trim().slice(0, 300)}`));
    });
  });
}

async function detach(child, exited, file, stderr) {
  child.kill('SIGINT');
  const { code, signal } = await exited;
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { /* none */ }
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  // No table at all: no system call completed while attached (a primary
  // that takes no part in connections sleeps in epoll_wait throughout).
  if (text.trim() === '') return { total: 0, errors: 0, calls: {} };
  const counts = parse(text);
  if (counts.total == null) {
    throw new Error(`strace (${signal || code}) wrote no summary: ${stderr().trim().slice(0, 300)}`);
  }
  return counts;
}

/**
 * The table of `strace -c`: { total, errors, calls: { name: { calls, errors } } }.
 * Columns: % time, seconds, usecs/call, calls, [errors], syscall.
 */
function parse(text) {
  const out = { total: null, errors: 0, calls: {} };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^[\d.]+$/.test(f[0]) || !/^\d+$/.test(f[3])) continue;
    const name = f[f.length - 1];
    const calls = Number(f[3]);
    const errors = f.length >= 6 && /^\d+$/.test(f[4]) ? Number(f[4]) : 0;
    if (name === 'total') {
      out.total = calls;
      out.errors = errors;
    } else {
      out.calls[name] = { calls, errors };
    }
  }
  return out;
}

module.exports = { attach, parse };
