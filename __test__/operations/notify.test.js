'use strict';
// systemd's notify protocol, heard on a datagram socket bound here as
// systemd would: READY=1 once the first workers listen, RELOADING=1 and
// READY=1 around a reload, STOPPING=1 at shutdown, WATCHDOG=1 every
// WATCHDOG_USEC / 2.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { FIXTURES, runtimeDir, startProcess, startCli, CLI, until, notifySocket } = require('./helpers');

/** The notify socket at `address`; messages as { at, fields, text }. */
async function listen(address) {
  const socket = notifySocket(address);
  await socket.ready;
  const messages = {
    filter: (f) => parsed().filter(f),
    some: (f) => parsed().some(f),
    map: (f) => parsed().map(f),
  };
  function parsed() {
    return socket.heard.map(({ at, text }) => ({
      at,
      text,
      fields: Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
    }));
  }
  return { socket, messages };
}

test('READY=1 after the first workers listen, RELOADING=1/READY=1 around a reload, STOPPING=1, WATCHDOG=1 at half WATCHDOG_USEC', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-notify-'));
  const address = path.join(dir, 'notify');
  const { socket, messages } = await listen(address);
  const env = { XDG_RUNTIME_DIR: runtimeDir(), NOTIFY_SOCKET: address, WATCHDOG_USEC: '400000' };
  const p = startProcess([CLI, '-w', '2', path.join(FIXTURES, 'app.js'), '0'], { env });
  t.after(() => p.kill());
  const with_ = (key) => messages.filter((m) => key in m.fields);
  try {
    await until(() => with_('READY').length === 1, 30000, 'READY=1');
    const ready = with_('READY')[0];
    // Both workers listened before it.
    assert.equal((p.stderr().match(/up, listening/g) || []).length, 2, p.stderr());
    assert.equal(ready.fields.MAINPID, String(p.child.pid));
    assert.equal(ready.fields.STATUS, '2 workers serving');

    // The watchdog: fed every 200 ms from the primary's event loop.
    const fed = with_('WATCHDOG').length;
    await until(() => with_('WATCHDOG').length >= fed + 5, 20000, 'five more WATCHDOG=1');
    const beats = with_('WATCHDOG').slice(-5).map((m) => m.at);
    console.log(`# watchdog intervals (ms) with WATCHDOG_USEC=400000: ${beats.slice(1).map((t, i) => t - beats[i]).join(', ')}`);

    p.child.kill('SIGHUP');
    await p.waitErr(/reload done: 2 workers replaced/);
    await until(() => with_('READY').length === 2, 10000, 'READY=1 after the reload');
    const reloading = with_('RELOADING');
    assert.equal(reloading.length, 1);
    assert.match(reloading[0].fields.MONOTONIC_USEC, /^\d+$/);
    assert.ok(reloading[0].at <= with_('READY')[1].at);
    assert.match(with_('READY')[1].fields.STATUS, /last reload: 2 replaced, 0 failed/);

    p.child.kill('SIGTERM');
    assert.equal((await p.closed).code, 0);
    await until(() => with_('STOPPING').length === 1, 5000, 'STOPPING=1');
    // Nothing but these, in this order.
    const kinds = messages.map((m) => Object.keys(m.fields)[0]).filter((k) => k !== 'WATCHDOG');
    assert.deepEqual(kinds, ['READY', 'RELOADING', 'READY', 'STOPPING']);
  } finally {
    socket.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an abstract NOTIFY_SOCKET (@name) is used as such; a WATCHDOG_PID of another process turns the watchdog off', async (t) => {
  const name = `rust-cluster-test-${process.pid}-${Date.now()}`;
  const { socket, messages } = await listen(`@${name}`);
  const env = { XDG_RUNTIME_DIR: runtimeDir(), NOTIFY_SOCKET: `@${name}`, WATCHDOG_USEC: '100000', WATCHDOG_PID: '1' };
  const p = await startCli(['-w', '1'], path.join(FIXTURES, 'app.js'), ['0'], { env, workers: 1 });
  t.after(() => p.kill());
  try {
    await until(() => messages.some((m) => 'READY' in m.fields), 30000, 'READY=1');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(messages.filter((m) => 'WATCHDOG' in m.fields).length, 0);
  } finally {
    p.child.kill('SIGTERM');
    await p.closed;
    socket.close();
  }
});
