//! rust-cluster: the cluster primary in Rust. This file is the N-API surface
//! only: `Primary`, the engine JS drives from lib/process.js and lib/*_handle.js,
//! and `Child`, the worker side of a connection channel (lib/agent/). Both
//! run on Node's own event loop; see docs/engine.md.

mod accept_share;
mod channel;
mod child;
mod conn_channel;
mod contract;
mod primary;
mod protocol;
mod reuseport_handle;
mod round_robin_handle;
mod scheduler;
mod sys;
mod worker;

use std::net::IpAddr;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Duration;

use napi::bindgen_prelude::Function;
use napi::{Env, Error, JsValue, Result, Status};
use napi_derive::napi;

use channel::framing::Mode;
use primary::Engine;
use sys::{EventLoop, JsFunction};

/// One worker's row in `connectionStats()`.
#[napi(object)]
pub struct WorkerConnections {
    /// The worker's id (`worker.id`).
    pub id: u32,
    /// Connections the primary handed to the worker (and it took).
    pub handed: i64,
    /// Handed connections the worker has not closed yet; null when the
    /// worker does not report closes (it never loaded rust-cluster, or
    /// nobody asked it to count).
    pub open: Option<i64>,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Our own copy of a descriptor JS names by number.
fn duplicate(fd: i32) -> Result<OwnedFd> {
    sys::duplicate_raw(fd).map_err(|e| {
        Error::new(
            Status::InvalidArg,
            format!("cannot use file descriptor {fd}: {e}"),
        )
    })
}

fn errno_of(e: std::io::Error) -> i32 {
    -e.raw_os_error().unwrap_or(nix::libc::EIO)
}

thread_local! {
    /// The engine of this thread's Node environment, for `sendFrame`.
    static ENGINE: std::cell::RefCell<std::rc::Weak<Engine>> = const { std::cell::RefCell::new(std::rc::Weak::new()) };
}

/// `worker.send()`'s hot path: `Primary::send` without a descriptor, as a
/// plain function, which N-API calls for less than a method (no object to
/// unwrap, no borrow to track): the first `length` bytes of `frame` go to
/// `worker`; `ticket` 0 is none. Returns as `send`.
#[napi(catch_unwind)]
pub fn send_frame(
    env: Env,
    worker: u32,
    frame: napi::Unknown<'_>,
    length: u32,
    ticket: u32,
) -> i32 {
    let Some(engine) = ENGINE.with(|e| e.borrow().upgrade()) else {
        return -nix::libc::EPIPE;
    };
    let sent = sys::with_buffer(&env, frame.value().value, length as usize, |bytes| {
        engine.send(worker, bytes, None, (ticket > 0).then_some(ticket))
    });
    match sent {
        Some(Ok(queued)) => i32::from(queued < contract::BACKPRESSURE_BYTES),
        Some(Err(errno)) => -(errno as i32),
        None => -nix::libc::EINVAL,
    }
}

/// The primary's engine. Every method runs on the JS thread; each is
/// `catch_unwind`, so a panic comes back as a JS exception instead of
/// unwinding into Node.
#[napi]
pub struct Primary {
    engine: Rc<Engine>,
}

#[napi]
impl Primary {
    /// `onEvent(kind, worker, ...)` receives the engine's events (kinds in
    /// lib/contract.json), from Node's event loop. A read's advanced frames
    /// come in `readBuffer` when they fit (the event then carries their
    /// length), else in a Buffer of their own.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, on_event: Function<'_>, read_buffer: napi::Unknown<'_>) -> Result<Self> {
        let event_loop = EventLoop::of(&env)?;
        let js = JsFunction::new(&env, on_event.value().value, "rust-cluster:primary")?;
        let Some(read_buffer) = sys::SharedBuffer::new(&env, read_buffer.value().value)? else {
            return Err(napi::Error::new(
                napi::Status::InvalidArg,
                "readBuffer must be a Buffer",
            ));
        };
        let engine = Engine::new(Some(event_loop), Some(js), Some(read_buffer));
        ENGINE.with(|e| *e.borrow_mut() = Rc::downgrade(&engine));
        Ok(Primary { engine })
    }

