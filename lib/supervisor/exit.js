'use strict';
// Exiting once what the primary wrote to stdout and stderr has gone out.
// A write to a pipe or socket whose reader is slow is queued, and
// process.exit() drops the queue: the last lines of a shutdown (with
// --prefix-logs, the workers' last lines too) were lost when the reader
// lagged on a loaded machine.

// A reader that never reads must not keep the primary alive.
const FLUSH_BOUND_MS = 10000;
const POLL_MS = 10;

function flushed() {
  return [process.stdout, process.stderr].every((s) => !s || s.destroyed || s.writableLength === 0);
}

/** process.exit(code), after stdout and stderr have written what they hold. */
function exitAfterOutput(code) {
  if (flushed()) process.exit(code);
  process.exitCode = code;
  const end = Date.now() + FLUSH_BOUND_MS;
  const check = () => {
    if (flushed() || Date.now() > end) process.exit(code);
    setTimeout(check, POLL_MS);
  };
  setTimeout(check, POLL_MS);
}

module.exports = { exitAfterOutput };
