'use strict';
// Once the worker exchanges large messages: keep glibc's malloc from
// giving the top of its heap back to the kernel after every young-space GC.
//
// Node reads the channel 64 KiB at a time into a new buffer, and joins a
// message that spans reads into another (Buffer.concat), so a worker that
// receives 64 KiB messages allocates about 192 KiB outside V8's heap per
// message. Those buffers die young and are freed together when V8 sweeps
// them; the heap's top is then several MiB free, more than glibc's trim
// threshold (128 KiB until malloc adapts), so free() returns it with brk()
// and the next messages fault it all back in, page by page. Advanced
// 64 KiB echo, 16 in flight, agent worker, 1.3 s: 9,000-10,000 brk calls
// and 400,000-500,000 page faults in most runs (worker 85-120 us per round
// trip; 8,300-11,900 round trips/s), against 0-100 and 3,000-8,000 after
// this (42-45 us, 19,000-20,300/s).
//
// glibc adapts by itself when a program frees a block it had mapped: its
// mmap threshold becomes that block's size and its trim threshold twice
// that. This does the same on purpose, once: a block just under glibc's
// largest adaptive threshold (32 MiB on 64-bit), never written, so never in
// memory, mapped by malloc and unmapped when V8 frees it. The worker then
// keeps up to about 62 MiB of freed heap for reuse, as any program that
// once freed such a buffer does. Elsewhere than glibc it is one mmap and
// one munmap.
const ADAPT_BYTES = 31 * 1024 * 1024;

let adapted = false;

function largeMessages() {
  if (adapted) return;
  adapted = true;
  Buffer.allocUnsafeSlow(ADAPT_BYTES);
}

module.exports = { largeMessages };
