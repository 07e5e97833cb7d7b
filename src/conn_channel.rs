//! The connection channel: how the primary hands connections to a worker
//! that loads rust-cluster, beside the worker's IPC channel.
//!
//! Node's own worker code takes each round-robin connection as an IPC
//! message with a descriptor, acknowledges the descriptor, and answers
//! `accepted`: three messages and one connection in flight per worker. A
//! worker whose agent asked for it (lib/agent/conn_channel.js) gets its
//! connections here instead, in batches: one `sendmsg` carries up to
//! `CONN_CHANNEL_MAX_BATCH` descriptors, and the worker answers a whole
//! batch with one write. Flow control is by credit: a worker has at most
//! `CONN_CHANNEL_WINDOW` connections handed and not yet answered.
//!
//! The wire, both ways little-endian, on a Unix stream socket pair:
//! - primary to worker: `[n: u16][n × server id: u32]`, the n descriptors
//!   attached to the same `sendmsg`; the server id is the worker's name for
//!   the server (sent with `connServer`);
//! - worker to primary: `[n: u16][n × status: u8]`, for the oldest n
//!   connections not yet answered: 1 taken, 0 refused (the server closed or
//!   is at `maxConnections`), which the primary gives to another worker.
//!
//! Where the worker accepts for itself (accept_share.rs), two more records
//! go to it and one comes back, marked by a count no batch has:
//! - `[LISTEN][server id: u32][slot: u32][tag: u16]` with the listening
//!   socket and the shared page: accept for that server, counting in that
//!   slot while it holds that grant;
//! - `[UNLISTEN][server id: u32]`: stop, and close the copy;
//! - back, `[RETURNED][n: u16][n × (server id: u32, counted: u8)]` with n
//!   descriptors: connections the worker accepted and does not serve (its
//!   server refused them, or the slot was taken back before it could count
//!   them), which the primary gives to another worker; `counted` 1 for one
//!   the slot's final count included, which the primary takes off.
//!
//! The primary keeps its copy of every connection until it is answered, so
//! a worker that dies with connections unanswered loses none of them.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::{Rc, Weak};
use std::time::Instant;

use nix::errno::Errno;

use crate::channel::fdpass;
use crate::contract::CONN_CHANNEL_MAX_BATCH;
use crate::round_robin_handle::Accepted;
use crate::sys::{EventLoop, Poll, Ready};

/// Record marks beyond any batch's count (at most `CONN_CHANNEL_MAX_BATCH`).
/// A record field: the little-endian u16 or u32 that `b` starts with (the
/// caller took `b` with a length check).
pub(crate) fn le_u16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

pub(crate) fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

pub(crate) const LISTEN: u16 = 0xffff;
pub(crate) const UNLISTEN: u16 = 0xfffe;
pub(crate) const RETURNED: u16 = 0xffff;

/// The worker's `RETURNED` record for connections of `(server id,
/// counted)`, to go with their descriptors.
pub(crate) fn returned_record(conns: &[(u32, bool)]) -> Vec<u8> {
    let mut record = RETURNED.to_le_bytes().to_vec();
    record.extend_from_slice(&(conns.len() as u16).to_le_bytes());
    for &(id, counted) in conns {
        record.extend_from_slice(&id.to_le_bytes());
        record.push(u8::from(counted));
    }
    record
}

/// A connection handed over the channel and not yet answered.
pub(crate) struct Handed {
    pub(crate) key: Rc<str>,
    pub(crate) conn: Accepted,
    pub(crate) sent: Instant,
}

/// What the engine hears from a connection channel.
pub(crate) trait ConnEvents {
    /// The worker answered these connections, oldest first: `true` taken.
    fn answered(&self, worker: u32, answers: Vec<(Handed, bool)>);
    /// The channel ended; these were never answered.
    fn conn_channel_closed(&self, worker: u32, unanswered: Vec<Handed>);
    /// Connections the worker accepted itself and does not serve.
    fn returned(&self, worker: u32, conns: Vec<Returned>);
}

/// A connection a worker accepted itself and gave back.
pub(crate) struct Returned {
    /// The worker's name for the server.
    pub(crate) id: u32,
    pub(crate) fd: OwnedFd,
    /// Whether the final count of the worker's slot, taken back since,
    /// included it.
    pub(crate) counted: bool,
}

/// A batch encoded and not yet (fully) written.
struct Batch {
    header: Vec<u8>,
    fds: Vec<Rc<OwnedFd>>,
    offset: usize,
}

