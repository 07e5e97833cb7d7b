'use strict';
// Answers the primary's heartbeat ping with this process's memory and CPU
// use. A worker whose event loop is blocked cannot answer, which is what the
// primary watches for.
const { agent: AGENT } = require('../contract.json');

function onPing(message) {
  if (message === null || typeof message !== 'object' || message.cmd !== AGENT.cmd ||
      message.act !== AGENT.ping || !process.connected) return;
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  try {
    process.send({
      cmd: AGENT.cmd,
      act: AGENT.pong,
      seq: message.seq,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      cpu: { user: cpu.user, system: cpu.system },
    }, () => {});
  } catch {
    // The channel closed under us: nothing to answer to.
  }
}

function install() {
  process.on('internalMessage', onPing);
}

module.exports = { install, onPing };
