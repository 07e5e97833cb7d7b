'use strict';
// Facts about the machine the tests run on (both implementations see the same).
const net = require('node:net');

let ipv6;
/** Whether TCP can listen on ::1 here. */
function hasIPv6() {
  if (ipv6 === undefined) {
    ipv6 = new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(0, '::1', () => s.close(() => resolve(true)));
    });
  }
  return ipv6;
}

module.exports = { hasIPv6 };
