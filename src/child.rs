//! The worker's side of a connection channel (see conn_channel.rs), after
//! Node's `child.js`: in a worker whose agent asked for one, the batches of
//! connections the primary hands over are read here, on the worker's event
//! loop, and given to JS (lib/agent/conn_channel.js) once per wake-up; JS
//! says which it took, and one write answers them all.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};
use std::rc::Rc;

use nix::errno::Errno;

use crate::channel::fdpass;
use crate::sys::{EventLoop, JsFunction, Poll, Ready};

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
    /// Answers not yet written (the socket was full).
    answers: RefCell<Vec<u8>>,
}

/// Connections of complete records: the worker's server ids and the
/// descriptors, in order.
#[derive(Default)]
struct Batch {
    ids: Vec<i32>,
    fds: Vec<OwnedFd>,
}

impl Receiver {
    pub(crate) fn open(
        event_loop: EventLoop,
        sock: OwnedFd,
        js: JsFunction,
    ) -> io::Result<Rc<Receiver>> {
        let receiver = Rc::new(Receiver {
            poll: RefCell::new(None),
            sock,
            js,
            partial: RefCell::new(Vec::new()),
            fds: RefCell::new(VecDeque::new()),
            answers: RefCell::new(Vec::new()),
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
        drop(self.poll.borrow_mut().take());
        let _ = nix::sys::socket::shutdown(self.sock.as_raw_fd(), nix::sys::socket::Shutdown::Both);
    }

    fn on_ready(&self, ready: Ready) {
        if ready.writable {
            self.write_answers();
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
            let n = usize::from(u16::from_le_bytes([header[0], header[1]]));
            let Some(ids) = partial.get(at + 2..at + 2 + 4 * n) else {
                break;
            };
            if fds.len() < n {
                return Err(());
            }
            for id in ids.chunks_exact(4) {
                batch
                    .ids
                    .push(u32::from_le_bytes([id[0], id[1], id[2], id[3]]) as i32);
            }
            batch.fds.extend(fds.drain(..n));
            at += 2 + 4 * n;
        }
        partial.drain(..at);
        Ok(())
    }

    /// Give the batch to JS and answer for it.
    fn give(&self, batch: Batch) {
        if batch.ids.is_empty() {
            return;
        }
        let count = batch.ids.len();
        // JS owns the descriptors from here on.
        let fds: Vec<i32> = batch.fds.into_iter().map(IntoRawFd::into_raw_fd).collect();
        let answers = self.js.call(
            |s| Ok(vec![s.int32_array(&batch.ids)?, s.int32_array(&fds)?]),
            |s, result| s.bytes_of(result),
        );
        // JS took ownership of every descriptor; an answer it could not give
        // (it threw) counts as taken, so the primary never hands one
        // connection to two workers.
        let answers = match answers.flatten() {
            Some(answers) if answers.len() == count => answers,
            _ => vec![1; count],
        };
        let mut out = self.answers.borrow_mut();
        for chunk in answers.chunks(u16::MAX as usize) {
            out.extend_from_slice(&(chunk.len() as u16).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        drop(out);
        self.write_answers();
    }

    fn write_answers(&self) {
        let mut out = self.answers.borrow_mut();
        let mut blocked = false;
        while !out.is_empty() {
            match fdpass::send_with_fds(self.sock.as_fd(), &out, &[]) {
                Ok(n) => {
                    out.drain(..n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    blocked = true;
                    break;
                }
                Err(_) => {
                    out.clear();
                    break;
                }
            }
        }
        drop(out);
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
