'use strict';
// The options of cluster.supervise(), validated and completed with defaults.
const os = require('node:os');
const errors = require('../errors');
const controlPaths = require('./control-paths');

const DEFAULTS = {
  drainTimeout: 10000,
  listenTimeout: 30000,
  respawn: { minDelay: 100, maxDelay: 10000, maxCrashes: 5, crashWindow: 60000 },
  shutdown: { timeout: 10000, signals: ['SIGTERM', 'SIGINT'], exit: true },
  heartbeat: { interval: 1000, timeout: 5000 },
  // How many times reload() forks again a replacement that died before it
  // was ready, before it gives up on that worker.
  reloadRetries: 2,
  // How long the new primary of an upgrade may take to serve and take over.
  upgradeTimeout: 30000,
};

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function integer(value, name, min, max = 2 ** 31 - 1) {
  if (typeof value !== 'number') throw errors.invalidArgType(name, 'number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw errors.outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

function signalName(value, name) {
  if (typeof value !== 'string') throw errors.invalidArgType(name, 'string', value);
  if (!Object.prototype.hasOwnProperty.call(os.constants.signals, value)) {
    throw errors.invalidArgValue(name, value, 'must be a signal name such as \'SIGHUP\'');
  }
  return value;
}

// `true` -> defaults, `false`/undefined -> null, an object -> its numbers
// checked and the rest from defaults.
function section(value, name, defaults, check) {
  if (value === undefined || value === false || value === null) return null;
  if (value === true) return { ...defaults };
  if (!isObject(value)) throw errors.invalidArgType(name, ['boolean', 'Object'], value);
  const out = { ...defaults };
  for (const key of Object.keys(defaults)) {
    if (value[key] !== undefined) out[key] = check(key, value[key], `${name}.${key}`);
  }
  return out;
}

function normalize(options = {}) {
  if (!isObject(options)) throw errors.invalidArgType('options', 'Object', options);
  const o = {};
  o.drainTimeout = options.drainTimeout === undefined ? DEFAULTS.drainTimeout
    : integer(options.drainTimeout, 'options.drainTimeout', 0);
  o.listenTimeout = options.listenTimeout === undefined ? DEFAULTS.listenTimeout
    : integer(options.listenTimeout, 'options.listenTimeout', 1);
  o.respawn = section(options.respawn, 'options.respawn', DEFAULTS.respawn,
    (key, v, name) => integer(v, name, key === 'maxCrashes' ? 1 : 0));
  if (o.respawn && o.respawn.maxDelay < o.respawn.minDelay) o.respawn.maxDelay = o.respawn.minDelay;
  o.shutdown = section(options.shutdown, 'options.shutdown', DEFAULTS.shutdown, (key, v, name) => {
    if (key === 'timeout') return integer(v, name, 0);
    if (key === 'exit') {
      if (typeof v !== 'boolean') throw errors.invalidArgType(name, 'boolean', v);
      return v;
    }
    if (!Array.isArray(v)) throw errors.invalidArgType(name, 'Array', v);
    return v.map((s, i) => signalName(s, `${name}[${i}]`));
  });
  o.maxRss = options.maxRss === undefined || options.maxRss === null ? null
    : integer(options.maxRss, 'options.maxRss', 1, Number.MAX_SAFE_INTEGER);
  o.heartbeat = section(options.heartbeat, 'options.heartbeat', DEFAULTS.heartbeat,
    (key, v, name) => integer(v, name, 1));
  // Memory recycling reads the RSS the agent reports with its heartbeat.
  if (o.maxRss !== null && o.heartbeat === null) o.heartbeat = { ...DEFAULTS.heartbeat };
  o.reloadSignal = options.reloadSignal === undefined || options.reloadSignal === null ||
    options.reloadSignal === false ? null
    : signalName(options.reloadSignal === true ? 'SIGHUP' : options.reloadSignal, 'options.reloadSignal');
  o.upgradeSignal = options.upgradeSignal === undefined || options.upgradeSignal === null ||
    options.upgradeSignal === false ? null
    : signalName(options.upgradeSignal === true ? 'SIGUSR2' : options.upgradeSignal, 'options.upgradeSignal');
  o.upgradeTimeout = options.upgradeTimeout === undefined ? DEFAULTS.upgradeTimeout
    : integer(options.upgradeTimeout, 'options.upgradeTimeout', 1);
  if (options.scaleSignals !== undefined && typeof options.scaleSignals !== 'boolean') {
    throw errors.invalidArgType('options.scaleSignals', 'boolean', options.scaleSignals);
  }
  o.scaleSignals = options.scaleSignals === true;
  o.statsPort = options.statsPort === undefined || options.statsPort === null ? null
    : integer(options.statsPort, 'options.statsPort', 0, 65535);
  if (options.statsHost !== undefined && typeof options.statsHost !== 'string') {
    throw errors.invalidArgType('options.statsHost', 'string', options.statsHost);
  }
  o.statsHost = options.statsHost === undefined ? '127.0.0.1' : options.statsHost;
  o.control = control(options.control);
  o.maxRequests = options.maxRequests === undefined || options.maxRequests === null ? null
    : integer(options.maxRequests, 'options.maxRequests', 1, Number.MAX_SAFE_INTEGER);
  o.maxRequestsJitter = options.maxRequestsJitter === undefined ? 0
    : integer(options.maxRequestsJitter, 'options.maxRequestsJitter', 0, Number.MAX_SAFE_INTEGER);
  o.readySignal = flag(options.readySignal, 'options.readySignal', false);
  o.notify = flag(options.notify, 'options.notify', true);
  o.reloadRetries = options.reloadRetries === undefined ? DEFAULTS.reloadRetries
    : integer(options.reloadRetries, 'options.reloadRetries', 0, 100);
  return o;
}

function flag(value, name, fallback) {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw errors.invalidArgType(name, 'boolean', value);
  return value;
}

// `control`: true (the default name), a socket path, or { name, path }.
function control(value) {
  if (value === undefined || value === null || value === false) return null;
  if (value === true) value = {};
  else if (typeof value === 'string') value = { path: value };
  else if (!isObject(value)) throw errors.invalidArgType('options.control', ['boolean', 'string', 'Object'], value);
  let name = controlPaths.defaultName();
  if (value.name !== undefined) {
    if (typeof value.name !== 'string') throw errors.invalidArgType('options.control.name', 'string', value.name);
    if (!controlPaths.validName(value.name)) {
      throw errors.invalidArgValue('options.control.name', value.name,
        'must be 1 to 64 letters, digits, \'.\', \'_\' or \'-\', not starting with \'.\'');
    }
    name = value.name;
  }
  if (value.path !== undefined && typeof value.path !== 'string') {
    throw errors.invalidArgType('options.control.path', 'string', value.path);
  }
  if (value.path !== undefined && (value.path === '' || value.path.includes('\0'))) {
    throw errors.invalidArgValue('options.control.path', value.path, 'must be a file path');
  }
  return { name, path: value.path === undefined ? null : value.path };
}

/** What reload(), scale() and shutdown() use when supervise() was not called. */
function defaults() {
  return normalize({});
}

module.exports = { normalize, defaults, integer, DEFAULTS };
