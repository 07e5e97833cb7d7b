//! The write side of a worker's channel: one ordered queue for everything
//! the primary sends, written from the JS thread.
//!
//! Like Node's channel (and its `_handleQueue`), a message that passes a
//! descriptor holds every later message back until the worker acknowledges
//! it (`NODE_HANDLE_ACK`), while our own ACK/NACK replies go ahead of the
//! held messages so that two sides passing descriptors cannot wait on each
//! other. The one exception is the engine's `newconn`s, which may follow
//! each other unacknowledged (the worker acknowledges them in order; each
//! is its own `sendmsg`, so each read of the worker's carries at most one
//! descriptor); anything else still waits for all of them. Unlike Node, small messages JS sends in one tick after the first
//! are written together: the first is written at once, as Node writes it
//! (so a primary that sends and then blocks has its message delivered), the
//! next ones only queue, and the engine writes every channel's queue at the
//! end of the tick (`flush`), and at once before anything that could make
//! the difference visible (a descriptor, a large message, closing).

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::rc::Rc;

use nix::errno::Errno;

use super::fdpass;

/// How often a descriptor is re-sent after NACKs before giving up
/// (`MAX_HANDLE_RETRANSMISSIONS` in Node).
const MAX_HANDLE_RETRANSMISSIONS: u32 = 3;

/// JS messages up to this size wait for the end of the tick to be written
/// with the others; larger ones are written at once, as Node writes them.
pub(crate) const COALESCE_LIMIT: usize = 64 * 1024;

/// Something to write to the worker.
pub(crate) struct Outgoing {
    pub(crate) bytes: Vec<u8>,
    /// A descriptor to pass along; shared so the engine can keep the
    /// connection until the worker says it accepted it.
    pub(crate) fd: Option<Rc<OwnedFd>>,
    /// Reported back (`Notice::Failed`) if the write fails.
    pub(crate) tickets: Vec<u32>,
    /// Bytes JS sent in this item, counted for `send()`'s return value.
    pub(crate) accounted: usize,
    /// Report `Notice::Settled` once the worker has acknowledged the
    /// descriptor (JS mirrors Node's `_handleQueue`).
    pub(crate) report_settled: bool,
    /// A `newconn` of the engine's: it may be written while other
    /// `newconn`s await their ACK (never while anything else does).
    pub(crate) pipelined: bool,
}

impl Outgoing {
    pub(crate) fn internal(bytes: Vec<u8>, fd: Option<Rc<OwnedFd>>) -> Outgoing {
        Outgoing {
            bytes,
            fd,
            tickets: Vec::new(),
            accounted: 0,
            report_settled: false,
            pipelined: false,
        }
    }

    /// A connection for a worker, as Node's `newconn`.
    pub(crate) fn newconn(bytes: Vec<u8>, fd: Rc<OwnedFd>) -> Outgoing {
        Outgoing {
            pipelined: true,
            ..Outgoing::internal(bytes, Some(fd))
        }
    }
}

enum Item {
    Message(Outgoing),
    /// `process.disconnect()`: shut the socket once everything before it is
    /// written.
    Close,
}

/// What the owner has to pass on to JS after a write or an ACK.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    /// A descriptor sent with `report_settled` was acknowledged (or given up
    /// on after NACKs): messages queued behind it move on.
    Settled,
    /// A message with a ticket could not be written (OS errno).
    Failed { ticket: u32, errno: i32 },
}

/// What `write` left to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Everything that can go now is written.
    Idle,
    /// The socket is full: call again when it is writable.
    Blocked,
    /// A `Close` was reached: the socket should be shut down.
    Close,
    /// The socket failed (the reader will see the end too).
    Broken,
}

struct Current {
    item: Outgoing,
    offset: usize,
    /// An urgent reply, not a queued message.
    urgent: bool,
}

#[derive(Default)]
pub(crate) struct Writer {
    current: Option<Current>,
    urgent: VecDeque<Vec<u8>>,
    queue: VecDeque<Item>,
    awaiting_ack: VecDeque<Outgoing>,
    retransmissions: u32,
    /// JS bytes queued and not yet written.
    queued_bytes: usize,
    /// Set once the socket failed or was closed: nothing more is written.
    done: bool,
    /// A JS message was written in this tick: the next ones wait for `flush`.
    batching: bool,
    /// Bytes written so far (wrapping), for what a flush wrote.
    written: usize,
    pub(crate) notices: Vec<Notice>,
}

