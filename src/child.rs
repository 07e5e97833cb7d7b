//! The worker's side of a connection channel (see conn_channel.rs), after
//! Node's `child.js`: in a worker whose agent asked for one, the batches of
//! connections the primary hands over are read here, on the worker's event
//! loop, and given to JS (lib/agent/conn_channel.js) once per wake-up; JS
//! says which it took, and one write answers them all. Where the primary
//! lets the worker accept for a server itself (accept_share.rs), the
//! connections it accepts take the same way to JS, and those its server
//! refuses go back to the primary.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};
use std::rc::{Rc, Weak};

use nix::errno::Errno;
use socket2::SockRef;

use crate::accept_share::{now_ms, Counters, REST_MS};
use crate::channel::fdpass;
use crate::conn_channel::{le_u16, le_u32, returned_record, LISTEN, UNLISTEN};
use crate::sys::{EventLoop, JsFunction, Poll, Ready, Timer};

/// A worker out of descriptors stops accepting this long.
const EMFILE_REST_MS: u64 = 50;

/// Reads per wake-up before the event loop moves on, as in channel/mod.rs.
const READS_PER_CALLBACK: usize = 32;

pub(crate) struct Receiver {
    /// Declared before `sock`: the poll must stop before the socket closes.
    poll: RefCell<Option<Poll>>,
    sock: OwnedFd,
    /// `onConnections(ids, fds)`, returning a Uint8Array of answers.
    js: JsFunction,
    /// Bytes of a record not complete yet.
    partial: RefCell<Vec<u8>>,
    /// Descriptors received and not yet matched with their record.
    fds: RefCell<VecDeque<OwnedFd>>,
    /// Records to the primary not yet written (the socket was full), each
    /// with the descriptors that go with its first byte.
    outbox: RefCell<VecDeque<(Vec<u8>, Vec<OwnedFd>)>>,
    /// The servers this worker accepts for itself, by server id.
    listening: RefCell<HashMap<i32, Rc<Listening>>>,
    event_loop: EventLoop,
    me: Weak<Receiver>,
}

/// Connections of complete records: the worker's server ids and the
/// descriptors, in order; `own`, the socket the worker accepted them on
/// itself (and counted them for).
#[derive(Default)]
struct Batch {
    ids: Vec<i32>,
    fds: Vec<OwnedFd>,
    own: Option<Rc<Listening>>,
}

/// A listening socket this worker accepts on for one of its servers.
struct Listening {
    /// Declared before `sock`: the poll must stop before the socket closes.
    poll: Poll,
    rest: Timer,
    sock: OwnedFd,
    counters: Counters,
    slot: usize,
    /// The grant the slot is ours by.
    tag: u16,
}

impl Receiver {
    pub(crate) fn open(
        event_loop: EventLoop,
        sock: OwnedFd,
        js: JsFunction,
    ) -> io::Result<Rc<Receiver>> {
        let receiver = Rc::new_cyclic(|me| Receiver {
            poll: RefCell::new(None),
            sock,
            js,
            partial: RefCell::new(Vec::new()),
            fds: RefCell::new(VecDeque::new()),
            outbox: RefCell::new(VecDeque::new()),
            listening: RefCell::new(HashMap::new()),
            event_loop,
            me: me.clone(),
        });
        let poll = Poll::for_owner(
            event_loop,
            receiver.sock.as_fd(),
            Rc::downgrade(&receiver),
            Receiver::on_ready,
            Receiver::close,
        )?;
        poll.watch(true, false);
        // The worker's servers keep it alive; this channel does not.
        poll.set_ref(false);
        *receiver.poll.borrow_mut() = Some(poll);
        Ok(receiver)
    }

    pub(crate) fn close(&self) {
        // Our copies of listening sockets close with the channel.
        let listening = std::mem::take(&mut *self.listening.borrow_mut());
        drop(listening);
        drop(self.poll.borrow_mut().take());
        let _ = nix::sys::socket::shutdown(self.sock.as_raw_fd(), nix::sys::socket::Shutdown::Both);
    }

