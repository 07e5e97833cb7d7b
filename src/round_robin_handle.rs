//! A listening socket the primary accepts on, after Node's
//! `round_robin_handle.js`: the socket itself (made by `net.Server#listen`
//! in JS, lib/round_robin_handle.js, and given to us by descriptor), the
//! scheduler that decides which worker gets each connection (round robin,
//! leastconn or sticky), and which of its workers take their connections
//! over a connection channel. The engine (primary.rs) hands the connections
//! out, since that crosses workers.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;

use socket2::SockRef;

use crate::accept_share::AcceptShare;
use crate::contract::{SCHED_LEASTCONN, SCHED_STICKY};
use crate::scheduler::least_conn::LeastConn;
use crate::scheduler::round_robin::RoundRobin;
use crate::scheduler::sticky::Sticky;
use crate::scheduler::{Connection, Scheduler};
use crate::sys::{EventLoop, Poll, Timer};

/// Most connections taken per wake-up of a listener, so one busy listener
/// cannot hold the event loop (libuv's accept loop has no bound; ours
/// comes back on the next turn).
const ACCEPTS_PER_CALLBACK: usize = 256;
/// How long a listener rests when the process is out of descriptors.
const EMFILE_BACKOFF_MS: u64 = 10;

/// Connections a plain worker may hold unanswered while the handle is
/// busy. Node's primary waits for each `accepted` before the next
/// `newconn`; so do we at low rates, where it decides who gets a
/// sequential client's next connection. Under load a window lets a worker
/// read several in one wake-up and answer them together, and its
/// answers wake the primary once for several. The cost: a worker whose
/// loop blocks holds up to this many until it runs again.
const NEWCONN_WINDOW: usize = 8;

/// An accepted connection on its way to a worker; shared so the engine can
/// keep it until the worker says it took it.
#[derive(Clone)]
pub(crate) struct Accepted {
    pub(crate) fd: Rc<OwnedFd>,
    /// The client's address, for schedulers that want it.
    pub(crate) client: Option<IpAddr>,
}

impl Accepted {
    pub(crate) fn new(fd: OwnedFd, client: Option<IpAddr>) -> Self {
        Accepted {
            fd: Rc::new(fd),
            client,
        }
    }
}

impl Connection for Accepted {
    fn client_ip(&self) -> Option<IpAddr> {
        self.client
    }
}

/// The scheduler for a policy number of lib/contract.json.
pub(crate) fn scheduler_for(policy: u32) -> Box<dyn Scheduler<Accepted>> {
    match policy {
        SCHED_LEASTCONN => Box::new(LeastConn::default()),
        SCHED_STICKY => Box::new(Sticky::default()),
        _ => Box::new(RoundRobin::default()),
    }
}

/// Our copy of the listening socket, watched on Node's event loop.
pub(crate) struct Listener {
    /// Declared before `sock`: the poll must stop before the socket closes.
    poll: Poll,
    backoff: Timer,
    /// While workers accept for themselves: `on_ready` every window, so the
    /// rate is measured when nothing else wakes the primary.
    tick: Timer,
    sock: OwnedFd,
}

impl Listener {
    /// Watch `sock`; `on_ready` runs when connections wait.
    pub(crate) fn new(
        event_loop: EventLoop,
        sock: OwnedFd,
        on_ready: impl Fn() + Clone + 'static,
    ) -> io::Result<Listener> {
        let again = on_ready.clone();
        let tick = Timer::new(event_loop, on_ready.clone())?;
        let poll = Poll::new(event_loop, sock.as_fd(), move |_| on_ready())?;
        poll.watch(true, false);
        let backoff = Timer::new(event_loop, again)?;
        Ok(Listener {
            poll,
            backoff,
            tick,
            sock,
        })
    }

    /// A copy of the socket, for a worker that accepts for itself.
    pub(crate) fn copy(&self) -> io::Result<OwnedFd> {
        self.sock.try_clone()
    }

    /// Stop watching for `millis`, then call `on_ready` again.
    pub(crate) fn rest(&self, millis: u64) {
        self.poll.watch(false, false);
        self.backoff.start(millis, 0);
    }

    /// Call `on_ready` every `millis` (0: stop).
    pub(crate) fn tick(&self, millis: u64) {
        match millis {
            0 => self.tick.stop(),
            ms => self.tick.start(ms, ms),
        }
    }

