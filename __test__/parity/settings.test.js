'use strict';
// (j) setupPrimary()/settings/'setup', (k) silent and stdio, (l) cwd,
// (m) fork(env), (n) cluster.disconnect(cb), (o) what the module and its
// Worker objects look like in the primary and in a worker.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const {
  compareImpls, primaryEvents, workerEvents, perWorker, sortByJSON, settleDisconnectExit,
  CONCURRENCY,
} = require('../helpers/harness');

describe('parity/settings', { concurrency: CONCURRENCY }, () => {
  test('setupPrimary: cumulative settings, setup event, settings only affect later forks', { timeout: 60000 }, async (t) => {
    const normalize = (r) => {
      const prim = primaryEvents(r.events);
      return { main: prim.filter((e) => e.ev !== 'exit'), exits: sortByJSON(prim.filter((e) => e.ev === 'exit')) };
    };
    const check = (r) => {
      const prim = primaryEvents(r.events);
      const reports = prim.filter((e) => e.ev === 'worker-report');
      assert.deepEqual(reports.map((e) => [e.script, e.args, e.execArgv]), [
        ['parity-setup.js', ['one'], ['--no-warnings']],
        ['parity-setup.js', ['two', '--flag'], []],
        ['parity-setup-alt.js', ['alt-arg'], []],
        ['parity-setup.js', [], []],
      ]);
      assert.equal(reports[2].extra, 'env-only');
      assert.deepEqual(prim.find((e) => e.ev === 'initial'), { ev: 'initial', settings: { keys: [], value: '{}' }, alias: true });
      assert.deepEqual(prim.find((e) => e.ev === 'after-setup-2').settings.keys, ['args', 'exec', 'execArgv', 'silent', 'customOption']);
      // One 'setup' per setupPrimary() call and per fork().
      assert.deepEqual(prim[prim.length - 1], { ev: 'done', setups: 10 });
    };
    await compareImpls(t, 'parity-setup.js', { check }, normalize);
  });

  const STDIO_MODES = {
    'default': { out: 'inherited', err: 'inherited' },
    'silent': { out: 'piped', err: 'piped' },
    'silent-false': { out: 'inherited', err: 'inherited' },
    'stdio-pipe-string': { out: 'piped', err: 'piped' },
    'stdio-extra-fd': { out: 'piped', err: 'piped', extra: 4 },
    'stdio-ipc-at-4': { out: 'piped', err: 'piped', extra: 3 },
    'stdio-ignore': { out: 'none', err: 'none' },
    'stdio-inherit-overrides-silent': { out: 'inherited', err: 'inherited' },
    'stdio-mixed': { out: 'piped', err: 'inherited' },
  };

  for (const [mode, want] of Object.entries(STDIO_MODES)) {
    test(`stdio: ${mode}`, { timeout: 60000 }, async (t) => {
      const normalize = (r) => ({
        byId: perWorker(primaryEvents(r.events)),
        // Worker output that went straight to the primary's stdout/stderr.
        inheritedOut: r.stdout.split('\n').filter((l) => /^out-\d$/.test(l)).sort(),
        inheritedErr: r.stderr.split('\n').filter((l) => /^err-\d$/.test(l)).sort(),
      });
      const check = (r) => {
        const n = normalize(r);
        for (const id of ['1', '2']) {
          const close = n.byId[id].find((e) => e.ev === 'close');
          assert.deepEqual([close.code, close.signal], [0, null]);
          const c = close.collected;
          assert.equal(c[1], want.out === 'piped' ? `out-${id}\n` : undefined);
          assert.equal(c[2], want.err === 'piped' ? `err-${id}\n` : undefined);
          if (want.extra) assert.equal(c[want.extra], `fd${want.extra}-${id}\n`);
        }
        assert.deepEqual(n.inheritedOut, want.out === 'inherited' ? ['out-1', 'out-2'] : []);
        assert.deepEqual(n.inheritedErr, want.err === 'inherited' ? ['err-1', 'err-2'] : []);
      };
      await compareImpls(t, 'parity-stdio.js', { env: { MODE: mode }, check }, normalize);
    });
  }

  test('cwd setting and fork(env): worker cwd, environment, NODE_UNIQUE_ID hidden', { timeout: 60000 }, async (t) => {
    const check = (r) => {
      const reports = Object.fromEntries(primaryEvents(r.events).filter((e) => e.ev === 'report').map((e) => [e.case, e]));
      assert.equal(Object.keys(reports).length, 10);
      assert.equal(reports['inherit-cwd'].cwd, '<primary cwd>');
      assert.equal(reports['cwd-relative'].cwd, '..');
      assert.equal(reports['cwd-undefined-again'].cwd, '<primary cwd>');
      assert.equal(reports['cwd-absolute'].values.FOO, 'bar');
      assert.deepEqual(reports['cwd-relative'].extra, ['BOOL', 'EMPTY', 'NUL', 'NUM']);
      assert.equal(reports['cwd-relative'].values.NUM, '42');
      assert.equal(reports['cwd-undefined-again'].values.OVERRIDE, 'from-fork');
      assert.deepEqual(reports['cwd-undefined-again'].missing, ['PRIMARY_ONLY']);
      assert.equal(reports['env-late-primary-change'].values.LATE, 'set-after-first-forks');
      for (const rep of Object.values(reports)) {
        assert.equal(rep.values.NODE_UNIQUE_ID, '<absent>', rep.case);
        assert.equal(rep.values.NODE_CHANNEL_FD, '<absent>', rep.case);
        assert.equal(rep.values.PRIMARY_ONLY, rep.case === 'cwd-undefined-again' ? '<absent>' : 'p');
      }
    };
    await compareImpls(t, 'parity-cwd-env.js', { check }, (r) => primaryEvents(r.events));
  });

  for (const mode of ['single', 'double', 'none-left', 'before-fork']) {
    test(`cluster.disconnect(cb): ${mode}`, { timeout: 60000 }, async (t) => {
      const normalize = (r) => primaryEvents(r.events).map((e) => {
        if (e.ev !== 'callback' || e.tag !== 'first' || mode === 'double') return e;
        // node:cluster runs the callback when the first worker is both
        // disconnected and dead (inside its last 'disconnect'/'exit'), so the
        // other workers may or may not have reported by then.
        return { ...e, disconnect: e.disconnect > 0 || e.exit > 0, exit: e.exit < 3 };
      });
      const check = (r) => {
        const prim = primaryEvents(r.events);
        const calls = prim.filter((e) => e.ev === 'callback').map((e) => e.tag);
        const expected = { single: ['first'], double: ['first', 'second'], 'none-left': ['first', 'none-left'], 'before-fork': ['no-workers'] }[mode];
        assert.deepEqual(calls, expected, 'each callback runs exactly once');
        if (mode !== 'before-fork') {
          assert.deepEqual(prim.find((e) => e.ev === 'all-exited'), { ev: 'all-exited', cbCalls: mode === 'double' ? 2 : 1, disconnect: 3, exit: 3, workers: 0 });
        }
      };
      await compareImpls(t, 'parity-cluster-disconnect.js', { env: { MODE: mode }, check }, normalize);
    });
  }

  test('introspection: isPrimary/isWorker, cluster.worker(s), Worker objects in primary and worker', { timeout: 60000 }, async (t) => {
    const normalize = (r) => {
      const prim = primaryEvents(r.events);
      const byId = perWorker(prim);
      for (const id of Object.keys(byId)) {
        if (id === '-' || id === '0') continue;
        byId[id] = settleDisconnectExit(byId[id].map((e) => (/:(disconnect|exit)$/.test(e.ev)
          ? { ...e, inWorkers: e.workers.includes(id), workers: undefined } : e)));
      }
      return byId;
    };
    const check = (r) => {
      const prim = primaryEvents(r.events);
      const p = prim[0];
      assert.deepEqual([p.isPrimary, p.isMaster, p.isWorker, p.hasWorkerKey, p.worker], [true, true, false, false, '<undefined>']);
      const views = prim.filter((e) => e.ev === 'worker-view');
      assert.equal(views.length, 2);
      for (const v of views) {
        assert.deepEqual([v.isPrimary, v.isMaster, v.isWorker, v.workers, v.fork, v.processIsGlobal, v.isWorkerInstance],
          [false, false, true, 'undefined', 'undefined', true, true]);
      }
      const objs = prim.filter((e) => e.ev === 'worker-object');
      for (const o of objs) assert.equal(o.processIsChild, true, 'worker.process is a ChildProcess');
      assert.deepEqual(prim[prim.length - 1], { ev: 'end', id: 0, workers: [], sameObject: true });
    };
    await compareImpls(t, 'parity-introspection.js', { check }, normalize);
  });

  test('inspectPort setting and inspector flags in execArgv', { timeout: 60000 }, async (t) => {
    const check = (r) => {
      const cases = Object.fromEntries(primaryEvents(r.events).filter((e) => e.ev === 'case').map((e) => [e.name, e]));
      const base = primaryEvents(r.events)[0].debugPort;
      assert.deepEqual(cases['default, no inspector flag'].execArgv, []);
      assert.deepEqual(cases['--inspect-port=0 in execArgv'].execArgv, ['--inspect-port=0', `--inspect-port=${base + 1}`]);
      assert.equal(cases['again (next port)'].debugPort, base + 2);
      assert.equal(cases['inspectPort: function'].debugPort, 23456);
      assert.equal(cases['inspectPort: "abc"'].threw.code, 'ERR_SOCKET_BAD_PORT');
    };
    await compareImpls(t, 'parity-inspect-port.js', { check }, (r) => primaryEvents(r.events));
  });

  test('the primary\'s inspector starting starts the workers\' (NODE_DEBUG_ENABLED)', { timeout: 60000 }, async (t) => {
    const check = (r) => {
      const active = r.events.filter((e) => e.msg === 'inspector-active').map((e) => e.id).sort();
      assert.deepEqual(active, [1, 2]);
    };
    // Which worker reports first is a race: compare sets.
    const normalize = (r) => sortByJSON(r.events);
    await compareImpls(t, 'parity-debug-enabled.js', { check }, normalize);
  });
});