    /// Create a worker's channel. Returns the child's end, for the spawn
    /// stdio array (the caller closes it once the child is spawned), or
    /// -errno when the socket pair cannot be made (EMFILE: the descriptor
    /// table is full), which JS reports as Node reports a failed spawn.
    #[napi(catch_unwind)]
    pub fn open_channel(&self, worker: u32, advanced: bool, max_message_bytes: u32) -> i32 {
        match self.engine.open_channel(
            worker,
            Mode::from_advanced(advanced),
            max_message_bytes as usize,
        ) {
            Ok(theirs) => theirs.into_raw_fd(),
            Err(errno) => -(errno as i32),
        }
    }

    /// Send an already framed message, and a descriptor to pass (duplicated
    /// here, so the caller may close its own). The first message of a tick
    /// on a channel, a large one and one with a descriptor are written now,
    /// the others with the rest of the tick's at `flush()`. Returns 1 when
    /// the worker keeps up, 0 when more than 128 KiB wait to be written
    /// (`send()` returns false, as Node's), or a negative errno when the
    /// channel is gone.
    #[napi(catch_unwind)]
    pub fn send(
        &self,
        worker: u32,
        frame: &[u8],
        fd: Option<i32>,
        ticket: Option<u32>,
    ) -> Result<i32> {
        let fd = fd.map(duplicate).transpose()?;
        Ok(match self.engine.send(worker, frame, fd, ticket) {
            Ok(queued) => i32::from(queued < contract::BACKPRESSURE_BYTES),
            Err(errno) => -(errno as i32),
        })
    }

    /// The end of a tick: write what was sent in it, on the channels it was
    /// sent on.
    #[napi(catch_unwind)]
    pub fn flush(&self) {
        self.engine.flush();
    }

    /// `worker.process.disconnect()`: close the channel once flushed.
    #[napi(catch_unwind)]
    pub fn close_channel(&self, worker: u32) {
        self.engine.close_channel(worker);
    }

    /// `channel.ref()` / `unref()`: whether the channel keeps the event
    /// loop alive.
    #[napi(catch_unwind)]
    pub fn ref_channel(&self, worker: u32, on: bool) {
        self.engine.ref_channel(worker, on);
    }

    /// The `seq` of the next message the primary sends.
    #[napi(catch_unwind)]
    pub fn next_seq(&self) -> f64 {
        self.engine.next_seq() as f64
    }

    /// A handle the primary accepts for: `fd` is the socket JS listened on
    /// (copied here; JS closes its own), or -1 when JS accepts (`connection`)
    /// or nothing listens (reuseport's handoff). `policy` picks the
    /// scheduler. Returns 0 or -errno.
    #[napi(catch_unwind)]
    pub fn listen(&self, key: String, fd: i32, policy: u32) -> Result<i32> {
        let sock = if fd >= 0 { Some(duplicate(fd)?) } else { None };
        Ok(match self.engine.listen(&key, sock, policy) {
            Ok(()) => 0,
            Err(e) => errno_of(e),
        })
    }

    /// A worker joins the handle (after its `queryServer` answer).
    #[napi(catch_unwind)]
    pub fn add_worker(&self, key: String, worker: u32) {
        self.engine.add_worker(&key, worker);
    }

    /// A worker leaves the handle.
    #[napi(catch_unwind)]
    pub fn remove_worker(&self, key: String, worker: u32) {
        self.engine.remove_worker(&key, worker);
    }

    /// The handle's last worker left.
    #[napi(catch_unwind)]
    pub fn close_handle(&self, key: String) {
        self.engine.close_handle(&key);
    }

    /// The descriptor of the socket the handle accepts on (the engine's
    /// copy; JS closed its own), for a new primary to inherit, or -1.
    #[napi(catch_unwind)]
    pub fn listener_fd(&self, key: String) -> i32 {
        self.engine.listener_fd(&key).unwrap_or(-1)
    }

    /// A connection JS accepted for the handle (copied here).
    #[napi(catch_unwind)]
    pub fn connection(&self, key: String, fd: i32) -> Result<()> {
        self.engine.connection(&key, duplicate(fd)?);
        Ok(())
    }

    /// Before `worker` is told to disconnect: connections of handles it is
    /// the last worker of go to it.
    #[napi(catch_unwind)]
    pub fn hand_over_leftovers(&self, worker: u32) {
        self.engine.hand_over_leftovers(worker);
    }

