'use strict';
// One autocannon run in its own process (so it can be pinned with taskset and
// does not share an event loop with the harness). Used by bench/run.js when
// wrk is not installed.
//
//   node bench/autocannon-load.js '{"url":..., "connections":32,
//        "close":true, "duration":3 | "amount":20000}'
//
// Prints one JSON line: { requests, ok, non2xx, errors, timeouts, seconds }.
//
// Responses are counted here from each client's 'headers' event: with
// `Connection: close`, autocannon is run with reconnectRate 1 (a fresh
// connection for every request; without it autocannon writes the next
// request onto the socket the server is closing), and in that mode autocannon
// itself does not count responses.
const autocannon = require('autocannon');

const opts = JSON.parse(process.argv[2]);
let requests = 0;
let ok = 0;
let non2xx = 0;

const run = {
  url: opts.url,
  connections: opts.connections,
  pipelining: 1,
  timeout: 10,
  setupClient(client) {
    client.on('headers', (h) => {
      requests++;
      if (h.statusCode >= 200 && h.statusCode < 300) ok++;
      else non2xx++;
    });
  },
};
if (opts.close) {
  run.headers = { connection: 'close' };
  run.reconnectRate = 1;
}
if (opts.amount) run.amount = opts.amount;
else run.duration = opts.duration;

autocannon(run, (err, result) => {
  if (err) {
    process.stdout.write(`${JSON.stringify({ error: String(err.message || err) })}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({
    requests,
    ok,
    non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
  })}\n`);
});