    fn on_ready(&self, ready: Ready) {
        if ready.writable {
            self.write_out();
        }
        if !(ready.readable || ready.error.is_some()) {
            return;
        }
        let mut batch = Batch::default();
        let mut buf = [0u8; 8192];
        for _ in 0..READS_PER_CALLBACK {
            let mut received = Vec::new();
            match fdpass::recv_with_fds(self.sock.as_fd(), &mut buf, &mut received, 64) {
                Ok((0, _)) | Ok((_, true)) => {
                    self.give(batch);
                    return self.close();
                }
                Ok((n, false)) => {
                    self.partial.borrow_mut().extend_from_slice(&buf[..n]);
                    self.fds.borrow_mut().extend(received);
                    if self.take_records(&mut batch).is_err() {
                        self.give(batch);
                        return self.close();
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break,
                Err(_) => {
                    self.give(batch);
                    return self.close();
                }
            }
        }
        self.give(batch);
    }

    /// Move the complete records out of `partial`; Err when a record came
    /// without its descriptors (a broken peer).
    fn take_records(&self, batch: &mut Batch) -> Result<(), ()> {
        let mut partial = self.partial.borrow_mut();
        let mut fds = self.fds.borrow_mut();
        let mut at = 0;
        while let Some(header) = partial.get(at..at + 2) {
            let mark = le_u16(header);
            if mark == LISTEN {
                let Some(rest) = partial.get(at + 2..at + 12) else {
                    break;
                };
                let id = le_u32(rest) as i32;
                let slot = le_u32(&rest[4..]) as usize;
                let tag = le_u16(&rest[8..]);
                let (Some(listener), Some(page)) = (fds.pop_front(), fds.pop_front()) else {
                    return Err(());
                };
                self.listen(id, (slot, tag), listener, page);
                at += 12;
                continue;
            }
            if mark == UNLISTEN {
                let Some(rest) = partial.get(at + 2..at + 6) else {
                    break;
                };
                let id = le_u32(rest) as i32;
                self.listening.borrow_mut().remove(&id);
                at += 6;
                continue;
            }
            let n = usize::from(mark);
            let Some(ids) = partial.get(at + 2..at + 2 + 4 * n) else {
                break;
            };
            if fds.len() < n {
                return Err(());
            }
            for id in ids.chunks_exact(4) {
                batch.ids.push(le_u32(id) as i32);
            }
            batch.fds.extend(fds.drain(..n));
            at += 2 + 4 * n;
        }
        partial.drain(..at);
        Ok(())
    }

    /// Accept for server `id` on `listener`, counting in `slot` of the
    /// shared `page` while grant `tag` holds it. A socket or page that
    /// cannot be used leaves the server to the primary's hand-over, which
    /// goes on as before.
    fn listen(&self, id: i32, (slot, tag): (usize, u16), listener: OwnedFd, page: OwnedFd) {
        let Ok(counters) = Counters::map(&page) else {
            return;
        };
        if SockRef::from(&listener).set_nonblocking(true).is_err() {
            return;
        }
        let me = self.me.clone();
        let Ok(poll) = Poll::new(self.event_loop, listener.as_fd(), move |_| {
            if let Some(receiver) = me.upgrade() {
                receiver.accept(id);
            }
        }) else {
            return;
        };
        let me = self.me.clone();
        let Ok(rest) = Timer::new(self.event_loop, move || {
            if let Some(receiver) = me.upgrade() {
                let listening = receiver.listening.borrow().get(&id).cloned();
                if let Some(l) = listening {
                    l.poll.watch(true, false);
                }
            }
        }) else {
            return;
        };
        poll.watch(true, false);
        // The worker's server keeps it alive, not our copy.
        poll.set_ref(false);
        let listening = Listening {
            poll,
            rest,
            sock: listener,
            counters,
            slot,
            tag,
        };
        self.listening.borrow_mut().insert(id, Rc::new(listening));
    }

    /// The listening socket of server `id` is readable: take one connection
    /// unless this worker is ahead of the others.
    fn accept(&self, id: i32) {
        let Some(l) = self.listening.borrow().get(&id).cloned() else {
            return;
        };
        let rest = |ms| {
            l.poll.watch(false, false);
            l.rest.start(ms, 0);
        };
        let room = l.counters.look(l.slot, l.tag, now_ms());
        if room == 0 {
            return rest(REST_MS);
        }
        let mut batch = Batch {
            own: Some(l.clone()),
            ..Batch::default()
        };
        let sock = SockRef::from(&l.sock);
        while (batch.ids.len() as u64) < room {
            match sock.accept() {
                Ok((conn, _)) => {
                    let conn = OwnedFd::from(conn);
                    if !l.counters.try_take(l.slot, l.tag) {
                        // The primary took the slot back (UNLISTEN is on its
                        // way): it hands this one out and counts it.
                        self.give_back(vec![(id, false, conn)]);
                        break;
                    }
                    batch.ids.push(id);
                    batch.fds.push(conn);
                }
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(nix::libc::EMFILE | nix::libc::ENFILE)
                    ) =>
                {
                    rest(EMFILE_REST_MS);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Nothing left (another worker was first), or a client that
                // gave up.
                Err(_) => break,
            }
        }
        self.give(batch);
    }

    /// Give the batch to JS, then answer for it (connections the primary
    /// handed) or return what JS refused (connections this worker accepted).
    fn give(&self, batch: Batch) {
        if batch.ids.is_empty() {
            return;
        }
        let count = batch.ids.len();
        let raw: Vec<i32> = batch.fds.iter().map(AsRawFd::as_raw_fd).collect();
        let answers = self.js.call(
            |s| Ok(vec![s.int32_array(&batch.ids)?, s.int32_array(&raw)?]),
            |s, result| s.bytes_of(result),
        );
        // An answer JS could not give (it threw) counts as taken, so no
        // connection ever reaches two workers.
        let answers = match answers.flatten() {
            Some(answers) if answers.len() == count => answers,
            _ => vec![1; count],
        };
        let mut refused = Vec::new();
        for ((fd, id), answer) in batch.fds.into_iter().zip(batch.ids).zip(&answers) {
            if *answer == 1 {
                // Its socket handle in JS owns it now.
                let _ = fd.into_raw_fd();
            } else if let Some(l) = &batch.own {
                // Still counted if the primary has taken the slot back.
                let counted = !l.counters.untake(l.slot, l.tag);
                refused.push((id, counted, fd));
            }
            // A refused connection the primary handed: our copy closes
            // here, and the primary gives its own to another worker.
        }
        if batch.own.is_none() {
            let mut outbox = self.outbox.borrow_mut();
            for chunk in answers.chunks(u16::MAX as usize) {
                let mut record = (chunk.len() as u16).to_le_bytes().to_vec();
                record.extend_from_slice(chunk);
                outbox.push_back((record, Vec::new()));
            }
            drop(outbox);
            self.write_out();
        } else if !refused.is_empty() {
            self.give_back(refused);
        }
    }

    /// Return connections this worker accepted and does not serve, with
    /// whether its slot's final count included each.
    fn give_back(&self, conns: Vec<(i32, bool, OwnedFd)>) {
        let ids: Vec<(u32, bool)> = conns
            .iter()
            .map(|&(id, counted, _)| (id as u32, counted))
            .collect();
        let fds = conns.into_iter().map(|(_, _, fd)| fd).collect();
        self.outbox
            .borrow_mut()
            .push_back((returned_record(&ids), fds));
        self.write_out();
    }

    fn write_out(&self) {
        let mut outbox = self.outbox.borrow_mut();
        let mut blocked = false;
        while let Some((record, fds)) = outbox.front_mut() {
            let pass: Vec<_> = fds.iter().map(AsFd::as_fd).collect();
            match fdpass::send_with_fds(self.sock.as_fd(), record, &pass) {
                Ok(n) if n == record.len() => {
                    outbox.pop_front();
                }
                Ok(n) => {
                    // The descriptors went with the first byte.
                    record.drain(..n);
                    fds.clear();
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    blocked = true;
                    break;
                }
                Err(_) => {
                    outbox.clear();
                    break;
                }
            }
        }
        drop(outbox);
        if let Some(poll) = self.poll.borrow().as_ref() {
            poll.watch(true, blocked);
        }
    }
}

/// In a worker whose agent writes its IPC channel itself (lib/agent/sender.js):
/// what a write could not place because the channel was full, written as
/// the primary makes room. It watches a copy of the channel's descriptor,
/// since Node's own handle watches the original for reading.
pub(crate) struct Sender {
    /// Declared before `sock`: the poll must stop before the socket closes.
    poll: RefCell<Option<Poll>>,
    /// Our copy of the channel; dropped (closed) once Node has closed its
    /// own and we have written everything.
    sock: RefCell<Option<OwnedFd>>,
    queue: RefCell<Vec<u8>>,
    closing: Cell<bool>,
    /// `onDrain(errno)`: everything is written (0), or writing failed.
    js: JsFunction,
}

impl Sender {
    pub(crate) fn open(
        event_loop: EventLoop,
        sock: OwnedFd,
        js: JsFunction,
    ) -> io::Result<Rc<Sender>> {
        let sender = Rc::new(Sender {
            poll: RefCell::new(None),
            sock: RefCell::new(None),
            queue: RefCell::new(Vec::new()),
            closing: Cell::new(false),
            js,
        });
        let me = Rc::downgrade(&sender);
        let poll = Poll::new(event_loop, sock.as_fd(), move |_| {
            if let Some(sender) = me.upgrade() {
                sender.on_writable();
            }
        })?;
        *sender.poll.borrow_mut() = Some(poll);
        *sender.sock.borrow_mut() = Some(sock);
        Ok(sender)
    }

    /// Bytes not yet written.
    pub(crate) fn pending(&self) -> usize {
        self.queue.borrow().len()
    }

    /// Queue `data` after what waits, and write what the socket takes now.
    /// Returns the bytes still waiting, or the errno of a failed write.
    pub(crate) fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        self.queue.borrow_mut().extend_from_slice(data);
        self.write_some()
    }

    /// Node closed its end of the channel: close ours once all is written.
    pub(crate) fn close_when_drained(&self) {
        self.closing.set(true);
        if self.pending() == 0 {
            self.close();
        }
    }

    fn close(&self) {
        drop(self.poll.borrow_mut().take());
        drop(self.sock.borrow_mut().take());
    }

    fn write_some(&self) -> Result<usize, Errno> {
        let sock = self.sock.borrow();
        let Some(sock) = sock.as_ref() else {
            return Err(Errno::EPIPE);
        };
        let mut queue = self.queue.borrow_mut();
        let mut result = Ok(());
        while !queue.is_empty() {
            match fdpass::send_with_fds(sock.as_fd(), &queue, &[]) {
                Ok(n) => {
                    queue.drain(..n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => break,
                Err(e) => {
                    queue.clear();
                    result = Err(e);
                }
            }
        }
        let left = queue.len();
        drop(queue);
        if let Some(poll) = self.poll.borrow().as_ref() {
            poll.watch(false, left > 0);
        }
        result.map(|()| left)
    }

    fn on_writable(&self) {
        let errno = match self.write_some() {
            Ok(0) => 0,
            Ok(_) => return,
            Err(e) => -(e as i32),
        };
        if self.closing.get() {
            self.close();
        }
        self.js.call(|s| Ok(vec![s.int(errno)?]), |_, _| ());
    }
}
