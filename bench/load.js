'use strict';
// The HTTP load generators: wrk (preferred) or autocannon, run in their own
// process (pinnable with taskset) for a duration or a number of responses.
// Each run resolves to { requests, seconds, rps, non2xx, errors, timeouts }
// or { error }.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { track, withPin } = require('./fixture');

const ROOT = path.resolve(__dirname, '..');

/** Full path of an executable on PATH, or null. */
function onPath(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return path.join(dir, cmd);
    } catch { /* next */ }
  }
  return null;
}

function parseWrkTime(value, unit) {
  const n = Number(value);
  switch (unit) {
    case 'us': return n / 1e6;
    case 'ms': return n / 1e3;
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    default: return NaN;
  }
}

function runWrk({ port, connections, close, seconds, count, pinCpus }) {
  // wrk takes whole seconds; a counted run stops early (wrk-count.lua).
  const duration = count ? Math.max(30, Math.ceil(count / 500)) : Math.max(1, Math.round(seconds));
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--timeout', '10s'];
  if (close) args.push('-H', 'Connection: close');
  if (count) args.push('-s', path.join(__dirname, 'wrk-count.lua'));
  args.push(`http://127.0.0.1:${port}/`);
  const [cmd, cmdArgs] = withPin(pinCpus, 'wrk', args);
  return new Promise((resolve) => {
    const child = track(spawn(cmd, cmdArgs, {
      env: { ...process.env, BENCH_WRK_LIMIT: String(count || 0) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    let out = '';
    let err = '';
    let stopped = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      if (count && !stopped && out.includes('BENCH_DONE')) {
        stopped = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      const m = /(\d+) requests in ([\d.]+)(us|ms|s|m|h),/.exec(out);
      if (!m) {
        resolve({ error: `wrk failed (${signal || code}): ${(err || out).trim().slice(0, 300)}` });
        return;
      }
      const requests = Number(m[1]);
      const secondsRun = parseWrkTime(m[2], m[3]);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const non = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      const errors = sock ? Number(sock[1]) + Number(sock[2]) + Number(sock[3]) : 0;
      const timeouts = sock ? Number(sock[4]) : 0;
      const non2xx = non ? Number(non[1]) : 0;
      const result = { requests, seconds: secondsRun, rps: requests / secondsRun, non2xx, errors, timeouts };
      if (sock) result.socketErrors = sock[0];
      if (count && !stopped) result.error = `wrk stopped after ${requests} of ${count} responses`;
      resolve(result);
    });
  });
}

function runAutocannon({ port, connections, close, seconds, count, pinCpus }) {
  const opts = { url: `http://127.0.0.1:${port}/`, connections, close };
  if (count) opts.amount = count;
  else opts.duration = seconds;
  const [cmd, args] = withPin(pinCpus, process.execPath, [path.join(__dirname, 'autocannon-load.js'), JSON.stringify(opts)]);
  return new Promise((resolve) => {
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT }));
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      let r;
      try { r = JSON.parse(out.trim().split('\n').pop()); } catch { r = null; }
      if (!r || r.error) {
        resolve({ error: `autocannon failed (${signal || code}): ${(r && r.error) || (err || out).trim().slice(0, 300)}` });
        return;
      }
      resolve({
        requests: r.requests,
        seconds: r.seconds,
        rps: r.requests / r.seconds,
        non2xx: r.non2xx,
        errors: Math.max(0, r.errors - r.timeouts),
        timeouts: r.timeouts,
      });
    });
  });
}

/** The generator to use: `want` (wrk | autocannon) or the best installed. */
function pickGenerator(want) {
  const wrk = onPath('wrk');
  let autocannonOk = true;
  try { require.resolve('autocannon', { paths: [ROOT] }); } catch { autocannonOk = false; }
  const name = want || (wrk ? 'wrk' : 'autocannon');
  if (name !== 'wrk' && name !== 'autocannon') throw new Error(`unknown generator ${name}`);
  if (name === 'wrk' && !wrk) throw new Error('wrk is not installed (apt-get install wrk)');
  if (name === 'autocannon' && !autocannonOk) {
    throw new Error('no load generator: install wrk, or autocannon (npm install, it is a devDependency)');
  }
  if (name === 'wrk') {
    const out = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
    const m = /^wrk\s+\S+/m.exec(`${out.stdout || ''}${out.stderr || ''}`);
    return { name, version: m ? m[0] : 'wrk', run: runWrk };
  }
  const version = require(require.resolve('autocannon/package.json', { paths: [ROOT] })).version;
  return { name, version: `autocannon ${version}`, run: runAutocannon };
}

module.exports = { pickGenerator, onPath };