impl Writer {
    /// A message from JS. The first of a tick, a large one, or one with a
    /// descriptor should be written now (returns true); other small ones
    /// join the tail of the queue, to go out with the rest of the tick's.
    pub(crate) fn push_js(
        &mut self,
        frame: &[u8],
        fd: Option<Rc<OwnedFd>>,
        ticket: Option<u32>,
    ) -> Result<bool, Errno> {
        if self.done {
            return Err(Errno::EPIPE);
        }
        self.queued_bytes += frame.len();
        let now = !self.batching || fd.is_some() || frame.len() >= COALESCE_LIMIT;
        self.batching = true;
        if !now {
            if let Some(Item::Message(last)) = self.queue.back_mut() {
                if last.fd.is_none() {
                    last.bytes.extend_from_slice(frame);
                    last.accounted += frame.len();
                    last.tickets.extend(ticket);
                    return Ok(false);
                }
            }
        }
        self.queue.push_back(Item::Message(Outgoing {
            pipelined: false,
            report_settled: fd.is_some(),
            bytes: frame.to_vec(),
            fd,
            tickets: ticket.into_iter().collect(),
            accounted: frame.len(),
        }));
        Ok(now)
    }

    /// A message of the engine's own (a `newconn`, a reply), after whatever
    /// JS queued before it.
    pub(crate) fn push(&mut self, msg: Outgoing) {
        if !self.done {
            self.queue.push_back(Item::Message(msg));
        }
    }

    /// Our ACK or NACK of a descriptor the worker passed: ahead of messages
    /// held behind our own descriptor, but never inside a frame being
    /// written.
    pub(crate) fn push_urgent(&mut self, bytes: Vec<u8>) {
        if !self.done {
            self.urgent.push_back(bytes);
        }
    }

    pub(crate) fn push_close(&mut self) {
        if !self.done {
            self.queue.push_back(Item::Close);
        }
    }

    /// JS bytes not yet written, for `send()`'s return value.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// The worker acknowledged (true) or refused (false) the descriptor we
    /// sent last. A refused one is sent again, a few times.
    pub(crate) fn on_ack(&mut self, ok: bool) {
        let Some(msg) = self.awaiting_ack.pop_front() else {
            // An ACK nobody asked for (a confused peer): ignore it.
            return;
        };
        if !ok && self.retransmissions < MAX_HANDLE_RETRANSMISSIONS && !self.done {
            self.retransmissions += 1;
            // Its bytes were counted out when first written.
            self.queue.push_front(Item::Message(Outgoing {
                accounted: 0,
                ..msg
            }));
            return;
        }
        self.retransmissions = 0;
        if msg.report_settled {
            self.notices.push(Notice::Settled);
        }
    }

    /// Bytes written so far; what a `write` wrote is the difference.
    pub(crate) fn written(&self) -> usize {
        self.written
    }

    /// The tick is over: the next JS message is written at once again.
    pub(crate) fn end_tick(&mut self) {
        self.batching = false;
    }

