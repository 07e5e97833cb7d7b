//! One worker's IPC channel, served on Node's own event loop as Node serves
//! its channels: a poll handle wakes us when the socket is readable, we read
//! it there on the JS thread, answer what is Rust's to answer (descriptor
//! ACKs, `newconn` replies, the agent's connection counts) without entering
//! V8, and hand what is JS's to JS once per read. Writes go out from the JS
//! thread through `writer.rs`.

pub(crate) mod fdpass;
pub(crate) mod framing;
mod patience;
pub(crate) mod ring;
mod ring_reader;
mod socket_linger;
mod stretch;
pub(crate) mod v8;
pub(crate) mod writer;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::{Rc, Weak};

use nix::errno::Errno;
use nix::sys::socket::{shutdown, Shutdown};

use crate::contract::{AGENT_RING, AGENT_RING_END};
use crate::protocol::{self, Incoming};
use crate::sys::{EventLoop, Poll, Ready};
use framing::{Decoder, Mode};
use writer::{Notice, Outgoing, Progress, Writer};

/// Descriptors received ahead of their NODE_HANDLE message. libuv sends one
/// per message; a peer that piles up more is misbehaving.
const MAX_PENDING_FDS: usize = 16;
/// Descriptors one read may bring (libuv sends one per message).
const MAX_FDS_PER_READ: usize = 8;
/// Reads per readiness callback before the event loop moves on, as libuv
/// reads a stream (`uv__read`: 32).
const READS_PER_CALLBACK: usize = 32;
/// One read takes at most this much. Node reads 64 KiB at a time; a larger
/// buffer takes several large messages per system call.
const READ_BUFFER_BYTES: usize = 256 * 1024;

thread_local! {
    /// Every channel reads into this one buffer (they all run on the JS thread).
    static READ_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_BUFFER_BYTES]);
    /// The buffer a read's frames for JS are gathered in, kept between reads
    /// (a new one per read of large messages cost an mmap and a munmap).
    static DELIVERY_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Most of a delivery buffer's capacity kept for the next read.
const DELIVERY_BUFFER_KEPT: usize = 4 * READ_BUFFER_BYTES;

/// Give a delivery's buffer back once JS has its copy.
pub(crate) fn recycle(mut data: Vec<u8>) {
    if data.capacity() <= DELIVERY_BUFFER_KEPT {
        data.clear();
        DELIVERY_BUFFER.with(|kept| *kept.borrow_mut() = data);
    }
}

/// Whether the primary has more workers than its CPUs serve well (the
/// fast paths' limit): its socket waits then never stretch, as the CPU a
/// stretch spins on is one a worker needs.
pub(crate) fn crowded(yes: bool) {
    socket_linger::crowded(yes);
}

/// What the channel reports to its owner, on the JS thread, from a poll
/// callback (so the owner may call JS; the channel holds no borrow then).
pub(crate) trait ChannelEvents {
    /// A worker's `{ ack, accepted }` answer; true when it answered a
    /// `newconn` of ours (else it goes to JS like any cluster message).
    fn newconn_reply(&self, worker: u32, ack: u64, accepted: bool) -> bool;
    /// A message from rust-cluster's worker agent; true when Rust handled it
    /// (connection counts), false to pass it to JS.
    fn agent_message(&self, worker: u32, msg: &v8::Value) -> bool;
    /// What one read brought for JS.
    fn deliver(&self, worker: u32, delivery: Delivery);
    /// The channel is closed; `error` says why when it was not a clean end.
    fn closed(&self, worker: u32, error: Option<String>);
}

/// What one read of a channel brought for JS, in order.
#[derive(Default)]
pub(crate) struct Delivery {
    /// Notices from the writer (a passed descriptor settled, a write that
    /// failed), which come before the messages, as Node handles an ACK
    /// while reading and emits the messages after.
    pub(crate) notices: Vec<Notice>,
    /// The frames for JS as on the wire: json lines, each with its `\n`, or
    /// advanced frames, each with its length prefix.
    pub(crate) data: Vec<u8>,
    pub(crate) frames: usize,
    /// The descriptors that came with `NODE_HANDLE` frames, by frame index.
    pub(crate) fds: Vec<(usize, OwnedFd)>,
}

