//! A one-way byte stream from a worker that loads rust-cluster to the
//! primary, in shared memory: the worker's agent writes its frames here
//! instead of to the IPC socket, and the primary reads them on its event
//! loop as it reads the socket, without a system call per write or read.
//! The worker wakes the primary only when it said it may sleep (`arm`), by
//! writing an empty frame (a doorbell) to the socket, so a busy primary is
//! never woken.
//!
//! The region: four words (bytes written, bytes read, armed, a writer
//! waiting for room), each on its own cache line, then the data, a ring of
//! `CAPACITY` bytes. The worker writes the first, clears the third and sets
//! the fourth; the primary writes the second, sets the third and clears
//! the fourth (and then tells the worker, on the socket, that there is
//! room). Either side may be misbehaving: the primary
//! checks the counts before it copies.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};

use crate::sys::SharedMemory;

const WRITTEN: usize = 0;
const READ: usize = 64;
const ARMED: usize = 128;
const WAITING: usize = 192;
const HEADER: usize = 4096;
/// Bytes in flight at most; a full ring makes the worker wait, as a full
/// socket does.
pub(crate) const CAPACITY: usize = 256 << 10;

pub(crate) struct Ring {
    mem: SharedMemory,
}

impl Ring {
    /// A new ring (the worker's side), and the memfd to give the primary.
    pub(crate) fn create() -> io::Result<(Ring, OwnedFd)> {
        let (mem, fd) = SharedMemory::create(HEADER + CAPACITY)?;
        Ok((Ring { mem }, fd))
    }

    /// The ring a worker made (the primary's side).
    pub(crate) fn open(fd: &OwnedFd) -> io::Result<Ring> {
        Ok(Ring {
            mem: SharedMemory::map(fd, HEADER + CAPACITY)?,
        })
    }

    fn copy_in(&self, at: u64, data: &[u8]) {
        let off = (at % CAPACITY as u64) as usize;
        let first = data.len().min(CAPACITY - off);
        self.mem.write(HEADER + off, &data[..first]);
        self.mem.write(HEADER, &data[first..]);
    }

    fn copy_out(&self, at: u64, out: &mut [u8]) {
        let off = (at % CAPACITY as u64) as usize;
        let first = out.len().min(CAPACITY - off);
        self.mem.read(HEADER + off, &mut out[..first]);
        self.mem.read(HEADER, &mut out[first..]);
    }

    /// The worker: add what fits of `data`. Returns the bytes taken, and
    /// whether the primary must be woken (it armed the ring, and this is
    /// the first write since).
    pub(crate) fn push(&self, data: &[u8]) -> (usize, bool) {
        let written = self.mem.word(WRITTEN).load(Relaxed);
        let read = self.mem.word(READ).load(Acquire);
        let used = written.wrapping_sub(read);
        if used > CAPACITY as u64 {
            return (0, false);
        }
        let n = data.len().min(CAPACITY - used as usize);
        if n == 0 {
            return (0, false);
        }
        self.copy_in(written, &data[..n]);
        // SeqCst against `arm`: either the primary sees these bytes, or we
        // see it armed and wake it.
        self.mem.word(WRITTEN).store(written + n as u64, SeqCst);
        let wake = self.mem.word(ARMED).swap(0, SeqCst) != 0;
        (n, wake)
    }

    /// The primary: take up to `out.len()` bytes. Err when the worker's
    /// count is impossible.
    pub(crate) fn pull(&self, out: &mut [u8]) -> Result<usize, &'static str> {
        let read = self.mem.word(READ).load(Relaxed);
        let written = self.mem.word(WRITTEN).load(Acquire);
        let ready = written.wrapping_sub(read);
        if ready > CAPACITY as u64 {
            return Err("the worker's shared channel is corrupt");
        }
        let n = out.len().min(ready as usize);
        self.copy_out(read, &mut out[..n]);
        // SeqCst against `wait_for_room`.
        self.mem.word(READ).store(read + n as u64, SeqCst);
        Ok(n)
    }

    /// The worker, which had no room: ask to be told when there is.
    /// Returns true when there is room already (write again now).
    pub(crate) fn wait_for_room(&self) -> bool {
        self.mem.word(WAITING).store(1, SeqCst);
        let written = self.mem.word(WRITTEN).load(Relaxed);
        written.wrapping_sub(self.mem.word(READ).load(SeqCst)) < CAPACITY as u64
    }

    /// The primary, after reading: whether a worker waits for room (it is
    /// to be told once).
    pub(crate) fn take_waiter(&self) -> bool {
        self.mem.word(WAITING).swap(0, SeqCst) != 0
    }

    /// Whether bytes wait to be pulled.
    pub(crate) fn waiting(&self) -> bool {
        self.mem.word(WRITTEN).load(Acquire) != self.mem.word(READ).load(Relaxed)
    }

    /// The primary may sleep: the worker's next write wakes it. Returns
    /// false (and stays unarmed) when bytes already wait.
    pub(crate) fn arm(&self) -> bool {
        self.mem.word(ARMED).store(1, SeqCst);
        let read = self.mem.word(READ).load(Relaxed);
        if self.mem.word(WRITTEN).load(SeqCst) != read {
            self.mem.word(ARMED).store(0, Relaxed);
            return false;
        }
        true
    }

    /// The primary is awake again: no doorbell needed.
    pub(crate) fn disarm(&self) {
        self.mem.word(ARMED).store(0, Relaxed);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn bytes_go_through_in_order_across_the_wrap() {
        let (w, fd) = Ring::create().expect("ring");
        let r = Ring::open(&fd).expect("open");
        let mut out = vec![0u8; CAPACITY];
        let chunk: Vec<u8> = (0..CAPACITY / 3 + 7).map(|i| (i % 251) as u8).collect();
        for _ in 0..10 {
            assert_eq!(w.push(&chunk).0, chunk.len());
            assert_eq!(r.pull(&mut out).expect("pull"), chunk.len());
            assert_eq!(&out[..chunk.len()], &chunk[..]);
        }
    }

    #[test]
    fn a_full_ring_takes_what_fits_and_an_armed_one_asks_for_a_wake_up() {
        let (w, fd) = Ring::create().expect("ring");
        let r = Ring::open(&fd).expect("open");
        assert!(r.arm());
        let big = vec![1u8; CAPACITY + 10];
        assert_eq!(w.push(&big), (CAPACITY, true));
        assert_eq!(w.push(&big), (0, false));
        assert!(!r.arm());
        let mut out = vec![0u8; 100];
        assert_eq!(r.pull(&mut out).expect("pull"), 100);
        assert_eq!(w.push(&big).0, 100);
    }
}
