'use strict';
// The IPC echo load of the bench fixture's primary (bench/server.js): keeps a
// window of messages in flight, spread evenly over the workers, each echoed
// straight back by its worker, and counts the round trips.
//
// A run: warm-up (timed), drain, optional gate (the harness attaches strace
// there), then the measurement, timed (`ms`) or counted (`count`), then
// drain. The primary snapshots its own threads and its workers' (bench/proc.js)
// at the start and end of the measurement, so no pipe to the harness blurs
// the window.
// Only the cluster API is used (worker.send, the worker's 'message'), so
// any module that follows node:cluster's API can be measured.
const proc = require('./proc');

/** An object whose JSON text is `bytes` long (advanced sends the same object). */
function payload(bytes) {
  const overhead = JSON.stringify({ i: 1000000, pad: '' }).length;
  return 'x'.repeat(Math.max(0, bytes - overhead));
}

/**
 * @param {object[]} workers  online cluster workers
 * @param {object} o  { window (in all), bytes, warmupMs, ms | count, gate? }
 * @returns {Promise<object>} { roundTrips, ms, perSec, cs, cpuNs, workerCpuNs, ... } or { error }
 */
function echoRun(workers, o) {
  return new Promise((resolve) => {
    const pad = payload(o.bytes);
    const perWorker = Math.max(1, Math.round(o.window / workers.length));
    const state = workers.map((w) => ({ w, sent: 0, received: 0 }));
    let phase = 'warmup';
    let inFlight = 0;
    let measured = 0;
    let sentMeasured = 0;
    let onDrained = null;
    let t0 = 0n;
    let snap0 = null;
    let workerSnaps0 = null;
    let result = null;
    let finished = false;
    let stall = null;
    let echoes = 0;

    function finish(r) {
      if (finished) return;
      finished = true;
      clearInterval(stall);
      for (const s of state) {
        s.w.removeListener('message', s.onMessage);
        s.w.removeListener('error', s.onError);
        s.w.removeListener('exit', s.onExit);
      }
      resolve(r);
    }

    // A stalled echo fails the run. Checked once a second, not re-armed per
    // message: a timer per round trip would cost the primary more than some
    // modules' whole round trip and narrow every ratio.
    function watchStall() {
      clearInterval(stall);
      let last = echoes;
      let idle = 0;
      stall = setInterval(() => {
        if (echoes !== last || inFlight === 0) {
          last = echoes;
          idle = 0;
        } else if (++idle >= 10) {
          finish({ error: `an echo did not come back within 10 s (phase ${phase})` });
        }
      }, 1000);
    }

    function sendOne(s) {
      inFlight++;
      if (phase === 'measure') sentMeasured++;
      s.w.send({ i: s.sent++, pad });
    }

    function fill() {
      for (const s of state) {
        for (let k = 0; k < perWorker && canSend(); k++) sendOne(s);
      }
    }

    function canSend() {
      if (phase === 'warmup') return true;
      if (phase === 'measure') return o.count == null || sentMeasured < o.count;
      return false;
    }

    function endMeasure() {
      const t1 = process.hrtime.bigint();
      const d = proc.delta(snap0, proc.snapshot(process.pid));
      // The workers' CPU, to tell a worker-bound rate from a primary-bound one.
      const workerCpuNs = workers.reduce((sum, w, k) => sum + proc.delta(workerSnaps0[k], proc.snapshot(w.process.pid)).cpuNs, 0);
      const ms = Number(t1 - t0) / 1e6;
      result = {
        roundTrips: measured,
        ms,
        perSec: measured / (ms / 1000),
        workers: workers.length,
        window: perWorker * workers.length,
        cs: d.cs,
        cpuNs: d.cpuNs,
        workerCpuNs,
        threads: d.threads,
        lostThreads: d.lostThreads,
        byName: d.byName,
      };
      phase = 'done';
      drain(() => finish(result));
    }

    function drain(then) {
      if (inFlight === 0) then();
      else onDrained = then;
    }

    for (const s of state) {
      s.onMessage = (echo) => {
        if (finished) return;
        if (echo === null || typeof echo !== 'object' || echo.i !== s.received ||
            typeof echo.pad !== 'string' || echo.pad.length !== pad.length) {
          finish({ error: `bad echo #${s.received} from worker ${s.w.id}: ${JSON.stringify(echo).slice(0, 120)}` });
          return;
        }
        s.received++;
        echoes++;
        inFlight--;
        if (phase === 'measure') {
          measured++;
          if (o.count != null && measured === o.count) { endMeasure(); return; }
        }
        if (canSend()) sendOne(s);
        else if (inFlight === 0 && onDrained) {
          const then = onDrained;
          onDrained = null;
          then();
        }
      };
      s.onError = (err) => finish({ error: `worker ${s.w.id} error: ${err.message}` });
      s.onExit = (code, signal) => finish({ error: `worker ${s.w.id} exited (${signal || code})` });
      s.w.on('message', s.onMessage);
      s.w.on('error', s.onError);
      s.w.on('exit', s.onExit);
    }

    function measure() {
      phase = 'measure';
      workerSnaps0 = workers.map((w) => proc.snapshot(w.process.pid));
      snap0 = proc.snapshot(process.pid);
      t0 = process.hrtime.bigint();
      watchStall();
      fill();
      if (o.count == null) setTimeout(endMeasure, o.ms);
    }

    watchStall();
    fill();
    setTimeout(() => {
      phase = 'drain';
      drain(async () => {
        clearInterval(stall);
        if (o.gate) {
          try {
            await o.gate();
          } catch (err) {
            finish({ error: String(err.message || err) });
            return;
          }
        }
        measure();
      });
    }, o.warmupMs);
  });
}

module.exports = { echoRun, payload };
