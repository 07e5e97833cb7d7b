'use strict';
// P5's floor: a Node process that does nothing but tell its parent it is
// up, as a worker's 'online' does (bench/server.js, BENCH_FORK_FLOOR).
process.send('up', () => process.disconnect());
