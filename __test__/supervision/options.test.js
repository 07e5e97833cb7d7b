'use strict';
// cluster.supervise() checks its options with Node-style errors, and adds
// nothing enumerable to the cluster object.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const cluster = require('../..');

test('supervise() rejects bad options with ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE / ERR_INVALID_ARG_VALUE', () => {
  const cases = [
    [{ respawn: 'yes' }, TypeError, 'ERR_INVALID_ARG_TYPE', /"options.respawn" property must be one of type boolean or object/],
    [{ respawn: { minDelay: -1 } }, RangeError, 'ERR_OUT_OF_RANGE', /options.respawn.minDelay/],
    [{ shutdown: { timeout: 1.5 } }, RangeError, 'ERR_OUT_OF_RANGE', /options.shutdown.timeout/],
    [{ shutdown: { signals: ['SIGNOPE'] } }, TypeError, 'ERR_INVALID_ARG_VALUE', /options.shutdown.signals\[0\]/],
    [{ heartbeat: { interval: '1s' } }, TypeError, 'ERR_INVALID_ARG_TYPE', /options.heartbeat.interval/],
    [{ maxRss: 0 }, RangeError, 'ERR_OUT_OF_RANGE', /options.maxRss/],
    [{ reloadSignal: 'HUP' }, TypeError, 'ERR_INVALID_ARG_VALUE', /options.reloadSignal/],
    [{ statsPort: 70000 }, RangeError, 'ERR_OUT_OF_RANGE', /options.statsPort/],
    [{ scaleSignals: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', /options.scaleSignals/],
    [{ control: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', /"options.control" property must be one of type boolean, string, or object/],
    [{ control: { name: 'a/b' } }, TypeError, 'ERR_INVALID_ARG_VALUE', /options.control.name/],
    [{ control: { name: 7 } }, TypeError, 'ERR_INVALID_ARG_TYPE', /options.control.name/],
    [{ control: '' }, TypeError, 'ERR_INVALID_ARG_VALUE', /options.control.path/],
    [{ maxRequests: 0 }, RangeError, 'ERR_OUT_OF_RANGE', /options.maxRequests/],
    [{ maxRequestsJitter: -1 }, RangeError, 'ERR_OUT_OF_RANGE', /options.maxRequestsJitter/],
    [{ readySignal: 'yes' }, TypeError, 'ERR_INVALID_ARG_TYPE', /options.readySignal/],
    [{ notify: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', /options.notify/],
    [{ reloadRetries: 1000 }, RangeError, 'ERR_OUT_OF_RANGE', /options.reloadRetries/],
    [{ upgradeSignal: 'USR2' }, TypeError, 'ERR_INVALID_ARG_VALUE', /options.upgradeSignal/],
    [{ upgradeSignal: 2 }, TypeError, 'ERR_INVALID_ARG_TYPE', /options.upgradeSignal/],
    [{ upgradeTimeout: 0 }, RangeError, 'ERR_OUT_OF_RANGE', /options.upgradeTimeout/],
    ['all', TypeError, 'ERR_INVALID_ARG_TYPE', /"options" argument must be of type object/],
  ];
  for (const [options, Class, code, message] of cases) {
    assert.throws(() => cluster.supervise(options), (err) => {
      assert.ok(err instanceof Class, `${JSON.stringify(options)}: ${err}`);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('the supervision functions are not own enumerable keys of the cluster object', () => {
  for (const name of ['supervise', 'reload', 'scale', 'stats', 'shutdown', 'upgrade']) {
    assert.equal(typeof cluster[name], 'function');
    assert.ok(!Object.keys(cluster).includes(name), name);
  }
});

test('upgrade() rejects bad options before it starts anything', async () => {
  const cases = [
    ['soon', TypeError, 'ERR_INVALID_ARG_TYPE', /"options" argument must be of type object/],
    [{ timeout: '5s' }, TypeError, 'ERR_INVALID_ARG_TYPE', /"options.timeout" property must be of type number/],
    [{ timeout: 0 }, RangeError, 'ERR_OUT_OF_RANGE', /options.timeout/],
  ];
  for (const [options, Class, code, message] of cases) {
    await assert.rejects(cluster.upgrade(options), (err) => {
      assert.ok(err instanceof Class, `${JSON.stringify(options)}: ${err}`);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return true;
    });
  }
});