    /// `worker`'s SO_REUSEPORT socket for `key` (the engine keeps it; send a
    /// copy), or -errno. `inherited`: a socket of the group an upgrade's old
    /// primary had (copied here), to use instead of making one.
    #[napi(catch_unwind)]
    pub fn reuseport_socket(
        &self,
        key: String,
        worker: u32,
        address: Option<String>,
        port: u32,
        ipv6_only: bool,
        inherited: Option<i32>,
    ) -> i32 {
        let inherited = match inherited.map(sys::duplicate_raw).transpose() {
            Ok(fd) => fd,
            Err(e) => return -(e as i32),
        };
        let ip = match address.as_deref().map(str::parse::<IpAddr>).transpose() {
            Ok(ip) => ip,
            Err(_) => return -nix::libc::EINVAL,
        };
        let Ok(port) = u16::try_from(port) else {
            return -nix::libc::EINVAL;
        };
        let address = reuseport_handle::Address {
            ip,
            port,
            ipv6_only,
        };
        self.engine
            .reuseport_socket(&key, address, worker, inherited)
            .unwrap_or_else(errno_of)
    }

    /// `worker` is done with its reuseport socket: its accept queue goes to
    /// the others.
    #[napi(catch_unwind)]
    pub fn reuseport_release(&self, key: String, worker: u32) {
        self.engine.reuseport_release(&key, worker);
    }

    #[napi(catch_unwind)]
    pub fn reuseport_close(&self, key: String) {
        self.engine.reuseport_close(&key);
    }

    /// Per-worker connection counters of every worker whose channel is open.
    #[napi(catch_unwind)]
    pub fn connection_stats(&self) -> Vec<WorkerConnections> {
        self.engine
            .connection_stats()
            .into_iter()
            .map(|s| WorkerConnections {
                id: s.worker,
                handed: count(s.handed),
                open: s.open.map(count),
            })
            .collect()
    }

    /// How long a worker may sit on a handed connection before it is
    /// reported unresponsive; 0 waits forever, as node:cluster does.
    #[napi(catch_unwind)]
    pub fn set_handoff_timeout(&self, millis: u32) -> Result<()> {
        let timeout = (millis > 0).then(|| Duration::from_millis(u64::from(millis)));
        self.engine
            .set_handoff_timeout(timeout)
            .map_err(|e| Error::from_reason(e.to_string()))
    }
}

/// In a worker: the receiving end of its connection channel.
#[napi]
pub struct Child {
    receiver: Rc<child::Receiver>,
}

#[napi]
impl Child {
    /// Read connections from `fd` (copied here); `onConnections(ids, fds)`
    /// returns a Uint8Array with 1 for each connection taken, 0 refused.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, fd: i32, on_connections: Function<'_>) -> Result<Self> {
        let sock = duplicate(fd)?;
        nix::fcntl::fcntl(
            &sock,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .map_err(|e| Error::from_reason(e.to_string()))?;
        let js = JsFunction::new(&env, on_connections.value().value, "rust-cluster:child")?;
        let receiver = child::Receiver::open(EventLoop::of(&env)?, sock, js)
            .map_err(|e| Error::from_reason(e.to_string()))?;
        Ok(Child { receiver })
    }

    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.receiver.close();
    }
}

/// In a worker: writes to its IPC channel that found it full
/// (lib/agent/sender.js), finished as the primary reads.
#[napi]
pub struct ChannelSender {
    sender: Rc<child::Sender>,
}

#[napi]
impl ChannelSender {
    /// Write to (a copy of) `fd`; `onDrain(errno)` is called once all that
    /// was queued is written (0) or a write failed (-errno).
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, fd: i32, on_drain: Function<'_>) -> Result<Self> {
        let sock = duplicate(fd)?;
        let js = JsFunction::new(&env, on_drain.value().value, "rust-cluster:sender")?;
        let sender = child::Sender::open(EventLoop::of(&env)?, sock, js)
            .map_err(|e| Error::from_reason(e.to_string()))?;
        Ok(ChannelSender { sender })
    }

    /// Queue `data` and write what fits now. Returns the bytes still
    /// waiting, or -errno when the write failed.
    #[napi(catch_unwind)]
    pub fn write(&self, data: &[u8]) -> i64 {
        match self.sender.write(data) {
            Ok(left) => left as i64,
            Err(errno) => -(errno as i64),
        }
    }

    /// Bytes not yet written.
    #[napi(catch_unwind)]
    pub fn pending(&self) -> f64 {
        self.sender.pending() as f64
    }

    /// Node closed its end of the channel: close ours once all is written.
    #[napi(catch_unwind)]
    pub fn close_when_drained(&self) {
        self.sender.close_when_drained();
    }
}

