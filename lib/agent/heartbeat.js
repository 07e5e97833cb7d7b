'use strict';
// Answers the primary's heartbeat ping with this process's memory and CPU
// use. A worker whose event loop is blocked cannot answer, which is what the
// primary watches for.
const { agent: AGENT } = require('../contract.json');

/** Answer a ping ({ cmd, act: 'ping', seq }; index.js dispatches it). */
function onPing(message) {
  if (!process.connected) return;
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

module.exports = { onPing };
