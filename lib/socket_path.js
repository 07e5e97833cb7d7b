'use strict';
// A Unix socket's path across a primary upgrade. libuv removes the path when
// the handle that bound it closes (as Node's server.close() does), but once
// the socket has been handed to a new primary the old one closes only its
// own copy: the path must stay, for the new primary's copy. And the new
// primary's copy, opened from a descriptor, would never remove it: it does,
// as Node would, when its server closes.
const fs = require('node:fs');

/**
 * Close `handle` (a listening Pipe bound to `file`) and leave `file` in
 * place: linked to a second name first, renamed back once libuv has
 * removed it. The path is missing between the two, for microseconds.
 */
function closeKeepingPath(handle, file) {
  const keep = `${file}.${process.pid}.keep`;
  let linked = false;
  try {
    fs.linkSync(file, keep);
    linked = true;
  } catch (err) {
    process.emitWarning(`cannot keep ${file} for the new primary (${err.code || err.message}): ` +
      'it is removed, and clients will not find the socket', { code: 'RUST_CLUSTER_UPGRADE_PATH' });
  }
  handle.close();
  if (!linked) return;
  try {
    fs.renameSync(keep, file);
  } catch {
    try { fs.unlinkSync(keep); } catch { /* gone */ }
  }
}

/** Remove `file` as libuv would have for a socket it had bound. */
function removePath(file) {
  try {
    fs.unlinkSync(file);
  } catch {
    // Already gone.
  }
}

module.exports = { closeKeepingPath, removePath };