impl Delivery {
    fn push_frame(&mut self, mode: Mode, frame: &[u8], fd: Option<OwnedFd>) {
        match mode {
            Mode::Json => {
                self.data.extend_from_slice(frame);
                self.data.push(b'\n');
            }
            Mode::Advanced => {
                self.data
                    .extend_from_slice(&(frame.len() as u32).to_be_bytes());
                self.data.extend_from_slice(frame);
            }
        }
        if let Some(fd) = fd {
            self.fds.push((self.frames, fd));
        }
        self.frames += 1;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.frames == 0 && self.notices.is_empty()
    }
}

struct Reader {
    decoder: Decoder,
    /// Descriptors that arrived ahead of their `NODE_HANDLE` frame.
    fds: VecDeque<OwnedFd>,
}

/// The primary's end of one worker's channel.
pub(crate) struct Channel {
    worker: u32,
    mode: Mode,
    /// Declared before `sock`: the poll must stop before the socket closes.
    poll: RefCell<Option<Poll>>,
    sock: OwnedFd,
    reader: RefCell<Reader>,
    writer: RefCell<Writer>,
    /// Still reading; false once the end was seen or the channel was ended.
    open: Cell<bool>,
    /// JS sent on it in this tick (it is on the engine's list for `flush`).
    in_tick: Cell<bool>,
    events: Weak<dyn ChannelEvents>,
    me: Weak<Channel>,
    event_loop: Option<EventLoop>,
    /// The worker's shared-memory stream, once its agent gave us one.
    ring: RefCell<Option<Rc<ring::Ring>>>,
    /// What the socket brought while the ring was in use (bytes, then
    /// descriptors): it follows the ring's last message.
    stash: RefCell<(Vec<u8>, Vec<OwnedFd>)>,
    /// The ring's last message was read: the socket's turn.
    ring_ended: Cell<bool>,
    /// The ring is over and the socket has brought nothing since: a
    /// doorbell rung for the ring's last write may still come.
    after_ring: Cell<bool>,
    /// The ring brought messages in this turn of the loop (cleared after
    /// the poll): where the host takes a stream's end a turn after its last
    /// bytes (not `sys::hangup_ends_read()`), an end the socket shows in the
    /// same turn waits for the next one.
    ring_read_this_turn: Cell<bool>,
}

/// Most a worker may write to its socket while its ring is in use (its
/// agent writes nothing there until the ring ends).
const MAX_STASH_BYTES: usize = 64 << 20;

