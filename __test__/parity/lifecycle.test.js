'use strict';
// (a) fork -> online -> listening -> disconnect -> exit on both emitters, with
// the worker's state at each event; (b) every way a worker can end.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const {
  compareImpls, primaryEvents, workerEvents, perWorker, settleDisconnectExit,
  CONCURRENCY, scaled,
} = require('../helpers/harness');

describe('parity/lifecycle', { concurrency: CONCURRENCY }, () => {
  test('lifecycle: event order and worker state on Worker and cluster emitters', { timeout: scaled(60000) }, async (t) => {
    const normalize = (r) => {
      const prim = primaryEvents(r.events);
      const global = prim.filter((e) => ['primary', 'forked', 'all-forked', 'cluster:fork'].includes(e.ev));
      const byId = perWorker(prim.filter((e) => e.id !== undefined && !global.includes(e)));
      for (const id of Object.keys(byId)) {
        byId[id] = settleDisconnectExit(byId[id].map((e) => (e.address ? { ...e, address: { ...e.address, port: 'PORT' } } : e)));
      }
      return { global, byId, workers: workerEvents(r.events), last: prim[prim.length - 1] };
    };
    const check = (r) => {
      const prim = primaryEvents(r.events);
      const listening = prim.filter((e) => /:listening$/.test(e.ev));
      assert.equal(listening.length, 4);
      const ports = new Set(listening.map((e) => e.address.port));
      assert.equal(ports.size, 1, 'every worker listen(0)s on the same port');
      assert.ok([...ports][0] > 0);
      // 'fork' is emitted on a later tick than fork() returns.
      const iAll = prim.findIndex((e) => e.ev === 'all-forked');
      assert.ok(prim.findIndex((e) => e.ev === 'cluster:fork') > iAll);
      // All disconnect() calls happen before any disconnect/exit event.
      const lastCall = prim.map((e) => e.ev).lastIndexOf('disconnect-called');
      const firstDE = prim.findIndex((e) => /:(disconnect|exit)$/.test(e.ev));
      assert.ok(lastCall >= 0 && lastCall < firstDE);
      for (const e of prim.filter((x) => /:exit$/.test(x.ev))) {
        assert.equal(e.code, 0);
        assert.equal(e.signal, null);
        assert.equal(e.eAD, true);
        assert.equal(e.state, 'dead');
      }
      assert.deepEqual(prim[prim.length - 1], { ev: 'primary-exit', code: 0, workers: [] });
    };
    await compareImpls(t, 'parity-lifecycle.js', { check }, normalize);
  });

  test('exit ways: kill/disconnect/exit from primary and worker (code, signal, exitedAfterDisconnect)', { timeout: scaled(90000) }, async (t) => {
    const normalize = (r) => {
      const byId = perWorker(primaryEvents(r.events));
      for (const id of Object.keys(byId)) byId[id] = settleDisconnectExit(byId[id]);
      return { byId, workers: workerEvents(r.events) };
    };
    const expected = {
      'primary-kill': [null, 'SIGTERM', false],
      'primary-kill-SIGKILL': [null, 'SIGKILL', false],
      'primary-kill-SIGINT': [null, 'SIGINT', false],
      'primary-destroy': [null, 'SIGTERM', false],
      'primary-disconnect': [0, null, true],
      'primary-process-kill': [null, 'SIGTERM', false],
      'worker-exit-0': [0, null, false],
      'worker-exit-3': [3, null, false],
      'worker-disconnect': [0, null, true],
      'worker-kill': [0, null, true],
      'worker-kill-signal': [0, null, true],
      'worker-process-disconnect': [0, null, false],
      'worker-self-SIGTERM': [null, 'SIGTERM', false],
      'worker-throw': [1, null, false],
    };
    const check = (r) => {
      const exits = primaryEvents(r.events).filter((e) => e.ev === 'worker:exit');
      assert.equal(exits.length, Object.keys(expected).length);
      for (const e of exits) {
        assert.deepEqual([e.code, e.signal, e.eAD], expected[e.way], e.way);
      }
    };
    await compareImpls(t, 'parity-exit-ways.js', { check, timeout: 60000 }, normalize);
  });

  for (const warm of [false, true]) {
    test(`a worker's last message, disconnect and exit, all waiting for a busy primary, come in node:cluster's order${warm ? ' (worker that sent before)' : ''}`, { timeout: scaled(30000) }, async (t) => {
      // The order is the host's: message, disconnect, exit under Node 18-22;
      // Node 24 reads the end of the channel a turn later, after the exit.
      const check = (r) => assert.deepEqual(r.events.map((e) => e.ev).sort(), [...(warm ? ['message'] : []), 'disconnect', 'exit', 'message'].sort());
      await compareImpls(t, 'parity-busy-primary-exit.js', { env: warm ? { WARM: '1' } : {}, check });
    });
  }

  for (const name of ['idle', 'listening', 'ref']) {
    test(`worker.process.channel.unref() in the primary (${name})`, { timeout: scaled(30000) }, async (t) => {
      const check = (r) => {
        const evs = r.events.map((e) => e.ev);
        assert.deepEqual(evs, name === 'idle' ? ['unref', 'primary-exit'] : ['unref', 'still-alive', 'primary-exit']);
      };
      // CASE=idle: the primary leaves before its disconnected worker.
      await compareImpls(t, 'parity-channel-unref.js', { env: { CASE: name }, check, strays: true });
    });
  }
  // The primary accepts for a listening worker under leastconn and sticky as
  // under round robin: an unref'd channel keeps it alive the same way.
  for (const policy of ['SCHED_LEASTCONN', 'SCHED_STICKY']) {
    test(`worker.process.channel.unref() in the primary (listening, ${policy} vs round robin)`,
      { timeout: scaled(30000) }, async (t) => {
        const check = (r) => assert.deepEqual(r.events.map((e) => e.ev), ['unref', 'still-alive', 'primary-exit']);
        await compareImpls(t, 'parity-channel-unref.js', { env: { CASE: 'listening', POLICY: policy }, check, strays: true });
      });
  }
});

test('worker.process.channel: an EventEmitter with ref/unref/fd, _channel deprecated, null when gone', { timeout: scaled(60000) }, async (t) => {
  const check = (r) => assert.ok(r.events.some((e) => e.ev === 'warning' && e.code === 'DEP0129'), 'DEP0129 warned');
  await compareImpls(t, 'parity-channel-object.js', { check });
});

test('worker.process.disconnect() from the primary: channel gone at once, \'disconnect\' on the next tick', { timeout: scaled(60000) }, async (t) => {
  const check = (r) => {
    const primary = primaryEvents(r.events).map((e) => e.ev);
    assert.deepEqual(primary.slice(0, 3), ['after disconnect()', 'disconnect', 'send callback']);
  };
  await compareImpls(t, 'parity-process-disconnect.js', { check }, (r) => ({
    primary: primaryEvents(r.events),
    worker: workerEvents(r.events),
  }));
});
