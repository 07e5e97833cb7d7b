'use strict';
// Facts about the machine the tests run on (both implementations see the same).
//
// IPv6: the suite needs TCP and UDP on ::1 (listen(0) ports of both
// families, udp6, TCP6 servers). Where the loopback has no IPv6 the tests
// that use it fail, saying so, rather than being skipped: a skip would leave
// those paths unchecked without anyone noticing.
const assert = require('node:assert/strict');
const net = require('node:net');

let ipv6;
/** Asserts that TCP can listen on ::1 here. */
async function assertIPv6() {
  if (ipv6 === undefined) {
    ipv6 = new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', (err) => resolve(err.code || err.message));
      s.listen(0, '::1', () => s.close(() => resolve(null)));
    });
  }
  const error = await ipv6;
  assert.equal(error, null, `the tests need IPv6 on the loopback interface (::1), which is not usable here: ${error}`);
}

module.exports = { assertIPv6 };
