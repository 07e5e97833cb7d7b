'use strict';
// Counts, in a worker, how many of the connections the primary handed it
// (`newconn`) have closed, and reports the running total to the primary,
// coalesced: at most one report per REPORT_EVERY_MS, and only when the
// total changed. Nothing runs per request; per handed connection, two
// listener calls and one 'close' listener.
//
// How a handed connection is recognised: node's cluster code handles a
// `newconn` in its 'internalMessage' listener by calling the server's
// onconnection synchronously, which publishes the new socket on the
// 'net.server.socket' diagnostics channel. Our listeners run just before
// and just after node's, so a socket published between them is one the
// primary handed over; sockets a worker accepts itself (shared or
// reuseport sockets, exclusive servers) are not counted, as the primary
// does not count them either.
const dc = require('node:diagnostics_channel');

const REPORT_EVERY_MS = 50;

let report = null;
let closed = 0;
let reported = -1;
let timer = null;
let handingOff = false;

function beforeNode(message) {
  handingOff = message !== null && typeof message === 'object' &&
    message.cmd === 'NODE_CLUSTER' && message.act === 'newconn';
}

function afterNode() {
  handingOff = false;
}

/** A connection from the connection channel reaches its server next. */
function handing() {
  if (report !== null) handingOff = true;
}

function onSocket({ socket }) {
  if (!handingOff) return;
  handingOff = false;
  socket.once('close', onClose);
}

function onClose() {
  closed++;
  if (timer === null) {
    timer = setTimeout(flush, REPORT_EVERY_MS);
    timer.unref();
  }
}

function flush() {
  timer = null;
  if (closed === reported) return;
  reported = closed;
  report(closed);
}

/** Start counting (once) and report the current total now. */
function start(sendReport) {
  if (report === null) {
    process.prependListener('internalMessage', beforeNode);
    process.on('internalMessage', afterNode);
    dc.subscribe('net.server.socket', onSocket);
  }
  report = sendReport;
  reported = -1;
  flush();
}

module.exports = { start, handing };
