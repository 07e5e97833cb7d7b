'use strict';
// A port for a test to hand to a program that binds it later.
//
// Not from listen(0): the kernel gives those out of the ephemeral range,
// the same range every outgoing connection's source port comes from, so
// with test files running side by side a port freed here can be taken by
// another file's client socket before the program binds it (a CI run lost
// a test to that: the CLI exited on EADDRINUSE). A random port below the
// ephemeral range is never handed out by the kernel; only another test
// picking the same one can take it.
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');

const SPAN = 8192;

function ephemeralLow() {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768; // Linux's default; also below macOS's 49152.
  }
}

const high = ephemeralLow() - 1;
const low = Math.max(1024, high - SPAN);

function tryBind(type, host, port) {
  return new Promise((resolve) => {
    const s = type === 'tcp' ? net.createServer() : dgram.createSocket(type);
    s.once('error', () => resolve(false));
    const done = () => s.close(() => resolve(true));
    if (type === 'tcp') s.listen(port, host, done);
    else s.bind(port, host, done);
  });
}

/** A port `host` can bind now for `type` ('tcp', 'udp4', 'udp6'). */
async function freePort(type = 'tcp', host = type === 'udp6' ? '::1' : '127.0.0.1') {
  if (high - low < 1024) throw new Error(`no room below the ephemeral port range (it starts at ${high + 1})`);
  for (let i = 0; i < 100; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await tryBind(type, host, port)) return port;
  }
  throw new Error(`no free ${type} port on ${host} in ${low}-${high} after 100 tries`);
}

module.exports = { freePort };