pub(crate) struct ConnChannel {
    worker: u32,
    /// Declared before `sock`: the poll must stop before the socket closes.
    poll: RefCell<Option<Poll>>,
    sock: OwnedFd,
    /// Handed and not yet answered, oldest first.
    handed: RefCell<VecDeque<Handed>>,
    /// Encoded batches waiting for room in the socket.
    outbox: RefCell<VecDeque<Batch>>,
    /// Answer bytes of a record not complete yet.
    partial: RefCell<Vec<u8>>,
    /// Descriptors of returned connections not matched with their record.
    fds: RefCell<VecDeque<OwnedFd>>,
    open: Cell<bool>,
    events: Weak<dyn ConnEvents>,
}

impl ConnChannel {
    /// Serve `sock`, our end of the pair whose other end goes to the worker.
    pub(crate) fn open(
        event_loop: Option<EventLoop>,
        worker: u32,
        sock: OwnedFd,
        events: Weak<dyn ConnEvents>,
    ) -> io::Result<Rc<ConnChannel>> {
        let channel = Rc::new(ConnChannel {
            worker,
            poll: RefCell::new(None),
            sock,
            handed: RefCell::new(VecDeque::new()),
            outbox: RefCell::new(VecDeque::new()),
            partial: RefCell::new(Vec::new()),
            fds: RefCell::new(VecDeque::new()),
            open: Cell::new(true),
            events,
        });
        if let Some(event_loop) = event_loop {
            let poll = Poll::for_owner(
                event_loop,
                channel.sock.as_fd(),
                Rc::downgrade(&channel),
                ConnChannel::on_ready,
                ConnChannel::report_end,
            )?;
            poll.watch(true, false);
            // Connections in flight keep the loop alive through the listener;
            // this channel alone does not.
            poll.set_ref(false);
            *channel.poll.borrow_mut() = Some(poll);
        }
        Ok(channel)
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.get()
    }

    /// Connections handed and not yet answered.
    pub(crate) fn outstanding(&self) -> usize {
        self.handed.borrow().len()
    }