impl Channel {
    /// Serve `sock` (our end of the socket pair) on `event_loop`. Without a
    /// loop (unit tests) the owner drives it by calling `on_ready`.
    pub(crate) fn open(
        event_loop: Option<EventLoop>,
        worker: u32,
        sock: OwnedFd,
        mode: Mode,
        max_message: usize,
        events: Weak<dyn ChannelEvents>,
    ) -> io::Result<Rc<Channel>> {
        let channel = Rc::new_cyclic(|me| Channel {
            me: me.clone(),
            event_loop,
            ring: RefCell::new(None),
            stash: RefCell::new((Vec::new(), Vec::new())),
            ring_ended: Cell::new(false),
            after_ring: Cell::new(false),
            ring_read_this_turn: Cell::new(false),
            worker,
            mode,
            poll: RefCell::new(None),
            sock,
            reader: RefCell::new(Reader {
                decoder: Decoder::new(mode, max_message),
                fds: VecDeque::new(),
            }),
            writer: RefCell::new(Writer::default()),
            open: Cell::new(true),
            in_tick: Cell::new(false),
            events,
        });
        if let Some(event_loop) = event_loop {
            let poll = Poll::for_owner(
                event_loop,
                channel.sock.as_fd(),
                Rc::downgrade(&channel),
                Channel::on_ready,
                Channel::broke,
            )?;
            poll.watch(true, false);
            *channel.poll.borrow_mut() = Some(poll);
        }
        Ok(channel)
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    #[cfg(test)]
    pub(crate) fn is_open(&self) -> bool {
        self.open.get()
    }

    /// Whether this channel keeps Node's event loop alive (`channel.ref()`).
    pub(crate) fn set_ref(&self, on: bool) {
        if let Some(poll) = self.poll.borrow().as_ref() {
            poll.set_ref(on);
        }
    }

    /// A message from JS: the first of a tick and large ones are written
    /// now, the other small ones with the rest of the tick's at `end_tick`. Returns the bytes JS has queued and not yet
    /// written, or the errno of a write on a closed channel.
    pub(crate) fn send_js(
        &self,
        frame: &[u8],
        fd: Option<OwnedFd>,
        ticket: Option<u32>,
    ) -> Result<usize, Errno> {
        let now = self
            .writer
            .borrow_mut()
            .push_js(frame, fd.map(Rc::new), ticket)?;
        if now {
            self.flush();
        }
        Ok(self.writer.borrow().queued_bytes())
    }

    /// A message of the engine's own, written now (after what JS queued).
    pub(crate) fn send(&self, msg: Outgoing) {
        self.writer.borrow_mut().push(msg);
        self.flush();
    }

    /// `worker.process.disconnect()`: close once everything queued is written.
    pub(crate) fn close(&self) {
        self.writer.borrow_mut().push_close();
        self.flush();
    }

    /// Whether this is JS's first send on the channel in this tick (the
    /// caller then remembers to call `end_tick`).
    pub(crate) fn starts_tick(&self) -> bool {
        !self.in_tick.replace(true)
    }

    /// End of the tick: write what JS sent in it.
    pub(crate) fn end_tick(&self) {
        self.in_tick.set(false);
        self.writer.borrow_mut().end_tick();
        self.flush();
    }

    /// Write whatever is queued, as far as the socket takes it. Tried even
    /// while the socket was full: the worker may have read since, and
    /// writable comes only once three quarters of the socket's buffer are
    /// free, after the rest of a batch of large messages has been handled,
    /// while the worker waits for its next message (agent workers, json
    /// 64 KiB, 16 in flight: 0.10-0.11 context switches per round trip
    /// instead of 0.13-0.22). A full socket costs one failed write.
    pub(crate) fn flush(&self) {
        let (progress, wrote) = {
            let mut writer = self.writer.borrow_mut();
            let before = writer.written();
            let progress = writer.write(self.sock.as_fd());
            (progress, writer.written().wrapping_sub(before))
        };
        if wrote > 0 {
            socket_linger::wrote(wrote);
        }
        let blocked = progress == Progress::Blocked;
        if progress == Progress::Close {
            let _ = shutdown(self.sock.as_raw_fd(), Shutdown::Both);
        }
        if let Some(poll) = self.poll.borrow().as_ref() {
            poll.watch(self.open.get(), blocked);
        }
    }

    /// Called by the poll handle (or a test) when the socket is ready.
    pub(crate) fn on_ready(&self, ready: Ready) {
        if ready.writable {
            self.flush();
        }
        if ready.readable || ready.error.is_some() {
            self.read(ready.hangup);
        }
    }

    /// Read what the socket holds. After a short read the rest waits for
    /// the next callback, unless the worker has hung up (`hangup`, asked for
    /// only under libuv 1.51 and earlier): then reading goes on to the end,
    /// as those libuv streams do on POLLHUP, so the end is reported in the
    /// same turn of the loop as the last messages, ahead of the worker's exit
    /// that the same turn may bring.
    fn read(&self, hangup: bool) {
        let Some(events) = self.events.upgrade() else {
            return;
        };
        let mut read_any = false;
        for _ in 0..READS_PER_CALLBACK {
            if !self.open.get() {
                return;
            }
            let mut received = Vec::new();
            let result = READ_BUFFER.with(|buf| {
                let mut buf = buf.borrow_mut();
                let read = fdpass::recv_with_fds(
                    self.sock.as_fd(),
                    &mut buf,
                    &mut received,
                    MAX_FDS_PER_READ,
                );
                if let Ok((n, _)) = read {
                    if self.ring.borrow().is_some() {
                        let mut stash = self.stash.borrow_mut();
                        // Until Node writes again, the socket brings only
                        // doorbells.
                        let data = if stash.0.is_empty() {
                            framing::skip_empty_frames(self.mode, &buf[..n])
                        } else {
                            &buf[..n]
                        };
                        stash.0.extend_from_slice(data);
                    } else if self.after_ring.get() {
                        // The ring's last doorbell may still be on its way.
                        let data = framing::skip_empty_frames(self.mode, &buf[..n]);
                        self.after_ring.set(data.is_empty());
                        self.reader.borrow_mut().decoder.push(data);
                    } else {
                        self.reader.borrow_mut().decoder.push(&buf[..n]);
                    }
                }
                read.map(|(n, truncated)| (n, truncated, n == buf.len()))
            });
            let (n, full) = match result {
                Ok((0, _, _)) => {
                    // Node 24 reads the end of a stream a turn after its last
                    // bytes, so a worker's exit of this turn comes first; the
                    // ring's bytes count as the stream's. The ring is read
                    // out now, the end taken next turn.
                    if !crate::sys::hangup_ends_read()
                        && (read_any || self.ring_read_this_turn.get())
                    {
                        self.read_ring_out();
                        return;
                    }
                    // What the worker left in its ring came before the end.
                    self.finish_ring(&*events);
                    return self.end(&*events, None);
                }
                Ok((_, true, _)) => {
                    let why = "worker sent more file descriptors than fit in one read";
                    return self.end(&*events, Some(why.into()));
                }
                Ok((n, false, full)) => {
                    read_any = true;
                    (n, full)
                }
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(Errno::ECONNRESET) => return self.end(&*events, None),
                Err(e) => return self.end(&*events, Some(io::Error::from(e).to_string())),
            };
            let got_fds = !received.is_empty();
            if self.ring.borrow().is_some() {
                let mut stash = self.stash.borrow_mut();
                stash.1.extend(received);
                if stash.0.len() > MAX_STASH_BYTES || stash.1.len() > MAX_PENDING_FDS {
                    drop(stash);
                    let why = "worker wrote to its socket while its shared channel was in use";
                    return self.end(&*events, Some(why.into()));
                }
                drop(stash);
                if n > 0 && !full && !got_fds {
                    // The doorbell: the ring has news.
                    self.drain_ring();
                    if !hangup {
                        break;
                    }
                }
                continue;
            }
            if let Some(event_loop) = self.event_loop {
                socket_linger::read(event_loop, n);
            }
            if !self.hand_over(received, &*events) {
                return;
            }
            // A short read without descriptors drained the socket. A read
            // that carried one stops at that message even if more waits.
            if n > 0 && !full && !got_fds && !hangup {
                break;
            }
        }
    }

    /// Handle what the decoder holds now (with `received`, the descriptors
    /// that came with it) and give JS its part. False when that ended the
    /// channel: the messages before what ended it are delivered first.
    fn hand_over(&self, received: Vec<OwnedFd>, events: &dyn ChannelEvents) -> bool {
        let (delivery, failure) = self.dispatch_read(received, events);
        // Our ACK replies go out before JS sees the messages, as Node
        // acknowledges a handle while reading.
        self.flush();
        if !delivery.is_empty() {
            events.deliver(self.worker, delivery);
        }
        match failure {
            Some(why) => {
                self.end(events, Some(why));
                false
            }
            None => true,
        }
    }

    /// Handle the frames completed by the last read: Rust's own, and the
    /// rest collected for JS; and why the channel must end, if it must.
    fn dispatch_read(
        &self,
        received: Vec<OwnedFd>,
        events: &dyn ChannelEvents,
    ) -> (Delivery, Option<String>) {
        let mut delivery = Delivery {
            data: DELIVERY_BUFFER.with(|kept| std::mem::take(&mut *kept.borrow_mut())),
            ..Delivery::default()
        };
        let mut reader = self.reader.borrow_mut();
        let Reader { decoder, fds } = &mut *reader;
        fds.extend(received);
        if fds.len() > MAX_PENDING_FDS {
            return (
                delivery,
                Some("worker sent file descriptors without messages".into()),
            );
        }
        let mut failure = None;
        let framed = decoder.for_each_frame(|frame| {
            match self.dispatch(frame, fds, &mut delivery, events) {
                Ok(()) => self.open.get(),
                Err(why) => {
                    failure = Some(why);
                    false
                }
            }
        });
        if let Err(e) = framed {
            failure = Some(e.to_string());
        }
        drop(reader);
        delivery.notices = std::mem::take(&mut self.writer.borrow_mut().notices);
        (delivery, failure)
    }

    /// One frame. An error ends the channel: what follows it cannot be
    /// read as the worker meant.
    fn dispatch(
        &self,
        frame: &[u8],
        fds: &mut VecDeque<OwnedFd>,
        out: &mut Delivery,
        events: &dyn ChannelEvents,
    ) -> Result<(), String> {
        #[cfg(test)]
        if frame == tests::PANIC_FRAME {
            panic!("a bug in the reader (test)");
        }
        match protocol::classify(self.mode, frame) {
            Incoming::HandleAck => self.writer.borrow_mut().on_ack(true),
            Incoming::HandleNack => self.writer.borrow_mut().on_ack(false),
            Incoming::Handle => {
                // The descriptor arrived with this message's bytes; without
                // one, ask the worker to send it again.
                let fd = fds.pop_front();
                let reply = protocol::handle_ack(fd.is_some());
                self.writer
                    .borrow_mut()
                    .push_urgent(protocol::encode(self.mode, &reply));
                if fd.is_some() {
                    out.push_frame(self.mode, frame, fd);
                }
            }
            Incoming::NewconnReply { ack, accepted } => {
                if !events.newconn_reply(self.worker, ack, accepted) {
                    out.push_frame(self.mode, frame, None);
                }
            }
            Incoming::Agent(value)
                if value.get("act").and_then(v8::Value::as_str) == Some(AGENT_RING) =>
            {
                // The worker writes to the ring as soon as it has sent it:
                // a ring we cannot read would lose those messages unseen.
                let Some(memfd) = fds.pop_front() else {
                    return Err("worker's shared channel came without its memory".into());
                };
                if self.ring.borrow().is_some() {
                    return Err("worker opened a second shared channel".into());
                }
                self.attach_ring(&memfd)
                    .map_err(|e| format!("cannot map the worker's shared channel: {e}"))?;
            }
            Incoming::Agent(value)
                if value.get("act").and_then(v8::Value::as_str) == Some(AGENT_RING_END) =>
            {
                self.ring_ended.set(true);
            }
            Incoming::Agent(value) => {
                if !events.agent_message(self.worker, &value) {
                    out.push_frame(self.mode, frame, None);
                }
            }
            Incoming::Js => out.push_frame(self.mode, frame, None),
        }
        Ok(())
    }

    /// The channel is over, whatever ended it: nothing more is read or
    /// written, the worker sees the end, and the owner hears why (`error`,
    /// when it was not a clean end). Only from a poll callback.
    fn end(&self, events: &dyn ChannelEvents, error: Option<String>) {
        self.open.set(false);
        drop(self.ring.borrow_mut().take());
        drop(self.poll.borrow_mut().take());
        let _ = shutdown(self.sock.as_raw_fd(), Shutdown::Both);
        let notices = {
            let mut writer = self.writer.borrow_mut();
            writer.abandon();
            std::mem::take(&mut writer.notices)
        };
        if !notices.is_empty() {
            let delivery = Delivery {
                notices,
                ..Delivery::default()
            };
            events.deliver(self.worker, delivery);
        }
        events.closed(self.worker, error);
    }

    /// Guard for a panic while serving this channel (a bug of ours, maybe
    /// set off by what the worker sent): shut the channel so the worker is
    /// disconnected, and report it closed, instead of leaving the worker on
    /// a channel nobody serves.
    fn broke(&self) {
        if !self.open.get() {
            return;
        }
        if let Some(events) = self.events.upgrade() {
            let why = "rust-cluster: internal error while serving the channel";
            self.end(&*events, Some(why.into()));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A channel socket pair for tests: ours non-blocking, as the primary
    /// keeps it; the worker's end blocking, as a worker's is.
    pub(crate) fn socket_pair() -> (OwnedFd, OwnedFd) {
        fdpass::socket_pair().expect("socket pair")
    }

    /// A json line that makes the reader panic, to stand for a bug.
    pub(super) const PANIC_FRAME: &[u8] = b"\"a frame that panics the reader\"";

    /// Records what a channel reports.
    #[derive(Default)]
    pub(crate) struct Recorder {
        pub(crate) deliveries: RefCell<Vec<(Vec<u8>, usize, usize)>>,
        pub(crate) closings: RefCell<Vec<Option<String>>>,
        pub(crate) replies: RefCell<Vec<(u64, bool)>>,
    }

    impl ChannelEvents for Recorder {
        fn newconn_reply(&self, _: u32, ack: u64, accepted: bool) -> bool {
            self.replies.borrow_mut().push((ack, accepted));
            true
        }
        fn agent_message(&self, _: u32, _: &v8::Value) -> bool {
            false
        }
        fn deliver(&self, _: u32, d: Delivery) {
            self.deliveries
                .borrow_mut()
                .push((d.data, d.frames, d.fds.len()));
        }
        fn closed(&self, _: u32, error: Option<String>) {
            self.closings.borrow_mut().push(error);
        }
    }

    fn channel(mode: Mode) -> (Rc<Recorder>, Rc<Channel>, std::fs::File) {
        let (ours, theirs) = socket_pair();
        let recorder = Rc::new(Recorder::default());
        let weak: Weak<dyn ChannelEvents> =
            Rc::downgrade(&(recorder.clone() as Rc<dyn ChannelEvents>));
        let channel = Channel::open(None, 7, ours, mode, 1 << 20, weak).expect("open");
        (recorder, channel, std::fs::File::from(theirs))
    }

    const READABLE: Ready = Ready {
        readable: true,
        writable: false,
        hangup: false,
        error: None,
    };

    #[test]
    fn one_read_reaches_js_once_and_rust_keeps_its_own_frames() {
        let (rec, ch, mut peer) = channel(Mode::Json);
        peer.write_all(
            b"{\"a\":1}\n{\"cmd\":\"NODE_CLUSTER\",\"ack\":3,\"accepted\":true,\"seq\":9}\n\"b\"\n",
        )
        .expect("write");
        ch.on_ready(READABLE);
        assert_eq!(*rec.replies.borrow(), vec![(3, true)]);
        assert_eq!(
            *rec.deliveries.borrow(),
            vec![(b"{\"a\":1}\n\"b\"\n".to_vec(), 2, 0)]
        );
    }

    #[test]
    fn a_handle_is_acknowledged_before_js_sees_it() {
        let (rec, ch, peer) = channel(Mode::Json);
        let (passed, _keep) = socket_pair();
        fdpass::send_with_fds(
            peer.as_fd(),
            b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":1}\n",
            &[passed.as_fd()],
        )
        .expect("send");
        ch.on_ready(READABLE);
        assert_eq!(rec.deliveries.borrow()[0].2, 1);
        let mut ack = vec![0u8; 64];
        let n = (&peer).read(&mut ack).expect("read the ack");
        assert_eq!(&ack[..n], b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
    }

    /// A worker's last message and its hang-up, read in one callback: the
    /// end is reported there too, not in a later turn of the loop that the
    /// worker's exit (handled at the end of this one) would come before.
    #[test]
    fn a_hang_up_is_read_with_the_last_messages() {
        let (rec, ch, mut peer) = channel(Mode::Json);
        peer.write_all(b"{\"a\":1}\n").expect("write");
        drop(peer);
        ch.on_ready(Ready {
            hangup: true,
            ..READABLE
        });
        assert_eq!(rec.deliveries.borrow().len(), 1);
        assert_eq!(*rec.closings.borrow(), vec![None]);

        // Without the hang-up flag a short read leaves the rest for later.
        let (rec, ch, mut peer) = channel(Mode::Json);
        peer.write_all(b"{\"a\":1}\n").expect("write");
        drop(peer);
        ch.on_ready(READABLE);
        assert_eq!(rec.deliveries.borrow().len(), 1);
        assert!(rec.closings.borrow().is_empty());
    }

    #[test]
    fn the_end_of_the_stream_closes_the_channel_once() {
        let (rec, ch, peer) = channel(Mode::Advanced);
        drop(peer);
        ch.on_ready(READABLE);
        ch.on_ready(READABLE);
        assert_eq!(*rec.closings.borrow(), vec![None]);
        assert!(!ch.is_open());
        assert_eq!(ch.send_js(b"x", None, None), Err(Errno::EPIPE));
    }

    #[test]
    fn a_frame_over_the_limit_closes_with_an_error() {
        let (ours, theirs) = socket_pair();
        let recorder = Rc::new(Recorder::default());
        let weak: Weak<dyn ChannelEvents> =
            Rc::downgrade(&(recorder.clone() as Rc<dyn ChannelEvents>));
        let ch = Channel::open(None, 1, ours, Mode::Advanced, 16, weak).expect("open");
        std::fs::File::from(theirs)
            .write_all(&[0, 0, 1, 0])
            .expect("write");
        ch.on_ready(READABLE);
        let closings = recorder.closings.borrow();
        assert!(closings[0]
            .as_deref()
            .unwrap_or("")
            .contains("exceeds the limit"));
    }

    fn ring_frame() -> Vec<u8> {
        format!(
            "{{\"cmd\":\"{}\",\"act\":\"{AGENT_RING}\"}}\n",
            crate::contract::AGENT_CMD
        )
        .into_bytes()
    }

    /// The worker writes to its ring right after sending it: a ring we
    /// cannot read ends the channel, with the messages before it delivered.
    #[test]
    fn a_shared_channel_without_its_memory_ends_the_channel() {
        let (rec, ch, mut peer) = channel(Mode::Json);
        peer.write_all(&[b"{\"a\":1}\n".as_slice(), &ring_frame()].concat())
            .expect("write");
        ch.on_ready(READABLE);
        assert_eq!(
            *rec.deliveries.borrow(),
            vec![(b"{\"a\":1}\n".to_vec(), 1, 0)]
        );
        assert_eq!(
            *rec.closings.borrow(),
            vec![Some(
                "worker's shared channel came without its memory".to_string()
            )]
        );
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest)
            .expect("the worker reads the end");
        assert!(rest.is_empty());
    }

    #[test]
    fn a_shared_channel_that_cannot_be_mapped_ends_the_channel() {
        let (rec, ch, peer) = channel(Mode::Json);
        let (not_memory, _keep) = socket_pair();
        fdpass::send_with_fds(peer.as_fd(), &ring_frame(), &[not_memory.as_fd()]).expect("send");
        ch.on_ready(READABLE);
        let closings = rec.closings.borrow();
        assert_eq!(closings.len(), 1);
        assert!(closings[0]
            .as_deref()
            .unwrap_or("")
            .starts_with("cannot map the worker's shared channel"));
        assert!(!ch.is_open());
    }

    /// A panic while reading (a bug of ours) does not leave the worker on a
    /// dead channel: the guard shuts it and reports it closed with an error.
    #[test]
    fn a_reader_that_panics_is_shut_by_its_guard() {
        let (rec, ch, mut peer) = channel(Mode::Json);
        peer.write_all(&[PANIC_FRAME, b"\n"].concat())
            .expect("write");
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ch.on_ready(READABLE)));
        assert!(ran.is_err());
        ch.broke();
        assert_eq!(
            *rec.closings.borrow(),
            vec![Some(
                "rust-cluster: internal error while serving the channel".to_string()
            )]
        );
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest)
            .expect("the worker reads the end");
        assert!(rest.is_empty());
    }
}
