//! One worker's IPC channel, served on the primary's I/O thread: a reader
//! task that splits frames and collects passed descriptors, and a writer task
//! that sends in order and, like Node's `_handleQueue`, holds every later
//! message back until the worker acknowledges a passed descriptor.

pub mod backlog;
pub mod fdpass;
pub mod framing;
pub mod gate;
pub mod v8;

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

use crate::protocol::{self, Incoming};
use backlog::{Backlog, Credit};
use framing::{Decoder, Mode};
use gate::WriteGate;

/// How often a descriptor is re-sent after NACKs before giving up
/// (`MAX_HANDLE_RETRANSMISSIONS` in Node).
const MAX_HANDLE_RETRANSMISSIONS: u32 = 3;
/// Descriptors received ahead of their NODE_HANDLE message. libuv sends one
/// per message; a peer that piles up more is misbehaving.
const MAX_PENDING_FDS: usize = 16;

/// Something to write to the worker.
pub struct Outgoing {
    pub bytes: Vec<u8>,
    /// A descriptor to pass along; shared so the scheduler can keep the
    /// connection until the worker says it accepted it.
    pub fd: Option<Arc<OwnedFd>>,
    /// Reported back through `ChannelEvents::write_failed` if the write fails.
    pub ticket: Option<u32>,
    /// Bytes the sender added to the channel's `queued` counter for this
    /// message (user messages from JS); subtracted once written.
    pub accounted: usize,
    /// Report through `ChannelEvents::handle_settled` once the worker has
    /// acknowledged the descriptor (JS mirrors Node's `_handleQueue`).
    pub report_settled: bool,
}

pub enum WriterItem {
    Message(Outgoing),
    /// `process.disconnect()`: close once everything before it is written.
    Close,
}

/// What the channel reports to its owner. Called on the I/O thread.
pub trait ChannelEvents {
    /// A worker's answer to a `newconn`.
    fn newconn_reply(&self, worker: u32, ack: u64, accepted: bool, raw: Vec<u8>);
    /// A cluster message (`cmd: 'NODE_CLUSTER'`), decoded.
    fn cluster_message(&self, worker: u32, msg: v8::Value, raw: Vec<u8>);
    /// A report from rust-cluster's worker agent (`cmd: 'NODE_RUST_CLUSTER'`).
    /// Reports other than connection counts (the supervisor's heartbeat
    /// answers) go on to JS as internal messages; `raw` is the frame.
    fn agent_message(&self, worker: u32, msg: v8::Value, raw: Vec<u8>);
    /// Anything else for JS: user data, or other internal messages, with the
    /// descriptor that came with it.
    fn message(&self, worker: u32, frame: JsFrame);
    /// Every frame of one read has been dispatched.
    fn read_done(&self, worker: u32);
    /// A descriptor sent with `report_settled` was acknowledged (or given up
    /// on after NACKs): messages queued behind it move on.
    fn handle_settled(&self, worker: u32);
    /// A write with a ticket failed; `errno` is the OS error number.
    fn write_failed(&self, worker: u32, ticket: u32, errno: i32);
    /// The channel is closed; `error` says why when it was not a clean EOF.
    fn closed(&self, worker: u32, error: Option<String>);
}

/// A frame on its way to JS.
pub struct JsFrame {
    pub raw: Vec<u8>,
    pub fd: Option<OwnedFd>,
    pub internal: bool,
    /// A json line (UTF-8 text) rather than a V8 payload.
    pub text: bool,
    /// Counts the frame in the worker's backlog until JS takes it.
    pub credit: Credit,
}

/// The primary's end of one worker's channel.
pub struct Channel {
    gate: Arc<WriteGate>,
    open: Rc<Cell<bool>>,
    backlog: Arc<Backlog>,
}

impl Channel {
    /// Serve `sock` (our end of the socket pair) on the current `LocalSet`.
    /// `gate` and `queue` come from `WriteGate::new` for this socket.
    pub fn spawn(
        worker: u32,
        sock: Arc<OwnedFd>,
        mode: Mode,
        max_message: usize,
        gate: Arc<WriteGate>,
        queue: mpsc::UnboundedReceiver<WriterItem>,
        events: Rc<dyn ChannelEvents>,
    ) -> io::Result<Channel> {
        let io = Rc::new(fdpass::register(sock)?);
        let (urgent_tx, urgent_rx) = mpsc::unbounded_channel();
        let (ack_tx, ack_rx) = mpsc::unbounded_channel();
        let open = Rc::new(Cell::new(true));
        let backlog = Arc::new(Backlog::default());

        let writer = Writer {
            worker,
            io: io.clone(),
            queue,
            urgent: urgent_rx,
            acks: ack_rx,
            gate: gate.clone(),
            events: events.clone(),
        };
        // The reader then sees the end and reports the channel closed.
        let writer_broke = {
            let gate = gate.clone();
            move || gate.shut_down()
        };
        spawn_guarded(writer.run(), writer_broke);

        let reader_broke = {
            let (gate, open, events) = (gate.clone(), open.clone(), events.clone());
            move || {
                let error = "rust-cluster: internal error while reading the channel";
                end(worker, &open, &gate, &*events, Some(error.into()));
            }
        };
        let reader = Reader {
            worker,
            io,
            mode,
            decoder: Decoder::new(mode, max_message),
            fds: VecDeque::new(),
            urgent: urgent_tx,
            acks: ack_tx,
            events,
            open: open.clone(),
            gate: gate.clone(),
            backlog: backlog.clone(),
        };
        spawn_guarded(reader.run(), reader_broke);

        Ok(Channel {
            gate,
            open,
            backlog,
        })
    }