    /// The oldest unanswered connection's hand-over time, if any.
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.handed.borrow().front().map(|h| h.sent)
    }

    /// Hand `conns` (server id, connection) over, in batches. The caller
    /// checks `is_open` first.
    pub(crate) fn hand(&self, conns: Vec<(u32, Handed)>) {
        let mut handed = self.handed.borrow_mut();
        let mut outbox = self.outbox.borrow_mut();
        let mut conns = conns.into_iter().peekable();
        while conns.peek().is_some() {
            let chunk: Vec<(u32, Handed)> = conns.by_ref().take(CONN_CHANNEL_MAX_BATCH).collect();
            let mut header = Vec::with_capacity(2 + 4 * chunk.len());
            header.extend_from_slice(&(chunk.len() as u16).to_le_bytes());
            let mut fds = Vec::with_capacity(chunk.len());
            for (id, h) in chunk {
                header.extend_from_slice(&id.to_le_bytes());
                fds.push(h.conn.fd.clone());
                handed.push_back(h);
            }
            outbox.push_back(Batch {
                header,
                fds,
                offset: 0,
            });
        }
        drop((handed, outbox));
        self.write();
    }

    /// Let the worker accept for server `id` itself: the listening socket,
    /// and the shared page with its `slot` and the grant's `tag`.
    pub(crate) fn listen(&self, id: u32, slot: usize, tag: u16, listener: OwnedFd, page: OwnedFd) {
        let mut header = LISTEN.to_le_bytes().to_vec();
        header.extend_from_slice(&id.to_le_bytes());
        header.extend_from_slice(&(slot as u32).to_le_bytes());
        header.extend_from_slice(&tag.to_le_bytes());
        self.queue(header, vec![Rc::new(listener), Rc::new(page)]);
    }

    /// Stop the worker accepting for server `id`.
    pub(crate) fn unlisten(&self, id: u32) {
        let mut header = UNLISTEN.to_le_bytes().to_vec();
        header.extend_from_slice(&id.to_le_bytes());
        self.queue(header, Vec::new());
    }

    fn queue(&self, header: Vec<u8>, fds: Vec<Rc<OwnedFd>>) {
        self.outbox.borrow_mut().push_back(Batch {
            header,
            fds,
            offset: 0,
        });
        self.write();
    }

    fn write(&self) {
        let mut outbox = self.outbox.borrow_mut();
        let mut blocked = false;
        while let Some(batch) = outbox.front_mut() {
            let pass: Vec<_> = match batch.offset {
                0 => batch.fds.iter().map(|fd| fd.as_fd()).collect(),
                _ => Vec::new(),
            };
            match fdpass::send_with_fds(self.sock.as_fd(), &batch.header[batch.offset..], &pass) {
                Ok(n) => {
                    batch.offset += n;
                    if batch.offset == batch.header.len() {
                        outbox.pop_front();
                    }
                }
                Err(Errno::EAGAIN) => {
                    blocked = true;
                    break;
                }
                Err(Errno::EINTR) => {}
                // The reader sees the end and reports it.
                Err(_) => {
                    outbox.clear();
                    break;
                }
            }
        }
        drop(outbox);
        if let Some(poll) = self.poll.borrow().as_ref() {
            poll.watch(self.open.get(), blocked);
        }
    }

    pub(crate) fn on_ready(&self, ready: Ready) {
        if ready.writable {
            self.write();
        }
        if ready.readable || ready.error.is_some() {
            self.read();
        }
    }

    fn read(&self) {
        let mut buf = [0u8; 4096];
        loop {
            if !self.open.get() {
                return;
            }
            let mut fds = Vec::new();
            let max = CONN_CHANNEL_MAX_BATCH;
            let n = match fdpass::recv_with_fds(self.sock.as_fd(), &mut buf, &mut fds, max) {
                Ok((_, true)) | Ok((0, _)) => return self.report_end(),
                Ok((n, false)) => n,
                Err(Errno::EAGAIN) => return,
                Err(Errno::EINTR) => continue,
                Err(_) => return self.report_end(),
            };
            self.fds.borrow_mut().extend(fds);
            let records = {
                let mut partial = self.partial.borrow_mut();
                partial.extend_from_slice(&buf[..n]);
                match self.take_records(&mut partial) {
                    Some(records) => records,
                    None => {
                        drop(partial);
                        return self.report_end();
                    }
                }
            };
            let (answers, returned) = records;
            if let Some(events) = self.events.upgrade() {
                if !answers.is_empty() {
                    events.answered(self.worker, answers);
                }
                if !returned.is_empty() {
                    events.returned(self.worker, returned);
                }
            }
            if n < buf.len() {
                return;
            }
        }
    }

    /// The complete records in `partial`: answers, matched with the oldest
    /// unanswered connections, and returned connections with their server
    /// ids; None when the worker answered more than it was handed or
    /// returned connections without their descriptors (a broken peer).
    #[allow(clippy::type_complexity)]
    fn take_records(&self, partial: &mut Vec<u8>) -> Option<(Vec<(Handed, bool)>, Vec<Returned>)> {
        let mut answers = Vec::new();
        let mut returned = Vec::new();
        let mut handed = self.handed.borrow_mut();
        let mut fds = self.fds.borrow_mut();
        let mut at = 0;
        while let Some(header) = partial.get(at..at + 2) {
            let mark = le_u16(header);
            if mark == RETURNED {
                let Some(count) = partial.get(at + 2..at + 4) else {
                    break;
                };
                let n = usize::from(le_u16(count));
                let Some(conns) = partial.get(at + 4..at + 4 + 5 * n) else {
                    break;
                };
                if fds.len() < n {
                    return None;
                }
                for conn in conns.chunks_exact(5) {
                    returned.push(Returned {
                        id: le_u32(conn),
                        fd: fds.pop_front()?,
                        counted: conn[4] == 1,
                    });
                }
                at += 4 + 5 * n;
                continue;
            }
            let n = usize::from(mark);
            let Some(statuses) = partial.get(at + 2..at + 2 + n) else {
                break;
            };
            for &status in statuses {
                answers.push((handed.pop_front()?, status == 1));
            }
            at += 2 + n;
        }
        partial.drain(..at);
        Some((answers, returned))
    }

    /// End the channel from a poll callback and tell the engine, which gives
    /// what was not answered to other workers.
    fn report_end(&self) {
        let unanswered = self.end();
        if let Some(events) = self.events.upgrade() {
            events.conn_channel_closed(self.worker, unanswered);
        }
    }

    /// The channel is over (the worker closed it, died, or broke the
    /// protocol): returns what it was handed and did not answer.
    pub(crate) fn end(&self) -> Vec<Handed> {
        if !self.open.replace(false) {
            return Vec::new();
        }
        drop(self.poll.borrow_mut().take());
        let _ = nix::sys::socket::shutdown(
            std::os::fd::AsRawFd::as_raw_fd(&self.sock),
            nix::sys::socket::Shutdown::Both,
        );
        self.outbox.borrow_mut().clear();
        self.fds.borrow_mut().clear();
        let unanswered: Vec<Handed> = self.handed.borrow_mut().drain(..).collect();
        unanswered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::tests::socket_pair;
    use std::io::Write;

    #[derive(Default)]
    struct Answers {
        answered: RefCell<Vec<bool>>,
        closed: RefCell<Vec<usize>>,
        returned: RefCell<Vec<(u32, bool)>>,
    }

    impl ConnEvents for Answers {
        fn answered(&self, _: u32, answers: Vec<(Handed, bool)>) {
            self.answered
                .borrow_mut()
                .extend(answers.into_iter().map(|(_, ok)| ok));
        }
        fn conn_channel_closed(&self, _: u32, unanswered: Vec<Handed>) {
            self.closed.borrow_mut().push(unanswered.len());
        }
        fn returned(&self, _: u32, conns: Vec<Returned>) {
            self.returned
                .borrow_mut()
                .extend(conns.into_iter().map(|r| (r.id, r.counted)));
        }
    }

    /// Our channel, the worker's end, and what the channel reported.
    fn channel() -> (Rc<ConnChannel>, OwnedFd, Rc<Answers>) {
        let (ours, theirs) = socket_pair();
        let events = Rc::new(Answers::default());
        let weak: Weak<dyn ConnEvents> = Rc::downgrade(&(events.clone() as Rc<dyn ConnEvents>));
        let ch = ConnChannel::open(None, 1, ours, weak).expect("open");
        (ch, theirs, events)
    }

    fn handed(n: usize) -> Vec<(u32, Handed)> {
        (0..n)
            .map(|i| {
                let (conn, _peer) = socket_pair();
                let h = Handed {
                    key: "k".into(),
                    conn: Accepted::new(conn, None),
                    sent: Instant::now(),
                };
                (i as u32 % 3, h)
            })
            .collect()
    }

    const READABLE: Ready = Ready {
        readable: true,
        writable: false,
        hangup: false,
        error: None,
    };

    #[test]
    fn batches_carry_their_descriptors_and_answers_settle_them_in_order() {
        let (ch, theirs, events) = channel();
        ch.hand(handed(CONN_CHANNEL_MAX_BATCH + 5));
        assert_eq!(ch.outstanding(), CONN_CHANNEL_MAX_BATCH + 5);

        // The worker reads two records: a full batch and the rest.
        let mut got = Vec::new();
        let mut buf = vec![0u8; 4096];
        for expected in [CONN_CHANNEL_MAX_BATCH, 5] {
            let mut fds = Vec::new();
            let (n, _) =
                fdpass::recv_with_fds(theirs.as_fd(), &mut buf, &mut fds, 64).expect("recv");
            assert_eq!(le_u16(&buf) as usize, expected);
            assert_eq!(n, 2 + 4 * expected);
            assert_eq!(fds.len(), expected);
            got.extend(fds);
        }

        // It takes the first two, refuses the third, in a split record.
        let mut peer = std::fs::File::from(theirs);
        peer.write_all(&[3, 0, 1]).expect("write");
        ch.on_ready(READABLE);
        assert!(events.answered.borrow().is_empty());
        peer.write_all(&[1, 0]).expect("write");
        ch.on_ready(READABLE);
        assert_eq!(*events.answered.borrow(), vec![true, true, false]);
        assert_eq!(ch.outstanding(), CONN_CHANNEL_MAX_BATCH + 2);

        // The worker goes away: the rest come back unanswered.
        drop(peer);
        ch.on_ready(READABLE);
        assert_eq!(*events.closed.borrow(), vec![CONN_CHANNEL_MAX_BATCH + 2]);
    }

    #[test]
    fn returned_connections_come_back_with_their_descriptors() {
        let (ch, theirs, events) = channel();
        ch.hand(handed(1));
        let (a, _pa) = socket_pair();
        let (b, _pb) = socket_pair();
        // An answer, then two returned connections of servers 7 and 9, the
        // second counted in a slot since taken back.
        let mut record = vec![1, 0, 1];
        record.extend_from_slice(&returned_record(&[(7, false), (9, true)]));
        fdpass::send_with_fds(theirs.as_fd(), &record, &[a.as_fd(), b.as_fd()]).expect("send");
        ch.on_ready(READABLE);
        assert_eq!(*events.answered.borrow(), vec![true]);
        assert_eq!(*events.returned.borrow(), vec![(7, false), (9, true)]);
        assert!(ch.is_open());

        // Returned connections without their descriptors: a broken peer.
        let record = returned_record(&[(7, false)]);
        std::fs::File::from(theirs)
            .write_all(&record)
            .expect("write");
        ch.on_ready(READABLE);
        assert!(!ch.is_open());
    }

    #[test]
    fn answering_more_than_was_handed_ends_the_channel() {
        let (ch, theirs, events) = channel();
        ch.hand(handed(1));
        std::fs::File::from(theirs)
            .write_all(&[2, 0, 1, 1])
            .expect("write");
        ch.on_ready(READABLE);
        assert!(!ch.is_open());
        assert_eq!(*events.closed.borrow(), vec![0]);
    }
}
