'use strict';
// Newline-delimited text on a socket (the control socket, its client, the
// channel between an old and a new primary): each whole line once.

/**
 * Call `onLine(line)` for each line read from `socket`; `onLine` returning
 * false stops the rest of that read. When the part of a line still waiting
 * for its newline grows past `maxLine`, it is dropped and `onOverflow()`
 * is called.
 */
function eachLine(socket, onLine, { maxLine = Infinity, onOverflow = null } = {}) {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (onLine(line) === false) return;
    }
    if (buf.length > maxLine) {
      buf = '';
      if (onOverflow !== null) onOverflow();
    }
  });
}

module.exports = { eachLine };
