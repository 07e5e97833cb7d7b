//! The write side of a channel, shared by the JS thread and the channel's
//! writer task.
//!
//! Node writes a small message to the channel synchronously, from the JS
//! thread. To keep that behaviour (and skip a thread hop per message), JS
//! writes straight to the socket when the channel is idle: nothing queued,
//! no descriptor awaiting its ACK, the writer task not mid-write. Otherwise
//! the message joins the writer's queue, so order is always kept. One mutex
//! decides who writes; whoever holds it while writing finishes a whole
//! frame, or hands the rest to the queue, before letting go.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use nix::errno::Errno;
use nix::sys::socket::{shutdown, Shutdown};
use tokio::sync::mpsc;

use super::{fdpass, Outgoing, WriterItem};

#[derive(Default)]
struct GateState {
    /// The writer task has work: queued items, a write in progress, or a
    /// descriptor awaiting its ACK. Only the writer clears it.
    busy: bool,
    /// The channel is gone: writes fail with EPIPE.
    closed: bool,
}

pub struct WriteGate {
    /// The channel socket, shared with the channel's reader and writer, for
    /// writes from JS. Shared, not duplicated: one descriptor per worker, as
    /// in Node's primary.
    sock: Arc<OwnedFd>,
    queue: mpsc::UnboundedSender<WriterItem>,
    state: Mutex<GateState>,
    /// Bytes of user messages queued but not yet written, for `send()`'s
    /// return value.
    queued: AtomicUsize,
}

/// What happened to a message handed to the gate.
pub enum Sent {
    /// Written to the socket before returning.
    Now,
    /// Queued behind other writes; `queued_bytes` are now waiting.
    Queued { queued_bytes: usize },
}

impl WriteGate {
    /// A gate for the channel socket `sock`, and the queue its writer task
    /// serves.
    pub fn new(sock: Arc<OwnedFd>) -> (Arc<WriteGate>, mpsc::UnboundedReceiver<WriterItem>) {
        let (queue, receiver) = mpsc::unbounded_channel();
        let gate = WriteGate {
            sock,
            queue,
            state: Mutex::new(GateState::default()),
            queued: AtomicUsize::new(0),
        };
        (Arc::new(gate), receiver)
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // A panic while holding this lock cannot leave the state torn (two
        // booleans), so a poisoned lock is still good to use.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queue behind whatever is pending. Gives the item back if the writer
    /// has stopped.
    pub(super) fn enqueue(&self, item: WriterItem) -> Result<(), WriterItem> {
        let mut state = self.lock();
        state.busy = true;
        self.queue
            .send(item)
            .map_err(|mpsc::error::SendError(item)| item)
    }

    /// A message from JS: written now when the channel is idle, else queued.
    /// `frame` is copied only when (part of) it has to wait in the queue.
    /// Fails with the errno a write would give when the channel is gone.
    pub fn send(
        &self,
        frame: &[u8],
        fd: Option<Arc<OwnedFd>>,
        ticket: Option<u32>,
    ) -> Result<Sent, Errno> {
        let mut state = self.lock();
        if state.closed {
            return Err(Errno::EPIPE);
        }
        // A descriptor goes through the writer, which waits for its ACK.
        let rest = match fd {
            None => {
                let written = self.write_if_idle(&state, frame)?;
                if written == frame.len() {
                    return Ok(Sent::Now);
                }
                &frame[written..]
            }
            Some(_) => frame,
        };
        let msg = Outgoing {
            bytes: rest.to_vec(),
            report_settled: fd.is_some(),
            fd,
            ticket,
            accounted: rest.len(),
        };
        let queued_bytes = self.queued.fetch_add(msg.accounted, Ordering::Relaxed) + msg.accounted;
        state.busy = true;
        self.queue
            .send(WriterItem::Message(msg))
            .map_err(|_| Errno::EPIPE)?;
        Ok(Sent::Queued { queued_bytes })
    }

    /// Our own reply to the worker (an ACK or NACK), from the I/O thread:
    /// written now when the channel is idle, as Node's primary writes its
    /// ACK before the message reaches JS, so the worker stops reading a
    /// passed socket as early as it can. Whatever is not written goes to
    /// `urgent` while the lock is held, so no other frame can cut in.
    pub(super) fn reply_now(&self, bytes: Vec<u8>, urgent: &mpsc::UnboundedSender<Vec<u8>>) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        let mut rest = bytes;
        match self.write_if_idle(&state, &rest) {
            Ok(n) if n == rest.len() => return,
            Ok(n) => {
                rest.drain(..n);
            }
            // The reader sees the same failure and closes the channel.
            Err(_) => return,
        }
        state.busy = true;
        let _ = urgent.send(rest);
    }

    /// Write `bytes` straight to the socket if the writer task has nothing
    /// pending, as far as the socket takes them without blocking. Returns
    /// how many were written: 0 when busy or the socket is full.
    fn write_if_idle(&self, state: &GateState, bytes: &[u8]) -> Result<usize, Errno> {
        if state.busy {
            return Ok(0);
        }
        match fdpass::send_with_fd(self.sock.as_fd(), bytes, None) {
            Ok(n) => Ok(n),
            Err(Errno::EAGAIN) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Called by the writer task before it writes anything.
    pub(super) fn claim(&self) {
        self.lock().busy = true;
    }

    /// Called by the writer task after each item: when its queue is empty,
    /// JS may write directly again.
    pub(super) fn release_if_idle(&self, queue: &mpsc::UnboundedReceiver<WriterItem>) {
        if !queue.is_empty() {
            return;
        }
        let mut state = self.lock();
        // Enqueuing happens under this lock, so emptiness cannot change here.
        if queue.is_empty() {
            state.busy = false;
        }
    }

    pub(super) fn written(&self, accounted: usize) {
        self.queued.fetch_sub(accounted, Ordering::Relaxed);
    }

    /// The channel is over, whatever ended it (the worker, a bug, the I/O
    /// thread stopping): refuse writes from now on and shut the socket down.
    /// The socket stays open while anyone holds it, so this is what lets the
    /// worker see the end.
    pub fn shut_down(&self) {
        self.lock().closed = true;
        let _ = shutdown(self.sock.as_raw_fd(), Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// What ends a channel, and the I/O thread's last words, do to it: the
    /// worker reads the end, and JS's later sends fail as on a closed channel.
    #[test]
    fn a_shut_down_gate_refuses_writes_and_the_worker_sees_the_end() {
        let (ours, theirs) = crate::channel::tests::socket_pair();
        let (gate, _queue) = WriteGate::new(Arc::new(ours));
        assert!(matches!(gate.send(b"before\n", None, None), Ok(Sent::Now)));
        gate.shut_down();
        assert!(matches!(
            gate.send(b"after\n", None, None),
            Err(Errno::EPIPE)
        ));
        let mut got = Vec::new();
        std::fs::File::from(theirs)
            .read_to_end(&mut got)
            .expect("the worker reads the end");
        assert_eq!(got, b"before\n");
    }
}
