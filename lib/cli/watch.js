'use strict';
// --watch: call `onChange(file)` when a file under `root` changes, debounced
// (one call once changes have stopped for `delay` ms). node_modules and
// dot-folders are skipped. Node's own recursive fs.watch would watch
// node_modules too (thousands of directories on Linux, where it walks the
// tree itself), so this walks the tree, skipping those, and watches each
// directory, adding new directories as they appear.
const fs = require('node:fs');
const path = require('node:path');

function skipped(name) {
  return name === 'node_modules' || name.startsWith('.');
}

function watchTree(root, onChange, { delay = 300 } = {}) {
  const watchers = new Map();
  let timer = null;
  let last = null;
  let closed = false;

  function changed(file) {
    last = file;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (!closed) onChange(last);
    }, delay);
  }

  function add(dir) {
    if (closed || watchers.has(dir)) return;
    let watcher;
    try {
      watcher = fs.watch(dir, (event, name) => {
        if (name === null || name === undefined) return changed(dir);
        const base = String(name);
        if (skipped(base)) return undefined;
        const full = path.join(dir, base);
        // A new directory: watch it too.
        fs.stat(full, (err, st) => {
          if (!err && st.isDirectory()) add(full);
        });
        return changed(full);
      });
    } catch {
      return; // Gone or unreadable: nothing to watch.
    }
    watcher.on('error', () => {
      watcher.close();
      watchers.delete(dir);
    });
    watchers.set(dir, watcher);
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      // Unreadable: only its own changes.
    }
    for (const e of entries) if (e.isDirectory() && !skipped(e.name)) add(path.join(dir, e.name));
  }

  add(path.resolve(root));
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
    directories: () => [...watchers.keys()],
  };
}

module.exports = { watchTree };