    /// The socket's descriptor (ours; it stays open as long as we do).
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// Accept what waits (at most `ACCEPTS_PER_CALLBACK`).
    pub(crate) fn accept_all(&self, client_ip: bool) -> Vec<Accepted> {
        let (conns, out_of_fds) = accept_queued(&self.sock, client_ip, ACCEPTS_PER_CALLBACK);
        if out_of_fds {
            // Rest instead of spinning on a queue we cannot take from; the
            // timer calls `on_ready` again, which watches again.
            self.poll.watch(false, false);
            self.backoff.start(EMFILE_BACKOFF_MS, 0);
        } else {
            self.poll.watch(true, false);
        }
        conns
    }
}

/// Accept up to `limit` queued connections without waiting; also says
/// whether accepting stopped because the process is out of descriptors.
pub(crate) fn accept_queued(
    sock: &OwnedFd,
    client_ip: bool,
    limit: usize,
) -> (Vec<Accepted>, bool) {
    let sock = SockRef::from(sock);
    let mut out = Vec::new();
    while out.len() < limit {
        match sock.accept() {
            Ok((conn, addr)) => {
                let client = client_ip
                    .then(|| addr.as_socket().map(|a| a.ip()))
                    .flatten();
                out.push(Accepted::new(OwnedFd::from(conn), client));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(nix::libc::EMFILE | nix::libc::ENFILE)
                ) =>
            {
                return (out, true)
            }
            // A client that gave up while queued, or similar: skip it.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(_) => break,
        }
    }
    (out, false)
}

pub(crate) struct RoundRobinHandle {
    pub(crate) sched: Box<dyn Scheduler<Accepted>>,
    /// None for a handle without a socket of ours: one whose connections JS
    /// accepts (Unix sockets, whose listening handle JS keeps so that
    /// closing it unlinks the path, as in Node), or reuseport's handoff of
    /// connections drained from a leaving worker's socket.
    pub(crate) listener: Option<Listener>,
    /// Workers that take this handle's connections over their connection
    /// channel, with their name for the server.
    pub(crate) conn_servers: HashMap<u32, u32>,
    pub(crate) policy: u32,
    /// The page of the workers that accept for themselves, once they do.
    pub(crate) share: Option<AcceptShare>,
    /// Whether new connections come fast (`share_at` or more a window):
    /// then workers that can accept for themselves do, and plain workers
    /// get `NEWCONN_WINDOW` connections in flight. And the current window
    /// of the rate: when it began, and the count at its start (the workers'
    /// total) or since (the primary's accepts).
    pub(crate) busy: bool,
    pub(crate) window_start: u64,
    pub(crate) window_count: u64,
}

impl RoundRobinHandle {
    pub(crate) fn new(policy: u32, listener: Option<Listener>) -> Self {
        RoundRobinHandle {
            sched: scheduler_for(policy),
            listener,
            conn_servers: HashMap::new(),
            policy,
            share: None,
            busy: false,
            window_start: 0,
            window_count: 0,
        }
    }

    /// How many connections a plain worker may hold unanswered now.
    pub(crate) fn newconn_window(&self) -> usize {
        if self.busy {
            NEWCONN_WINDOW
        } else {
            1
        }
    }

    /// Take what waits on the listener into the scheduler; how many.
    pub(crate) fn accept(&mut self) -> u64 {
        let Some(listener) = &self.listener else {
            return 0;
        };
        let mut n = 0;
        for conn in listener.accept_all(self.sched.needs_client_ip()) {
            self.sched.push(conn, None);
            n += 1;
        }
        n
    }

    /// A connection accepted elsewhere (JS, or a drained socket).
    pub(crate) fn push(&mut self, fd: OwnedFd) {
        self.push_from(fd, None);
    }

    /// A connection `worker` accepted for itself and its server refused.
    pub(crate) fn push_refused(&mut self, fd: OwnedFd, worker: u32) {
        self.push_from(fd, Some(worker));
    }

    fn push_from(&mut self, fd: OwnedFd, refused_by: Option<u32>) {
        let client = self
            .sched
            .needs_client_ip()
            .then(|| {
                SockRef::from(&fd)
                    .peer_addr()
                    .ok()?
                    .as_socket()
                    .map(|a| a.ip())
            })
            .flatten();
        self.sched.push(Accepted::new(fd, client), refused_by);
    }
}