    /// Queue a message. Returns it back if the writer has stopped.
    pub fn send(&self, msg: Outgoing) -> Result<(), Outgoing> {
        match self.gate.enqueue(WriterItem::Message(msg)) {
            Err(WriterItem::Message(msg)) => Err(msg),
            _ => Ok(()),
        }
    }

    /// Close after everything queued so far is written.
    pub fn close(&self) {
        let _ = self.gate.enqueue(WriterItem::Close);
    }

    pub fn is_open(&self) -> bool {
        self.open.get()
    }

    /// Count a frame the owner passes on to JS in this channel's backlog.
    pub fn credit(&self, bytes: usize) -> Credit {
        self.backlog.credit(bytes)
    }

    /// The reader has stopped until JS takes what it read (see backlog.rs).
    pub fn is_backlogged(&self) -> bool {
        self.backlog.is_over()
    }
}

/// The channel is over, whatever ended it: nothing more is read or written,
/// the worker sees the end, and the owner hears why (`error`, when it was
/// not a clean end).
fn end(
    worker: u32,
    open: &Cell<bool>,
    gate: &WriteGate,
    events: &dyn ChannelEvents,
    error: Option<String>,
) {
    open.set(false);
    gate.shut_down();
    events.closed(worker, error);
}

/// A panic in a channel task is a bug of ours, perhaps set off by what the
/// worker sent. Tokio would end the task quietly and leave the worker on a
/// channel nobody serves; instead `broke` shuts the channel, so the worker
/// is disconnected and the primary and the other workers go on.
fn spawn_guarded(task: impl Future<Output = ()> + 'static, broke: impl FnOnce() + 'static) {
    let handle = tokio::task::spawn_local(task);
    tokio::task::spawn_local(async move {
        if let Err(e) = handle.await {
            if e.is_panic() {
                broke();
            }
        }
    });
}

struct Writer {
    worker: u32,
    io: Rc<AsyncFd<Arc<OwnedFd>>>,
    queue: mpsc::UnboundedReceiver<WriterItem>,
    urgent: mpsc::UnboundedReceiver<Vec<u8>>,
    acks: mpsc::UnboundedReceiver<bool>,
    gate: Arc<WriteGate>,
    events: Rc<dyn ChannelEvents>,
}

enum Step {
    Item(Option<WriterItem>),
    Urgent(Option<Vec<u8>>),
}

impl Writer {
    async fn run(mut self) {
        loop {
            // Our own ACK/NACK replies jump the queue, as in Node: the worker
            // may be waiting for them before it answers ours.
            let step = tokio::select! {
                biased;
                urgent = self.urgent.recv() => Step::Urgent(urgent),
                item = self.queue.recv() => Step::Item(item),
            };
            self.gate.claim();
            let result = match step {
                Step::Urgent(Some(bytes)) => write_all(&self.io, &bytes, None).await,
                Step::Urgent(None) | Step::Item(None) => break,
                Step::Item(Some(WriterItem::Close)) => {
                    self.gate.shut_down();
                    break;
                }
                Step::Item(Some(WriterItem::Message(msg))) => self.deliver(msg).await,
            };
            if result.is_err() {
                // The reader sees the same failure and reports the close.
                break;
            }
            self.gate.release_if_idle(&self.queue);
        }
    }

    async fn deliver(&mut self, msg: Outgoing) -> io::Result<()> {
        let result = self.deliver_inner(&msg).await;
        self.gate.written(msg.accounted);
        if msg.report_settled && result.is_ok() {
            self.events.handle_settled(self.worker);
        }
        if let (Some(ticket), Err(e)) = (msg.ticket, &result) {
            let errno = e.raw_os_error().unwrap_or(nix::libc::EPIPE);
            self.events.write_failed(self.worker, ticket, errno);
        }
        result
    }