/// In a worker: its messages to the primary through shared memory
/// (channel/ring.rs) instead of the IPC socket (lib/agent/sender.js).
#[napi]
pub struct RingWriter {
    ring: channel::ring::Ring,
    /// The channel's descriptor (Node's), rung while JS says it is open.
    fd: std::cell::Cell<Option<i32>>,
    /// The empty frame that wakes the primary.
    doorbell: Vec<u8>,
    /// Our copy of the channel once Node closed its own with bytes still
    /// to go (`holdOpen`): it keeps the socket open, and rings it, until
    /// `release`.
    held: std::cell::RefCell<Option<OwnedFd>>,
}

#[napi]
impl RingWriter {
    /// Make the ring and give it to the primary: `hello` (the agent's ring
    /// message, framed) goes on the channel `fd` with the ring's memfd.
    /// After it, the worker writes its messages only to the ring.
    #[napi(constructor, catch_unwind)]
    pub fn new(fd: i32, hello: &[u8], doorbell: &[u8]) -> Result<Self> {
        use std::os::fd::AsFd;
        let fail = |e: std::io::Error| Error::from_reason(e.to_string());
        let sock = duplicate(fd)?;
        let (ring, memfd) = channel::ring::Ring::create().map_err(fail)?;
        let sent = channel::fdpass::send_with_fds(sock.as_fd(), hello, &[memfd.as_fd()])
            .map_err(|e| fail(e.into()))?;
        if sent != hello.len() {
            return Err(Error::from_reason(
                "the channel did not take the ring's message",
            ));
        }
        Ok(RingWriter {
            ring,
            fd: std::cell::Cell::new(Some(fd)),
            doorbell: doorbell.to_vec(),
            held: std::cell::RefCell::new(None),
        })
    }

    /// Add what fits of `data` (returns the bytes taken), and wake the
    /// primary if it may be asleep (a full socket wakes it anyway, so a
    /// doorbell the socket does not take is not needed). When not all
    /// fits, the primary is asked to say when there is room (`ringRoom`).
    #[napi(catch_unwind)]
    pub fn write(&self, data: &[u8]) -> u32 {
        let mut taken = 0;
        loop {
            let (n, wake) = self.ring.push(&data[taken..]);
            taken += n;
            if wake {
                self.ring_doorbell();
            }
            if taken == data.len() || !self.ring.wait_for_room() {
                return taken as u32;
            }
        }
    }

    fn ring_doorbell(&self) {
        if let Some(sock) = self.held.borrow().as_ref() {
            let _ = nix::unistd::write(sock, &self.doorbell);
        } else if let Some(fd) = self.fd.get() {
            let _ = sys::write_to_raw(fd, &self.doorbell);
        }
    }

    /// Node is closing the channel: from now on the doorbell rings on our
    /// own copy of it, which keeps the socket open until `release` (when
    /// `keep`, bytes still wait for room), or nowhere.
    #[napi(catch_unwind)]
    pub fn detach(&self, keep: bool) -> Result<()> {
        if keep {
            if let Some(fd) = self.fd.get() {
                *self.held.borrow_mut() = Some(duplicate(fd)?);
            }
        }
        self.fd.set(None);
        Ok(())
    }

    /// All was written: let the socket end.
    #[napi(catch_unwind)]
    pub fn release(&self) {
        drop(self.held.borrow_mut().take());
    }
}

/// lib/contract.json as this binary was built with it, so JS can tell a
/// binary built from another version.
#[napi]
pub fn contract() -> &'static str {
    contract::CONTRACT_JSON
}

/// One datagram to the Unix socket `path` (`@name`: Linux's abstract
/// namespace), without waiting: systemd's notify protocol (sd_notify(3)),
/// which Node cannot speak. Returns 0, or -errno.
#[napi(catch_unwind)]
pub fn notify_datagram(path: String, message: &[u8]) -> i32 {
    let send = || -> std::io::Result<usize> {
        let sock = std::os::unix::net::UnixDatagram::unbound()?;
        sock.set_nonblocking(true)?;
        match path.strip_prefix('@') {
            #[cfg(target_os = "linux")]
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
                sock.send_to_addr(message, &addr)
            }
            #[cfg(not(target_os = "linux"))]
            Some(_) => Err(std::io::ErrorKind::Unsupported.into()),
            None => sock.send_to(message, &path),
        }
    };
    match send() {
        Ok(_) => 0,
        Err(e) => errno_of(e),
    }
}
