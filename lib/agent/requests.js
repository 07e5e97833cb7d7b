'use strict';
// maxRequests, on the worker's side: once the primary has told this worker
// its limit ({ act: 'maxRequests', limit }), count the connections its
// servers accept (handed over by the primary or accepted here: every socket
// published on 'net.server.socket') and tell the primary when the count
// reaches the limit ({ act: 'served', served }). The primary then replaces
// this worker as in a reload. The first answer, with served 0, tells the
// primary that this worker counts for itself.
const dc = require('node:diagnostics_channel');
const { agent: AGENT } = require('../contract.json');

let limit = null;
let served = 0;
let send = null;
let reported = false;

function onSocket() {
  served++;
  if (!reported && served >= limit) {
    reported = true;
    send({ act: AGENT.served, served });
  }
}

/** Apply a limit from the primary (again: a new limit, same count). */
function setLimit(value, sendReport) {
  if (typeof value !== 'number' || !(value >= 1)) return;
  if (limit === null) dc.subscribe('net.server.socket', onSocket);
  limit = value;
  send = sendReport;
  reported = served >= limit;
  send({ act: AGENT.served, served });
}

module.exports = { setLimit, served: () => served };
