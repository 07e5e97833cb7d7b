'use strict';
// What the bench reads of a process from /proc: the context switches and CPU
// time of every one of its threads, and its RSS. Used by the harness (from
// outside, on the primary's pid) and by the fixture's primary (on itself).
//
// Context switches: voluntary_ctxt_switches + nonvoluntary_ctxt_switches of
// /proc/<pid>/task/<tid>/status, summed over the threads. CPU: the first
// field of /proc/<pid>/task/<tid>/schedstat (nanoseconds on a CPU), summed
// the same way; finer than /proc/<pid>/stat's clock ticks. A thread born
// inside a window counts from zero; one that ended inside it takes its counts
// with it (a delta reports how many did so, as `lostThreads`).
const fs = require('node:fs');

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // the thread (or process) ended meanwhile
  }
}

/** Map tid -> { comm, cs, ns } for every live thread of `pid`. */
function threads(pid) {
  const out = new Map();
  let tids;
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const dir = `/proc/${pid}/task/${tid}`;
    const status = read(`${dir}/status`);
    const schedstat = read(`${dir}/schedstat`);
    if (status == null || schedstat == null) continue;
    const vol = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(status);
    const nonvol = /^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status);
    const name = /^Name:\s+(.*)$/m.exec(status);
    out.set(tid, {
      comm: name ? name[1].trim() : '?',
      cs: (vol ? Number(vol[1]) : 0) + (nonvol ? Number(nonvol[1]) : 0),
      ns: Number(schedstat.split(' ')[0]) || 0,
    });
  }
  return out;
}

/** A snapshot of a process's threads, to subtract from a later one. */
function snapshot(pid) {
  return { pid, threads: threads(pid) };
}

/**
 * What happened between two snapshots: context switches and CPU ns summed
 * over the threads, the same per thread name (the main thread as 'main'),
 * and threads lost on the way.
 */
function delta(before, after) {
  let cs = 0;
  let ns = 0;
  const byName = {};
  for (const [tid, t] of after.threads) {
    const b = before.threads.get(tid) || { cs: 0, ns: 0 };
    const dcs = t.cs - b.cs;
    const dns = t.ns - b.ns;
    cs += dcs;
    ns += dns;
    // The main (JS) thread apart: Node's other threads share its name.
    const name = tid === String(after.pid) ? 'main' : t.comm;
    const slot = byName[name] || (byName[name] = { threads: 0, cs: 0, cpuMs: 0 });
    slot.threads++;
    slot.cs += dcs;
    slot.cpuMs = Math.round((slot.cpuMs + dns / 1e6) * 1000) / 1000;
  }
  let lostThreads = 0;
  for (const tid of before.threads.keys()) if (!after.threads.has(tid)) lostThreads++;
  return { cs, cpuNs: ns, threads: after.threads.size, lostThreads, byName };
}

/** VmRSS in MiB, or null when the process is gone. */
function rssMiB(pid) {
  const status = read(`/proc/${pid}/status`);
  const m = status && /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) / 1024 : null;
}

module.exports = { threads, snapshot, delta, rssMiB };