    async fn deliver_inner(&mut self, msg: &Outgoing) -> io::Result<()> {
        let Some(fd) = &msg.fd else {
            return write_all(&self.io, &msg.bytes, None).await;
        };
        // Forget acknowledgements nobody asked for (a confused peer), so they
        // cannot release this descriptor early.
        while self.acks.try_recv().is_ok() {}
        let mut retransmissions = 0;
        loop {
            write_all(&self.io, &msg.bytes, Some(fd)).await?;
            match self.wait_for_ack().await? {
                true => return Ok(()),
                false if retransmissions < MAX_HANDLE_RETRANSMISSIONS => retransmissions += 1,
                false => return Ok(()),
            }
        }
    }

    /// Wait for the worker's ACK (true) or NACK (false), still writing our
    /// own urgent replies meanwhile.
    async fn wait_for_ack(&mut self) -> io::Result<bool> {
        loop {
            tokio::select! {
                biased;
                urgent = self.urgent.recv() => match urgent {
                    Some(bytes) => write_all(&self.io, &bytes, None).await?,
                    None => return Err(io::ErrorKind::BrokenPipe.into()),
                },
                ack = self.acks.recv() => {
                    return ack.ok_or_else(|| io::ErrorKind::BrokenPipe.into());
                }
            }
        }
    }
}

