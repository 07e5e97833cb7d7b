'use strict';
// A primary that does nothing: it starts one worker of Node's own cluster
// module (the same echo as the bench fixture's, unmodified) on a socket of
// its own, writes `WINDOW` json messages and sends every complete line that
// comes back straight back, without decoding it. What it reaches is what
// Node's worker allows when the primary costs almost nothing; docs/engine.md
// compares it with node:cluster for json 64 KiB.
//
//   node bench/raw-echo.js [bytes=65536] [window=64] [ms=3000] [warmupMs=1500]
//
// Prints one JSON line: round trips/s, and the CPU per round trip of the
// primary and of the worker (all threads, read as the bench reads them:
// bench/proc.js). json only (advanced frames would need their length
// prefix read).
const { spawn } = require('node:child_process');
const { payload } = require('./echo');
const proc = require('./proc');

if (process.argv[2] === 'worker') {
  process.on('message', (msg) => process.send(msg));
} else {
  main(process.argv.slice(2).map(Number));
}

function main([bytes = 65536, window = 64, ms = 3000, warmupMs = 1500]) {
  // Node's child sets up its channel (and, with NODE_UNIQUE_ID, cluster's
  // worker side) from these, as when node:cluster forks it.
  const child = spawn(process.execPath, [__filename, 'worker'], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, NODE_CHANNEL_FD: '3', NODE_CHANNEL_SERIALIZATION_MODE: 'json', NODE_UNIQUE_ID: '1' },
  });
  const sock = child.stdio[3];
  const line = Buffer.from(`${JSON.stringify({ i: 0, pad: payload(bytes) })}\n`);
  const internal = Buffer.from('{"cmd":"NODE_');
  let echoes = 0;
  let started = false;
  let tail = null;

  sock.on('data', (chunk) => {
    const data = tail ? Buffer.concat([tail, chunk]) : chunk;
    let start = 0;
    let end;
    while ((end = data.indexOf(10, start)) !== -1) {
      if (data.compare(internal, 0, internal.length, start, start + internal.length) === 0) {
        // The worker's 'online': start.
        if (!started) {
          started = true;
          for (let k = 0; k < window; k++) sock.write(line);
          setTimeout(measure, warmupMs);
        }
      } else {
        echoes++;
        sock.write(data.subarray(start, end + 1));
      }
      start = end + 1;
    }
    tail = start < data.length ? Buffer.from(data.subarray(start)) : null;
  });

  function measure() {
    const e0 = echoes;
    const t0 = process.hrtime.bigint();
    const primary0 = proc.snapshot(process.pid);
    const worker0 = proc.snapshot(child.pid);
    setTimeout(() => {
      const n = echoes - e0;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const usPerRoundTrip = (snap) => +(proc.delta(snap, proc.snapshot(snap.pid)).cpuNs / 1e3 / n).toFixed(2);
      console.log(JSON.stringify({
        bytes, window, perSec: Math.round(n / seconds),
        primaryUsPerRoundTrip: usPerRoundTrip(primary0),
        workerUsPerRoundTrip: usPerRoundTrip(worker0),
      }));
      child.kill();
      process.exit(0);
    }, ms);
  }
}
