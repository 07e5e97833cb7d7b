'use strict';
// `rust-cluster top`: a live view of the cluster, refreshed every second:
// workers, connections per second, RSS, CPU, restarts. Fits 80 columns;
// quit with q or Ctrl-C. On a terminal it draws on the alternate screen;
// otherwise it prints one frame after another (for pipes and logs).
const fmt = require('./format');

const ESC = '\x1b[';

/** One frame: lines for snapshot `s`, rates against the `prev` one. */
function frame(name, s, prev, seconds) {
  const before = new Map(prev ? prev.workers.map((w) => [w.id, w]) : []);
  const rate = (now, then) => (then === undefined || now === null || then === null || seconds <= 0 ? null
    : Math.max(0, (now - then) / seconds));
  const cpuOf = (w) => (w && w.cpu ? w.cpu.user + w.cpu.system : null);
  const rows = [['ID', 'PID', 'STATE', 'UPTIME', 'CONN/S', 'OPEN', 'RSS', 'CPU%', 'RESTARTS']];
  let connTotal = null;
  for (const w of s.workers) {
    const old = before.get(w.id);
    const conns = rate(w.connections.handed, old && old.connections.handed);
    const cpu = rate(cpuOf(w), old ? cpuOf(old) : undefined);
    if (conns !== null) connTotal = (connTotal || 0) + conns;
    rows.push([w.id, w.pid ?? '-', w.state.slice(0, 11), fmt.duration(w.uptime),
      conns === null ? '-' : conns.toFixed(conns < 10 ? 1 : 0), fmt.count(w.connections.open),
      fmt.bytes(w.rss), cpu === null ? '-' : (cpu * 100).toFixed(0), w.restarts]);
  }
  const t = s.totals;
  return [
    `${name || 'rust-cluster'} - primary ${s.primary.pid}, up ${fmt.duration(s.primary.uptime)}, RSS ${fmt.bytes(s.primary.rss)}`
      .slice(0, 80),
    `workers ${t.active} serving / ${t.workers} running   conn/s ${connTotal === null ? '-' : connTotal.toFixed(1)}` +
      `   restarts ${t.restarts}   crashes ${t.crashes}`,
    '',
    ...fmt.table(rows, new Set([2])),
  ];
}

/**
 * Run the view against `client` until q, Ctrl-C, or the primary goes away.
 * Resolves to the exit code.
 */
function run(client, name, { interval = 1000, stdin = process.stdin, stdout = process.stdout } = {}) {
  const tty = Boolean(stdout.isTTY);
  let prev = null;
  let prevAt = 0;
  let timer = null;
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  let ended = false;

  function end(code, message) {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    if (stdin.isTTY && typeof stdin.setRawMode === 'function') stdin.setRawMode(false);
    stdin.removeListener('data', onKey);
    // A paused pipe still holds the event loop: let go of it.
    if (stdin === process.stdin) stdin.destroy();
    else stdin.pause();
    process.removeListener('SIGINT', onSigint);
    if (tty) stdout.write(`${ESC}?25h${ESC}?1049l`);
    if (message) process.stderr.write(`${message}\n`);
    client.close();
    finish(code);
  }

  function onKey(data) {
    const text = String(data);
    if (text.includes('q') || text.includes('Q') || text.includes('\x03')) end(0);
  }
  function onSigint() {
    end(0);
  }

  async function tick() {
    let s;
    try {
      s = await client.request('status');
    } catch (err) {
      return end(1, `rust-cluster top: ${err.message}`);
    }
    if (ended) return undefined;
    const now = Date.now();
    const lines = frame(name, s, prev, (now - prevAt) / 1000);
    prev = s;
    prevAt = now;
    const footer = 'q: quit';
    if (tty) {
      const rows = stdout.rows || 24;
      const shown = lines.slice(0, rows - 2).map((l) => `${l.slice(0, (stdout.columns || 80))}${ESC}K`);
      stdout.write(`${ESC}H${shown.join('\n')}\n\n${footer}${ESC}K${ESC}J`);
    } else {
      stdout.write(`${lines.join('\n')}\n\n`);
    }
    timer = setTimeout(tick, interval);
    return undefined;
  }

  // The reader went away (top | head): quit quietly.
  stdout.on('error', () => end(0));
  if (stdin.isTTY && typeof stdin.setRawMode === 'function') stdin.setRawMode(true);
  stdin.on('data', onKey);
  stdin.resume();
  process.on('SIGINT', onSigint);
  if (tty) stdout.write(`${ESC}?1049h${ESC}?25l${ESC}H${ESC}2J`);
  tick();
  return done;
}

module.exports = { run, frame };
