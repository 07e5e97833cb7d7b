'use strict';
// The socket between an upgrading primary and the new one it started
// (upgrade.js, takeover.js): the new primary's fd 3, newline-delimited JSON,
//
//   new -> old   { "act": "ready", "pid": 4501, "workers": [{ "id": 1, "pid": 4510 }, ...] }
//   old -> new   { "act": "commit" }
//   new -> old   { "act": "took", "control": "/run/user/1000/rust-cluster/app.sock" }
//   old -> new   { "act": "handed" }   (systemd was told MAINPID=<new>)
//
// and its end: the old primary's copy closes when it exits, which is how
// the new one learns that the old one (and so its workers) is gone.
const { eachLine } = require('./lines');
const ACTS = { ready: 'ready', commit: 'commit', took: 'took', handed: 'handed' };
const MAX_LINE = 64 * 1024;

/** Call `onMessage(object)` for each line read from `socket`. */
function readLines(socket, onMessage) {
  eachLine(socket, (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message !== null && typeof message === 'object') onMessage(message);
  }, { maxLine: MAX_LINE });
}

function write(socket, message) {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}

module.exports = { ACTS, readLines, write };
