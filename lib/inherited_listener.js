'use strict';
// A listening socket inherited from the old primary that the new one
// accepts on in JS, beside the socket of its own it gives the engine: an old
// worker's SO_REUSEPORT socket (or one more of them than the handle can
// adopt). While it is open it stays in the kernel's reuseport group and gets
// its share of new connections; those go to the engine's handle `key` (to
// the new workers) as connections of a Unix socket do
// (lib/round_robin_handle.js). Closed once the old primary has gone (its
// workers have closed their copies, so no one else takes from it) or with
// the handle.
const net = require('node:net');
const inherited = require('./supervisor/inherited');

class InheritedListener {
  constructor(key, fd, engine) {
    this.handle = null;
    this.stopWatching = () => {};
    // Port 0 and no address: adopt `fd` (net's own way of listen({ fd })).
    const handle = net._createServerHandle(null, 0, -1, fd);
    if (typeof handle === 'number') return;
    handle.onconnection = (err, client) => {
      if (err) return;
      engine.connection(key, client.fd);
      client.close();
    };
    if (handle.listen(511) !== 0) {
      handle.close();
      return;
    }
    this.handle = handle;
    this.stopWatching = inherited.onOldPrimaryGone(() => this.close());
  }

  /** { address, port, family } of the socket, or null. */
  address() {
    if (!this.handle || typeof this.handle.getsockname !== 'function') return null;
    const out = {};
    return this.handle.getsockname(out) === 0 ? out : null;
  }

  get fd() {
    return this.handle ? this.handle.fd : -1;
  }

  close() {
    this.stopWatching();
    if (this.handle) this.handle.close();
    this.handle = null;
  }
}

module.exports = { InheritedListener };