    /// Write what can go now to `sock`.
    pub(crate) fn write(&mut self, sock: BorrowedFd<'_>) -> Progress {
        if self.done {
            return Progress::Broken;
        }
        loop {
            if self.current.is_none() && !self.next() {
                return match self.queue.front() {
                    Some(Item::Close) if self.awaiting_ack.is_empty() => {
                        self.queue.pop_front();
                        self.finish(None);
                        Progress::Close
                    }
                    _ => Progress::Idle,
                };
            }
            let Some(cur) = self.current.as_mut() else {
                continue;
            };
            let pass: Vec<BorrowedFd<'_>> = match (&cur.item.fd, cur.offset) {
                (Some(fd), 0) => vec![fd.as_fd()],
                _ => Vec::new(),
            };
            match fdpass::send_with_fds(sock, &cur.item.bytes[cur.offset..], &pass) {
                Ok(n) => {
                    self.written = self.written.wrapping_add(n);
                    cur.offset += n;
                    if cur.offset < cur.item.bytes.len() {
                        continue;
                    }
                    let Some(done) = self.current.take() else {
                        continue;
                    };
                    if !done.urgent {
                        self.queued_bytes -= done.item.accounted;
                    }
                    if done.item.fd.is_some() && !done.urgent {
                        self.awaiting_ack.push_back(done.item);
                    }
                }
                Err(Errno::EAGAIN) => return Progress::Blocked,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    self.finish(Some(e));
                    return Progress::Broken;
                }
            }
        }
    }

    /// Take the next thing to write, if anything may go now.
    fn next(&mut self) -> bool {
        if let Some(bytes) = self.urgent.pop_front() {
            self.current = Some(Current {
                item: Outgoing::internal(bytes, None),
                offset: 0,
                urgent: true,
            });
            return true;
        }
        match self.queue.front() {
            Some(Item::Message(m))
                if self.awaiting_ack.is_empty()
                    || (m.pipelined && self.awaiting_ack.iter().all(|a| a.pipelined)) => {}
            _ => return false,
        }
        let Some(Item::Message(item)) = self.queue.pop_front() else {
            return false;
        };
        self.current = Some(Current {
            item,
            offset: 0,
            urgent: false,
        });
        true
    }

    /// Nothing more will be written: report the tickets of what was not.
    fn finish(&mut self, error: Option<Errno>) {
        self.done = true;
        let errno = error.unwrap_or(Errno::EPIPE) as i32;
        let current = self.current.take().map(|c| c.item);
        let queued = self.queue.drain(..).filter_map(|item| match item {
            Item::Message(msg) => Some(msg),
            Item::Close => None,
        });
        for msg in current.into_iter().chain(queued) {
            for &ticket in &msg.tickets {
                self.notices.push(Notice::Failed { ticket, errno });
            }
        }
        self.urgent.clear();
        self.queued_bytes = 0;
    }

    /// The channel is over: drop whatever is queued (reporting tickets).
    pub(crate) fn abandon(&mut self) {
        if !self.done {
            self.finish(None);
        }
        self.awaiting_ack.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::tests::socket_pair;
    use std::io::Read;

    fn read_all(peer: &OwnedFd) -> Vec<u8> {
        let mut got = vec![0u8; 1 << 16];
        let n = nix::unistd::read(peer, &mut got).expect("read");
        got.truncate(n);
        got
    }

    #[test]
    fn after_the_first_small_js_messages_of_one_tick_are_written_together() {
        let (ours, theirs) = socket_pair();
        let mut w = Writer::default();
        assert_eq!(w.push_js(b"a\n", None, None), Ok(true));
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        assert_eq!(read_all(&theirs), b"a\n");
        assert_eq!(w.push_js(b"b\n", None, None), Ok(false));
        assert_eq!(w.push_js(b"c\n", None, Some(7)), Ok(false));
        assert_eq!(w.queued_bytes(), 4);
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        w.end_tick();
        assert_eq!(w.queued_bytes(), 0);
        assert_eq!(read_all(&theirs), b"b\nc\n");
        assert_eq!(w.push_js(b"d\n", None, None), Ok(true));
    }

    #[test]
    fn a_large_message_or_a_descriptor_is_written_at_once_after_what_waits() {
        let mut w = Writer::default();
        assert_eq!(w.push_js(b"first\n", None, None), Ok(true));
        assert_eq!(w.push_js(b"a\n", None, None), Ok(false));
        let big = vec![b'x'; COALESCE_LIMIT];
        assert_eq!(w.push_js(&big, None, None), Ok(true));
        let (pass, _keep) = socket_pair();
        assert_eq!(w.push_js(b"h\n", Some(Rc::new(pass)), None), Ok(true));
    }

    #[test]
    fn messages_behind_a_descriptor_wait_for_its_ack_but_our_replies_do_not() {
        let (ours, theirs) = socket_pair();
        let (pass, _keep) = socket_pair();
        let mut w = Writer::default();
        w.push_js(b"handle\n", Some(Rc::new(pass)), None)
            .expect("push");
        w.push_js(b"after\n", None, None).expect("push");
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        assert_eq!(read_all(&theirs), b"handle\n");
        w.push_urgent(b"ack\n".to_vec());
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        assert_eq!(read_all(&theirs), b"ack\n");
        w.on_ack(true);
        assert_eq!(w.notices, vec![Notice::Settled]);
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        assert_eq!(read_all(&theirs), b"after\n");
    }

    #[test]
    fn a_nacked_descriptor_is_sent_again_then_given_up() {
        let (ours, theirs) = socket_pair();
        let (pass, _keep) = socket_pair();
        let mut w = Writer::default();
        w.push_js(b"h\n", Some(Rc::new(pass)), None).expect("push");
        for _ in 0..=MAX_HANDLE_RETRANSMISSIONS {
            assert_eq!(w.write(ours.as_fd()), Progress::Idle);
            assert_eq!(read_all(&theirs), b"h\n");
            assert!(w.notices.is_empty());
            assert_eq!(w.queued_bytes(), 0);
            w.on_ack(false);
        }
        assert_eq!(w.notices, vec![Notice::Settled]);
    }

    /// Everything waiting, over as many reads as it takes (one read ends
    /// at a descriptor).
    fn read_waiting(peer: &OwnedFd) -> Vec<u8> {
        let flags = nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(peer, nix::fcntl::FcntlArg::F_SETFL(flags)).expect("nonblock");
        let mut all = Vec::new();
        let mut chunk = vec![0u8; 1 << 16];
        while let Ok(n @ 1..) = nix::unistd::read(peer, &mut chunk) {
            all.extend_from_slice(&chunk[..n]);
        }
        all
    }

    #[test]
    fn newconns_go_without_waiting_for_each_other_but_other_messages_wait_for_all() {
        let (ours, theirs) = socket_pair();
        let (pass, _keep) = socket_pair();
        let pass = Rc::new(pass);
        let mut w = Writer::default();
        w.push(Outgoing::newconn(b"n1\n".to_vec(), pass.clone()));
        w.push(Outgoing::newconn(b"n2\n".to_vec(), pass.clone()));
        w.push_js(b"user\n", None, None).expect("push");
        w.push(Outgoing::newconn(b"n3\n".to_vec(), pass.clone()));
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        assert_eq!(read_waiting(&theirs), b"n1\nn2\n");
        // The first is refused and goes again, ahead of what waits; the
        // user's message still waits for every ACK.
        w.on_ack(false);
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        assert_eq!(read_waiting(&theirs), b"n1\n");
        w.on_ack(true);
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        assert_eq!(read_waiting(&theirs), b"");
        w.on_ack(true);
        assert_eq!(w.write(ours.as_fd()), Progress::Idle);
        assert_eq!(read_waiting(&theirs), b"user\nn3\n");
        assert!(
            w.notices.is_empty(),
            "the engine's descriptors report nothing to JS"
        );
    }

    #[test]
    fn close_waits_for_what_was_queued_before_it() {
        let (ours, theirs) = socket_pair();
        let mut w = Writer::default();
        w.push_js(b"last\n", None, None).expect("push");
        w.push_close();
        assert_eq!(w.write(ours.as_fd()), Progress::Close);
        assert_eq!(read_all(&theirs), b"last\n");
        assert_eq!(w.push_js(b"late\n", None, None), Err(Errno::EPIPE));
    }

    #[test]
    fn a_blocked_write_goes_on_when_the_peer_reads_and_failures_report_tickets() {
        let (ours, theirs) = socket_pair();
        let mut w = Writer::default();
        let big: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        w.push_js(&big, None, Some(1)).expect("push");
        assert_eq!(w.write(ours.as_fd()), Progress::Blocked);
        assert!(w.queued_bytes() > 0);
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut peer = std::fs::File::from(theirs);
            let mut chunk = vec![0u8; 1 << 16];
            while got.len() < 4 * 1024 * 1024 {
                let n = peer.read(&mut chunk).expect("read");
                got.extend_from_slice(&chunk[..n]);
            }
            got
        });
        while w.write(ours.as_fd()) == Progress::Blocked {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(reader.join().expect("reader"), big);
        // The worker is gone now: the next write fails and its ticket says so.
        w.push_js(b"x\n", None, Some(2)).expect("push");
        assert_eq!(w.write(ours.as_fd()), Progress::Broken);
        assert_eq!(
            w.notices,
            vec![Notice::Failed {
                ticket: 2,
                errno: Errno::EPIPE as i32
            }]
        );
    }
}