async fn write_all(
    io: &AsyncFd<Arc<OwnedFd>>,
    bytes: &[u8],
    fd: Option<&Arc<OwnedFd>>,
) -> io::Result<()> {
    let sock = io.get_ref().as_fd();
    let mut offset = 0;
    let mut pass = fd.map(|fd| fd.as_fd());
    while offset < bytes.len() {
        match fdpass::send_with_fd(sock, &bytes[offset..], pass) {
            Ok(n) => {
                offset += n;
                pass = None;
            }
            Err(nix::errno::Errno::EAGAIN) => fdpass::wait_writable(sock).await?,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

struct Reader {
    worker: u32,
    io: Rc<AsyncFd<Arc<OwnedFd>>>,
    mode: Mode,
    decoder: Decoder,
    fds: VecDeque<OwnedFd>,
    urgent: mpsc::UnboundedSender<Vec<u8>>,
    acks: mpsc::UnboundedSender<bool>,
    events: Rc<dyn ChannelEvents>,
    open: Rc<Cell<bool>>,
    gate: Arc<WriteGate>,
    backlog: Arc<Backlog>,
}

impl Reader {
    async fn run(mut self) {
        let error = self.read_loop().await.err();
        // Stop the writer: it may be waiting for an ACK that will never come.
        drop(self.acks);
        drop(self.urgent);
        end(self.worker, &self.open, &self.gate, &*self.events, error);
    }

    async fn read_loop(&mut self) -> Result<(), String> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut received = Vec::new();
        loop {
            let mut guard = self.io.readable().await.map_err(|e| e.to_string())?;
            let n = match guard.try_io(|sock| {
                fdpass::recv_with_fds(sock.get_ref().as_fd(), &mut buf, &mut received)
                    .map_err(io::Error::from)
            }) {
                Ok(Ok((0, _))) => return Ok(()),
                Ok(Ok((n, truncated))) => {
                    if truncated {
                        return Err("worker sent more file descriptors than fit in one read".into());
                    }
                    // A short read with no descriptor drained the socket: skip
                    // the recvmsg that would only say EAGAIN (tokio's
                    // readiness ticks keep this safe against data arriving
                    // meanwhile). A read that carried a descriptor stops at
                    // that message's end even when more is queued.
                    if n < buf.len() && received.is_empty() {
                        guard.clear_ready();
                    }
                    n
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(()),
                Ok(Err(e)) => return Err(e.to_string()),
                Err(_would_block) => continue,
            };
            self.fds.extend(received.drain(..));
            if self.fds.len() > MAX_PENDING_FDS {
                return Err("worker sent file descriptors without messages".into());
            }
            self.decoder.push(&buf[..n]);
            while let Some(frame) = self.decoder.next_frame().map_err(|e| e.to_string())? {
                self.dispatch(frame);
            }
            self.events.read_done(self.worker);
            self.backlog.wait_room().await;
        }
    }

    /// Json frames go to JS as strings, ready for `JSON.parse`.
    fn text(&self) -> bool {
        self.mode == Mode::Json
    }

    fn to_js(&self, raw: Vec<u8>, fd: Option<OwnedFd>, internal: bool) {
        let credit = self.backlog.credit(raw.len());
        let text = self.text();
        self.events.message(
            self.worker,
            JsFrame {
                raw,
                fd,
                internal,
                text,
                credit,
            },
        );
    }

    fn dispatch(&mut self, frame: Vec<u8>) {
        #[cfg(test)]
        if frame == tests::PANIC_FRAME {
            panic!("a bug in the reader (test)");
        }
        match protocol::classify(self.mode, &frame) {
            Incoming::HandleAck => {
                let _ = self.acks.send(true);
            }
            Incoming::HandleNack => {
                let _ = self.acks.send(false);
            }
            Incoming::Handle => {
                // The descriptor arrived with this message's bytes; without
                // one, ask the worker to send it again.
                let fd = self.fds.pop_front();
                let reply = protocol::handle_ack(fd.is_some());
                self.gate
                    .reply_now(protocol::encode(self.mode, &reply), &self.urgent);
                if fd.is_some() {
                    self.to_js(frame, fd, false);
                }
            }
            Incoming::NewconnReply { ack, accepted } => {
                self.events.newconn_reply(self.worker, ack, accepted, frame)
            }
            Incoming::Cluster(value) => self.events.cluster_message(self.worker, value, frame),
            Incoming::Agent(value) => self.events.agent_message(self.worker, value, frame),
            Incoming::OtherInternal => self.to_js(frame, None, true),
            Incoming::User => self.to_js(frame, None, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    use std::cell::RefCell;
    use std::io::{Read, Write};

    /// A channel socket pair for tests: ours non-blocking, as the primary
    /// keeps it; the worker's end blocking, as a worker's is.
    pub(crate) fn socket_pair() -> (OwnedFd, OwnedFd) {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("socketpair");
        nix::fcntl::fcntl(
            &ours,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .expect("non-blocking");
        (ours, theirs)
    }

    /// A json line that makes the reader panic, to stand for a bug.
    pub(super) const PANIC_FRAME: &[u8] = b"\"a frame that panics the reader\"";

    /// Records what a channel reports closing.
    #[derive(Default)]
    struct Closings(RefCell<Vec<(u32, Option<String>)>>);

    impl ChannelEvents for Closings {
        fn newconn_reply(&self, _: u32, _: u64, _: bool, _: Vec<u8>) {}
        fn cluster_message(&self, _: u32, _: v8::Value, _: Vec<u8>) {}
        fn agent_message(&self, _: u32, _: v8::Value, _: Vec<u8>) {}
        fn message(&self, _: u32, _: JsFrame) {}
        fn read_done(&self, _: u32) {}
        fn handle_settled(&self, _: u32) {}
        fn write_failed(&self, _: u32, _: u32, _: i32) {}
        fn closed(&self, worker: u32, error: Option<String>) {
            self.0.borrow_mut().push((worker, error));
        }
    }

    /// A panic in the reader task (a bug of ours) does not leave the worker
    /// on a dead channel: the channel is shut down and reported closed with
    /// an error, and the worker reads the end.
    #[test]
    fn a_reader_that_panics_closes_the_channel_with_an_error() {
        let (ours, theirs) = socket_pair();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            let events = Rc::new(Closings::default());
            let sock = Arc::new(ours);
            let (gate, queue) = WriteGate::new(sock.clone());
            let _channel =
                Channel::spawn(7, sock, Mode::Json, 1 << 20, gate, queue, events.clone())
                    .expect("spawn");
            let mut peer = std::fs::File::from(theirs);
            peer.write_all(&[PANIC_FRAME, b"\n"].concat())
                .expect("write");
            for _ in 0..500 {
                if !events.0.borrow().is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            assert_eq!(
                *events.0.borrow(),
                vec![(
                    7,
                    Some("rust-cluster: internal error while reading the channel".to_string())
                )]
            );
            let mut rest = Vec::new();
            peer.read_to_end(&mut rest)
                .expect("the worker reads the end");
            assert!(rest.is_empty());
        });
    }

    /// A message larger than the socket buffers: the write blocks until the
    /// worker reads, and goes on then, though the channel is watched for
    /// readability only.
    #[test]
    fn a_blocked_write_finishes_when_the_peer_reads() {
        let (ours, theirs) = socket_pair();
        let message: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let expected = message.clone();

        // The peer starts reading only after the writer has filled the
        // buffers and had to wait.
        let peer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let mut got = Vec::new();
            std::fs::File::from(theirs)
                .read_to_end(&mut got)
                .expect("read");
            got
        });

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let io = fdpass::register(Arc::new(ours)).expect("register");
            let write = write_all(&io, &message, None);
            tokio::time::timeout(std::time::Duration::from_secs(30), write)
                .await
                .expect("the write never went on after the peer read")
                .expect("write_all");
            // Dropping `io` closes our end: the peer's read_to_end returns.
        });
        let got = peer.join().expect("peer");
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "bytes arrive intact and in order");
    }
}
