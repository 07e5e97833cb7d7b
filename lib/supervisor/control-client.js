'use strict';
// The client side of the control socket (control.js), for the command line:
// find the running cluster and send it one request at a time.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const controlPaths = require('./control-paths');
const { eachLine } = require('./lines');

function clientError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

/**
 * A connection to the control socket at `file`: request(cmd, args) resolves
 * to the answer's result, or rejects with its error (code, message, report).
 */
function connect(file) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    let nextId = 1;
    const pending = new Map();
    let closed = false;
    const closedError = () => clientError('ERR_RUST_CLUSTER_CONTROL_CLOSED', 'the primary closed the control connection');
    const failAll = (err) => {
      for (const { reject: rej } of pending.values()) rej(err);
      pending.clear();
    };
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      socket.on('error', failAll);
      resolve({
        request(cmd, args = {}) {
          const id = nextId++;
          return new Promise((res, rej) => {
            if (closed) return rej(closedError());
            pending.set(id, { resolve: res, reject: rej });
            socket.write(`${JSON.stringify({ ...args, id, cmd })}\n`, (err) => {
              if (err && pending.delete(id)) rej(err);
            });
            return undefined;
          });
        },
        close() {
          socket.end();
        },
        socket,
      });
    });
    socket.once('error', reject);
    eachLine(socket, (line) => {
      let answer;
      try {
        answer = JSON.parse(line);
      } catch {
        answer = null;
      }
      const waiter = answer && pending.get(answer.id);
      if (!waiter) return;
      pending.delete(answer.id);
      if (answer.ok) waiter.resolve(answer.result);
      else {
        const e = answer.error || {};
        const err = clientError(e.code || 'ERR_RUST_CLUSTER_CONTROL_FAILED', e.message || 'failed');
        if (e.report !== undefined) err.report = e.report;
        waiter.reject(err);
      }
    });
    socket.on('close', () => {
      closed = true;
      failAll(closedError());
    });
  });
}

/** The names of the clusters whose sockets answer in the default directory. */
async function liveNames() {
  const dir = controlPaths.directory();
  let entries;
  try {
    // Not a primary's private name while it binds (control.js).
    entries = fs.readdirSync(dir).filter((f) => f.endsWith('.sock') && !f.startsWith('.')).sort();
  } catch {
    return [];
  }
  const { probe } = require('./control');
  const live = [];
  for (const f of entries) {
    if (await probe(path.join(dir, f))) live.push(f.slice(0, -'.sock'.length));
  }
  return live;
}

/**
 * The socket to talk to: `socket` if given, else the one of `name`, else the
 * only running cluster's. Rejects with a message fit for the command line.
 */
async function locate({ name = null, socket = null } = {}) {
  if (socket !== null) return path.resolve(socket);
  if (name !== null) {
    const file = controlPaths.socketPath(name);
    if (!fs.existsSync(file)) {
      const live = await liveNames();
      throw clientError('ERR_RUST_CLUSTER_CONTROL_NOT_FOUND', `no cluster named '${name}' is running` +
        (live.length ? ` (running: ${live.join(', ')})` : ` (no control socket ${file})`));
    }
    return file;
  }
  const live = await liveNames();
  if (live.length === 0) {
    throw clientError('ERR_RUST_CLUSTER_CONTROL_NOT_FOUND',
      `no running cluster found (no live control socket in ${controlPaths.directory()})`);
  }
  if (live.length > 1) {
    throw clientError('ERR_RUST_CLUSTER_CONTROL_AMBIGUOUS',
      `${live.length} clusters are running: ${live.join(', ')}; pick one with --name NAME`);
  }
  return controlPaths.socketPath(live[0]);
}

module.exports = { connect, locate, liveNames };
