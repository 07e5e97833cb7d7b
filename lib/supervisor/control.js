'use strict';
// The control socket: a Unix socket on which the primary takes commands
// (`rust-cluster status`, `reload`, `scale N`, `stop`, `top`) as
// newline-delimited JSON:
//
//   request   { "id": 1, "cmd": "scale", "n": 4 }
//   answer    { "id": 1, "ok": true, "result": 4 }
//             { "id": 1, "ok": false, "error": { "code": "...", "message": "..." } }
//
// A request that is not JSON, not an object or names no known command gets
// an error answer; a line longer than MAX_LINE gets one too and the
// connection is closed. Nothing a client sends reaches the rest of the
// primary except through the command functions. The socket has mode 0600 in
// a directory of mode 0700 (control-paths.js), and does not keep the primary
// alive.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const controlPaths = require('./control-paths');
const { eachLine } = require('./lines');

const MAX_LINE = 64 * 1024;
const MAX_CLIENTS = 32;
// How long a probe of an existing socket may take to answer the connect.
const PROBE_MS = 1000;

function controlError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

/** Resolves true if something accepts connections on `file`. */
function probe(file) {
  return new Promise((resolve) => {
    const socket = net.connect(file);
    const timer = setTimeout(() => done(true), PROBE_MS);
    function done(live) {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    }
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Replace a stale socket at `file` (left by a primary that died); refuse if
 * a live primary answers there, or if it is not a socket.
 */
async function clearStale(file, name) {
  let st;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if (err.code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) {
    throw controlError('ERR_RUST_CLUSTER_CONTROL_IN_USE', `${file} exists and is not a socket`);
  }
  if (await probe(file)) throw inUse(file, name);
  fs.unlinkSync(file);
}

function inUse(file, name) {
  return controlError('ERR_RUST_CLUSTER_CONTROL_IN_USE',
    `a cluster named '${name}' is already running (control socket ${file}); stop it or choose another name`);
}

function listenOn(server, file) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // The socket file is created with the umask's mode: make it 0600 from
    // the start (bind happens within listen()), not after a window.
    const umask = process.umask(0o177);
    try {
      server.listen(file);
    } finally {
      process.umask(umask);
    }
    server.once('listening', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

function errorAnswer(id, err) {
  const error = { code: err.code || 'ERR_RUST_CLUSTER_CONTROL_FAILED', message: String(err.message) };
  if (err.report !== undefined) error.report = err.report;
  return { id, ok: false, error };
}

/**
 * Start a control server for `config` ({ name, path }) that runs
 * `commands[cmd](request, { afterAnswer })`. Resolves to
 * { path, name, close() }. `replace`: take the name from the live primary
 * that has it (an upgrade's old one): bound under a name of our own, then
 * renamed over it, so that the name always leads to one of the two.
 */
async function startControl(config, commands, { replace = false } = {}) {
  const name = config.name;
  let file = config.path;
  if (file === null) {
    const dir = controlPaths.directory();
    controlPaths.ensureDirectory(dir);
    file = controlPaths.socketPath(name);
  } else {
    file = path.resolve(file);
  }
  if (!replace) await clearStale(file, name);

  const server = net.createServer((socket) => serve(socket, commands));
  server.maxConnections = MAX_CLIENTS;
  // Bound under a name of our own, then linked (or renamed) to the name:
  // libuv removes the path it bound when the server closes, and the name
  // may be another primary's by then (an upgrade's new one).
  const bound = path.join(path.dirname(file), `.${process.pid}.sock`);
  fs.rmSync(bound, { force: true });
  await listenOn(server, bound);
  try {
    fs.chmodSync(bound, 0o600);
    if (replace) {
      fs.renameSync(bound, file);
    } else {
      try {
        fs.linkSync(bound, file);
      } catch (err) {
        throw err.code === 'EEXIST' ? inUse(file, name) : err;
      }
      fs.unlinkSync(bound);
    }
  } catch (err) {
    server.close();
    throw err;
  }
  const { ino } = fs.statSync(file);
  server.unref();

  // Remove the socket file when we go, unless another primary's took its
  // place meanwhile.
  const unlink = () => {
    try {
      if (fs.statSync(file).ino === ino) fs.unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
  process.on('exit', unlink);
  return {
    path: file,
    name,
    close() {
      process.removeListener('exit', unlink);
      server.close();
      unlink();
    },
  };
}

function serve(socket, commands) {
  socket.on('error', () => {});
  const answer = (message, cb) => {
    if (socket.destroyed || !socket.writable) return;
    socket.write(`${JSON.stringify(message)}\n`, cb);
  };
  eachLine(socket, (line) => {
    if (line.length > MAX_LINE) {
      tooLong();
      return false;
    }
    if (line.trim() !== '') run(line, commands, answer);
    return true;
  }, { maxLine: MAX_LINE, onOverflow: tooLong });
  function tooLong() {
    socket.removeAllListeners('data');
    socket.end(`${JSON.stringify(errorAnswer(null, controlError('ERR_RUST_CLUSTER_CONTROL_BAD_REQUEST',
      `request longer than ${MAX_LINE} bytes`)))}\n`);
  }
}

async function run(line, commands, answer) {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    return answer(errorAnswer(null, controlError('ERR_RUST_CLUSTER_CONTROL_BAD_REQUEST', 'request is not JSON')));
  }
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    return answer(errorAnswer(null, controlError('ERR_RUST_CLUSTER_CONTROL_BAD_REQUEST', 'request is not an object')));
  }
  const id = typeof request.id === 'number' || typeof request.id === 'string' ? request.id : null;
  const cmd = request.cmd;
  if (typeof cmd !== 'string' || !Object.prototype.hasOwnProperty.call(commands, cmd)) {
    return answer(errorAnswer(id, controlError('ERR_RUST_CLUSTER_CONTROL_UNKNOWN_COMMAND',
      `unknown command ${JSON.stringify(cmd)} (known: ${Object.keys(commands).join(', ')})`)));
  }
  let after = null;
  try {
    const result = await commands[cmd](request, { afterAnswer: (fn) => { after = fn; } });
    answer({ id, ok: true, result: result === undefined ? null : result }, () => after && after());
  } catch (err) {
    answer(errorAnswer(id, err));
  }
  return undefined;
}

module.exports = { startControl, probe, MAX_LINE };
