'use strict';
// Where control sockets live: $XDG_RUNTIME_DIR/rust-cluster/NAME.sock, else
// /tmp/rust-cluster-UID/NAME.sock. The directory is the user's alone (mode
// 0700, owned by them): that, and the socket's own mode 0600, is what keeps
// other users out. Shared by the primary (control.js) and the command line
// (control-client.js).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

function validName(name) {
  return NAME.test(name);
}

/** The app file's base name without extension, made a valid name. */
function nameOf(file) {
  const base = path.parse(file || 'node').name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 64);
  return base || 'node';
}

function defaultName() {
  return nameOf(process.argv[1]);
}

function uid() {
  return typeof process.getuid === 'function' ? process.getuid() : os.userInfo().uid;
}

function directory() {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime)) return path.join(runtime, 'rust-cluster');
  return path.join(os.tmpdir(), `rust-cluster-${uid()}`);
}

function socketPath(name) {
  return path.join(directory(), `${name}.sock`);
}

function unsafe(message) {
  const err = new Error(message);
  err.code = 'ERR_RUST_CLUSTER_CONTROL_UNSAFE';
  return err;
}

/**
 * Create `dir` (mode 0700) or check that it is a directory of ours that no
 * one else can enter; a directory of ours with a looser mode is tightened.
 */
function ensureDirectory(dir) {
  fs.mkdirSync(dir, { mode: 0o700, recursive: true });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw unsafe(`${dir} is not a directory`);
  if (st.uid !== uid()) throw unsafe(`${dir} belongs to uid ${st.uid}, not to this user (uid ${uid()})`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

module.exports = { validName, nameOf, defaultName, directory, socketPath, ensureDirectory };
