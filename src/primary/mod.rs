//! The primary's engine, on Node's own event loop (the JS thread), after
//! Node's `primary.js`. It owns every worker's channel, the listening
//! sockets the primary accepts on and the connection channels, and hands
//! connections to workers without entering V8. JS (lib/primary.js) keeps the
//! cluster protocol: `queryServer`, `listening`, `close`, lifecycle; it
//! makes the listening sockets with Node's own `net.Server#listen` and gives
//! them to the engine by descriptor.
//!
//! Rust state lives in one `RefCell`. JS is entered only from a libuv
//! callback (a channel or listener poll, a timer) and never while that cell
//! is borrowed, since JS may call straight back into the engine.

mod agent;
mod handles;
mod handoff;
mod share;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::channel::framing::Mode;
use crate::channel::v8::Value;
use crate::channel::writer::Notice;
use crate::channel::{Channel, ChannelEvents, Delivery};
use crate::conn_channel::{ConnEvents, Handed, Returned};
use crate::contract::{
    CONN_CHANNEL_WINDOW, EVENT_CLOSED, EVENT_HANDLE_SETTLED, EVENT_READ, EVENT_UNRESPONSIVE,
    EVENT_WRITE_FAILED,
};
use crate::reuseport_handle::ReusePortGroup;
use crate::round_robin_handle::{Accepted, RoundRobinHandle};
use crate::sys::{EventLoop, JsFunction, Scope, SharedBuffer, Timer};
use crate::worker::Worker;

/// Json frames of one read go to JS as one string up to this size, else as
/// one string each.
const ONE_STRING_BYTES: usize = 64 * 1024;

/// A connection handed to a worker over its IPC channel (Node's protocol),
/// awaiting its `accepted` answer.
struct InFlight {
    key: Rc<str>,
    worker: u32,
    conn: Accepted,
    sent: Instant,
}

#[derive(Default)]
struct State {
    /// `seq` of the messages the primary sends (one counter for all
    /// workers, as in `cluster/utils.js`; JS takes its numbers from here).
    seq: u64,
    workers: HashMap<u32, Worker>,
    handles: HashMap<Rc<str>, RoundRobinHandle>,
    groups: HashMap<Rc<str>, ReusePortGroup>,
    in_flight: HashMap<u64, InFlight>,
    handoff_timeout: Option<Duration>,
    /// New connections per window from which a handle is busy: workers
    /// that load rust-cluster accept for themselves (accept_share.rs) and
    /// plain workers get a window of `newconn`s; 0: never.
    share_at: u64,
    /// The most workers with which the workers' fast paths pay: a handle's
    /// workers share its socket (share.rs), agents write their messages
    /// themselves (agent.rs).
    fast_path_workers: usize,
}

impl State {
    /// A worker's channel opened or closed: past `fast_path_workers` the
    /// channels' waits stay brief (channel::crowded).
    fn workers_changed(&self) {
        crate::channel::crowded(self.workers.len() > self.fast_path_workers);
    }
}

pub(crate) struct Engine {
    event_loop: Option<EventLoop>,
    /// `onEvent(kind, worker, ...)` in lib/process.js; None in unit tests.
    js: Option<JsFunction>,
    /// JS's Buffer for the advanced frames of a read, and whether a read
    /// emitted with it is still in JS (a read JS causes meanwhile gets its
    /// own Buffer).
    read_buffer: Option<SharedBuffer>,
    read_buffer_lent: Cell<bool>,
    me: Weak<Engine>,
    state: RefCell<State>,
    watchdog: RefCell<Option<Timer>>,
    /// Channels JS sent on in this tick, for `flush`.
    sent_this_tick: RefCell<Vec<Rc<Channel>>>,
}

/// One worker's row in `connectionStats()`.
pub(crate) struct ConnectionStats {
    pub(crate) worker: u32,
    pub(crate) handed: u64,
    pub(crate) open: Option<u64>,
}

impl Engine {
    pub(crate) fn new(
        event_loop: Option<EventLoop>,
        js: Option<JsFunction>,
        read_buffer: Option<SharedBuffer>,
    ) -> Rc<Engine> {
        Rc::new_cyclic(|me| Engine {
            event_loop,
            js,
            read_buffer,
            read_buffer_lent: Cell::new(false),
            me: me.clone(),
            state: RefCell::new(State {
                share_at: share_at(),
                fast_path_workers: fast_path_workers(),
                ..State::default()
            }),
            watchdog: RefCell::new(None),
            sent_this_tick: RefCell::new(Vec::new()),
        })
    }

    fn channel_events(&self) -> Weak<dyn ChannelEvents> {
        self.me.clone()
    }

    fn conn_events(&self) -> Weak<dyn ConnEvents> {
        self.me.clone()
    }

    /// Call `onEvent(kind, worker, ...args)`. Only from a libuv callback with
    /// no state borrowed.
    fn emit(
        &self,
        kind: i32,
        worker: u32,
        args: impl FnOnce(&Scope) -> napi::Result<Vec<crate::sys::Value>>,
    ) {
        if let Some(js) = &self.js {
            js.call(
                |s| {
                    let mut argv = vec![s.int(kind)?, s.int(worker as i32)?];
                    argv.extend(args(s)?);
                    Ok(argv)
                },
                |_, _| (),
            );
        }
    }

    // ------------------------------------------------------------ channels

    /// Create a worker's channel. Returns the worker's end, for the spawn
    /// stdio array.
    pub(crate) fn open_channel(
        &self,
        worker: u32,
        mode: Mode,
        max_message: usize,
    ) -> Result<OwnedFd, Errno> {
        let errno = |e: io::Error| Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO));
        let (ours, theirs) = crate::channel::fdpass::channel_pair().map_err(errno)?;
        let channel = Channel::open(
            self.event_loop,
            worker,
            ours,
            mode,
            max_message,
            self.channel_events(),
        )
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO)))?;
        let mut st = self.state.borrow_mut();
        st.workers.insert(worker, Worker::new(channel));
        st.workers_changed();
        Ok(theirs)
    }

    fn channel(&self, worker: u32) -> Option<Rc<Channel>> {
        self.state
            .borrow()
            .workers
            .get(&worker)
            .map(|w| w.channel.clone())
    }

    /// A message from JS (see `Channel::send_js`); Err(EPIPE) once the
    /// channel is gone.
    pub(crate) fn send(
        &self,
        worker: u32,
        frame: &[u8],
        fd: Option<OwnedFd>,
        ticket: Option<u32>,
    ) -> Result<usize, Errno> {
        let Some(channel) = self.channel(worker) else {
            return Err(Errno::EPIPE);
        };
        let queued = channel.send_js(frame, fd, ticket)?;
        if channel.starts_tick() {
            self.sent_this_tick.borrow_mut().push(channel);
        }
        Ok(queued)
    }

    /// End of the tick: write what JS sent in it, on the channels it sent on.
    pub(crate) fn flush(&self) {
        let channels = std::mem::take(&mut *self.sent_this_tick.borrow_mut());
        for channel in channels {
            channel.end_tick();
        }
    }

    /// `worker.process.disconnect()`: close once flushed.
    pub(crate) fn close_channel(&self, worker: u32) {
        if let Some(channel) = self.channel(worker) {
            channel.close();
        }
    }

    pub(crate) fn ref_channel(&self, worker: u32, on: bool) {
        if let Some(channel) = self.channel(worker) {
            channel.set_ref(on);
        }
    }

    pub(crate) fn next_seq(&self) -> u64 {
        let mut st = self.state.borrow_mut();
        st.seq += 1;
        st.seq - 1
    }

    // --------------------------------------------------------------- stats

    /// Per worker: connections handed, and open ones where its agent reports.
    pub(crate) fn connection_stats(&self) -> Vec<ConnectionStats> {
        let st = self.state.borrow();
        let mut rows: Vec<ConnectionStats> = st
            .workers
            .iter()
            .map(|(&worker, w)| {
                let taken: u64 = st
                    .handles
                    .values()
                    .filter_map(|h| h.share.as_ref())
                    .map(|s| s.taken(worker))
                    .sum();
                ConnectionStats {
                    worker,
                    handed: w.handed() + taken,
                    open: w.open_with(taken),
                }
            })
            .collect();
        rows.sort_by_key(|r| r.worker);
        rows
    }

    /// How long a worker may sit on a handed connection before it is
    /// reported unresponsive (None: forever, as in node:cluster).
    pub(crate) fn set_handoff_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.state.borrow_mut().handoff_timeout = timeout;
        let mut watchdog = self.watchdog.borrow_mut();
        let Some(timeout) = timeout else {
            if let Some(timer) = watchdog.as_ref() {
                timer.stop();
            }
            return Ok(());
        };
        let Some(event_loop) = self.event_loop else {
            return Ok(());
        };
        if watchdog.is_none() {
            let me = self.me.clone();
            *watchdog = Some(Timer::new(event_loop, move || {
                if let Some(engine) = me.upgrade() {
                    engine.look_for_stuck_workers();
                }
            })?);
        }
        let every = (timeout / 4).max(Duration::from_millis(10)).as_millis() as u64;
        if let Some(timer) = watchdog.as_ref() {
            timer.start(every, every);
        }
        Ok(())
    }

    fn look_for_stuck_workers(&self) {
        let stuck = {
            let st = self.state.borrow();
            let Some(timeout) = st.handoff_timeout else {
                return;
            };
            st.stuck_workers(timeout)
        };
        for worker in stuck {
            self.emit(EVENT_UNRESPONSIVE, worker, |_| Ok(Vec::new()));
        }
    }
}

impl ChannelEvents for Engine {
    fn newconn_reply(&self, worker: u32, ack: u64, accepted: bool) -> bool {
        let mut st = self.state.borrow_mut();
        let Some(f) = st.in_flight.remove(&ack) else {
            return false;
        };
        if f.worker != worker {
            // Not our answer after all (a worker echoing someone else's seq).
            st.in_flight.insert(ack, f);
            return false;
        }
        let key = f.key.clone();
        let held = st.workers.get(&worker).map(|w| {
            w.count_newconn(false);
            w.newconns()
        });
        st.settle(&key, worker, f.conn, accepted);
        if let Some(h) = st.handles.get_mut(&key) {
            if held.is_some_and(|n| n < h.newconn_window()) {
                h.sched.ready(worker);
            }
        }
        st.pump(&key);
        true
    }

    fn agent_message(&self, worker: u32, msg: &Value) -> bool {
        self.agent(worker, msg)
    }

    fn deliver(&self, worker: u32, delivery: Delivery) {
        let Delivery {
            notices,
            data,
            frames,
            fds,
        } = delivery;
        for notice in notices {
            match notice {
                Notice::Settled => self.emit(EVENT_HANDLE_SETTLED, worker, |_| Ok(Vec::new())),
                Notice::Failed { ticket, errno } => self.emit(EVENT_WRITE_FAILED, worker, |s| {
                    Ok(vec![s.int(ticket as i32)?, s.int(errno)?])
                }),
            }
        }
        if frames == 0 {
            crate::channel::recycle(data);
            return;
        }
        let json = self
            .state
            .borrow()
            .workers
            .get(&worker)
            .is_none_or(|w| w.channel.mode() == Mode::Json);
        // JS owns the descriptors from here on.
        let fds: Vec<i32> = fds
            .into_iter()
            .flat_map(|(at, fd)| [at as i32, fd_into_raw(fd)])
            .collect();
        let lend = !json && self.read_buffer.is_some() && !self.read_buffer_lent.replace(true);
        self.emit(EVENT_READ, worker, |s| {
            let shared = match &self.read_buffer {
                Some(shared) if lend => s.fill(shared, &data)?,
                _ => None,
            };
            let body = match (shared, json, data.len() > ONE_STRING_BYTES) {
                // Advanced frames in JS's Buffer: their length.
                (Some(length), _, _) => length,
                (None, true, false) => s.utf8(&data)?,
                // One string per message: one large string would go to V8's
                // large-object space, an mmap and a munmap per read.
                (None, true, true) => {
                    // memchr: a byte-by-byte split of the lines was 14% of
                    // the primary's CPU in a json 64 KiB echo.
                    let mut lines = Vec::with_capacity(frames);
                    let mut start = 0;
                    for end in memchr::memchr_iter(b'\n', &data).take(frames) {
                        lines.push(s.utf8(&data[start..end])?);
                        start = end + 1;
                    }
                    s.array(&lines)?
                }
                (None, false, _) => s.buffer(&data)?,
            };
            let fds = if fds.is_empty() {
                s.undefined()?
            } else {
                s.int32_array(&fds)?
            };
            Ok(vec![body, fds])
        });
        if lend {
            self.read_buffer_lent.set(false);
        }
    }

    fn closed(&self, worker: u32, error: Option<String>) {
        {
            let mut st = self.state.borrow_mut();
            let entry = st.workers.remove(&worker);
            st.workers_changed();
            // It can no longer answer: what it holds goes to the others, and
            // it gets nothing more (JS's removeHandlesForWorker follows).
            let keys: Vec<Rc<str>> = st.handles.keys().cloned().collect();
            for key in &keys {
                st.leave(key, worker);
            }
            if let Some(conns) = entry.and_then(|e| e.conns) {
                for h in conns.end() {
                    st.settle(&h.key, worker, h.conn, false);
                }
            }
            for key in &keys {
                st.pump(key);
            }
        }
        self.emit(EVENT_CLOSED, worker, |s| {
            Ok(vec![match &error {
                Some(why) => s.utf8(why.as_bytes())?,
                None => s.undefined()?,
            }])
        });
    }
}

impl ConnEvents for Engine {
    fn returned(&self, worker: u32, conns: Vec<Returned>) {
        let mut st = self.state.borrow_mut();
        let mut keys: Vec<Rc<str>> = Vec::new();
        for conn in conns {
            let Some(w) = st.workers.get(&worker) else {
                continue;
            };
            // Counted when the primary took the worker's slot back: the
            // worker did not serve it after all.
            if conn.counted {
                w.remove_taken(1);
            }
            // A handle already closed: the connection closes with it, as
            // Node closes what a closing handle still holds.
            let Some(key) = w.server_key(conn.id) else {
                continue;
            };
            let Some(h) = st.handles.get_mut(&key) else {
                continue;
            };
            h.push_refused(conn.fd, worker);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in &keys {
            st.pump(key);
        }
    }

    fn answered(&self, worker: u32, answers: Vec<(Handed, bool)>) {
        let mut st = self.state.borrow_mut();
        let mut keys: Vec<Rc<str>> = Vec::new();
        for (h, taken) in answers {
            st.settle(&h.key, worker, h.conn, taken);
            if !keys.contains(&h.key) {
                keys.push(h.key);
            }
        }
        let room = st
            .workers
            .get(&worker)
            .is_some_and(|w| w.outstanding() < CONN_CHANNEL_WINDOW);
        for key in &keys {
            if let Some(h) = st.handles.get_mut(key) {
                if room && h.conn_servers.contains_key(&worker) {
                    h.sched.ready(worker);
                }
            }
            st.pump(key);
        }
    }

    fn conn_channel_closed(&self, worker: u32, unanswered: Vec<Handed>) {
        let mut st = self.state.borrow_mut();
        let mut keys: Vec<Rc<str>> = Vec::new();
        for h in unanswered {
            st.settle(&h.key, worker, h.conn, false);
            if !keys.contains(&h.key) {
                keys.push(h.key);
            }
        }
        // Its servers go back to Node's way, if its IPC channel still works.
        for (key, h) in st.handles.iter_mut() {
            if h.conn_servers.remove(&worker).is_some() && !keys.contains(key) {
                keys.push(key.clone());
            }
            if h.sched.workers().contains(&worker) {
                h.sched.ready(worker);
            }
        }
        for key in &keys {
            st.share(key);
            st.pump(key);
        }
    }
}

/// `RUST_CLUSTER_SHARE_AT` (connections per 20 ms; 0 turns it off) or
/// the default.
fn share_at() -> u64 {
    std::env::var("RUST_CLUSTER_SHARE_AT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(crate::accept_share::SHARE_AT)
}

/// Workers per CPU up to which the workers' fast paths pay. Past a few per
/// CPU, each worker has little to do per turn of its loop, and what the
/// fast paths spare the primary costs the workers more: every idle worker
/// watching a shared socket wakes for each connection (libuv has no
/// `EPOLLEXCLUSIVE`; on 2 CPUs, 8 workers took 1.64x node:cluster's
/// connections sharing and 1.50x with the primary accepting, 16 took 1.23x
/// against 1.33x, 32 0.87x against 1.12x), and the agent's writes cost a
/// worker more than Node's (32 workers, json 50 B echo: 19.7-21.5 µs of the
/// workers' CPU per round trip against 16.1-17.6 with Node's writes,
/// 0.86-0.92x node:cluster's round trips against 1.00-1.02x).
const FAST_PATH_WORKERS_PER_CPU: usize = 4;

/// `RUST_CLUSTER_FAST_PATH_WORKERS` or the default:
/// `FAST_PATH_WORKERS_PER_CPU` per CPU this process may run on.
fn fast_path_workers() -> usize {
    std::env::var("RUST_CLUSTER_FAST_PATH_WORKERS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| crate::sys::cpus() * FAST_PATH_WORKERS_PER_CPU)
}

fn fd_into_raw(fd: OwnedFd) -> RawFd {
    std::os::fd::IntoRawFd::into_raw_fd(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::tests::socket_pair;
    use crate::contract::SCHED_RR;
    use crate::sys::Ready;
    use std::io::Write;
    use std::os::fd::AsFd;

    const READABLE: Ready = Ready {
        readable: true,
        writable: false,
        hangup: false,
        error: None,
    };

    fn read_lines(peer: &OwnedFd) -> Vec<String> {
        let mut buf = vec![0u8; 1 << 16];
        let mut fds = Vec::new();
        let mut out = Vec::new();
        loop {
            match crate::channel::fdpass::recv_with_fds(peer.as_fd(), &mut buf, &mut fds, 8) {
                Ok((n, _)) if n > 0 => out.extend(
                    String::from_utf8_lossy(&buf[..n])
                        .lines()
                        .map(str::to_owned),
                ),
                _ => return out,
            }
        }
    }

    fn nonblocking(fd: &OwnedFd) {
        nix::fcntl::fcntl(
            fd,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .expect("nonblock");
    }

    /// Channels (our peers, non-blocking) of workers 1 and 2, and a
    /// round-robin handle `k` without a socket.
    fn two_workers_on_k(engine: &Engine) -> (OwnedFd, OwnedFd) {
        let a = engine
            .open_channel(1, Mode::Json, 1 << 20)
            .expect("channel 1");
        let b = engine
            .open_channel(2, Mode::Json, 1 << 20)
            .expect("channel 2");
        nonblocking(&a);
        nonblocking(&b);
        engine.listen("k", None, SCHED_RR).expect("listen");
        (a, b)
    }

    /// Round robin over Node's protocol: one connection in flight per
    /// worker, the next one after the `accepted` answer, refused ones to
    /// the other worker.
    #[test]
    fn connections_go_round_robin_one_in_flight_per_worker() {
        let engine = Engine::new(None, None, None);
        let (a, b) = two_workers_on_k(&engine);
        engine.add_worker("k", 1);
        engine.add_worker("k", 2);
        for _ in 0..3 {
            let (conn, _peer) = socket_pair();
            engine.connection("k", conn);
        }
        let first_a = read_lines(&a);
        let first_b = read_lines(&b);
        assert_eq!((first_a.len(), first_b.len()), (1, 1));
        assert!(first_a[0].contains(r#""act":"newconn","key":"k","seq":0"#));
        assert!(first_b[0].contains(r#""seq":1"#));

        // Worker 1 refuses: the waiting connection and the refused one go
        // on, the refused one to worker 2 once it answers.
        let channel = engine.channel(1).expect("channel");
        std::fs::File::from(a.try_clone().expect("dup"))
            .write_all(b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n{\"cmd\":\"NODE_CLUSTER\",\"ack\":0,\"accepted\":false,\"seq\":5}\n")
            .expect("write");
        channel.on_ready(READABLE);
        assert_eq!(
            read_lines(&a).len(),
            1,
            "worker 1 gets the third connection"
        );
        let channel = engine.channel(2).expect("channel");
        std::fs::File::from(b.try_clone().expect("dup"))
            .write_all(b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n{\"cmd\":\"NODE_CLUSTER\",\"ack\":1,\"accepted\":true,\"seq\":6}\n")
            .expect("write");
        channel.on_ready(READABLE);
        let again = read_lines(&b);
        assert_eq!(again.len(), 1, "worker 2 gets the refused one");
        assert_eq!(engine.connection_stats()[1].handed, 1);
    }

    /// While the handle is busy a plain worker holds up to a window of
    /// connections unanswered; each answer makes room for one more.
    #[test]
    fn a_busy_handle_gives_plain_workers_a_window_of_connections() {
        let engine = Engine::new(None, None, None);
        let (a, b) = two_workers_on_k(&engine);
        let window = {
            let mut st = engine.state.borrow_mut();
            let h = st.handles.get_mut("k").expect("handle");
            h.busy = true;
            h.newconn_window()
        };
        assert!(window > 1);
        engine.add_worker("k", 1);
        engine.add_worker("k", 2);
        let mut peers = Vec::new();
        for _ in 0..2 * window + 3 {
            let (conn, peer) = socket_pair();
            peers.push(peer);
            engine.connection("k", conn);
        }
        let first_a = read_lines(&a);
        assert_eq!((first_a.len(), read_lines(&b).len()), (window, window));
        // In turn: worker 1 got the even seqs.
        assert!(first_a[1].contains(r#""seq":2"#), "{first_a:?}");
        let channel = engine.channel(1).expect("channel");
        std::fs::File::from(a.try_clone().expect("dup"))
            .write_all(b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n{\"cmd\":\"NODE_HANDLE_ACK\"}\n{\"cmd\":\"NODE_CLUSTER\",\"ack\":0,\"accepted\":true,\"seq\":5}\n{\"cmd\":\"NODE_CLUSTER\",\"ack\":2,\"accepted\":true,\"seq\":6}\n")
            .expect("write");
        channel.on_ready(READABLE);
        assert_eq!(read_lines(&a).len(), 2, "two answers, two more");
        assert!(read_lines(&b).is_empty());
        assert_eq!(engine.connection_stats()[0].handed, 2);
    }

    /// The first message of a tick goes out at once, the others of the tick
    /// at `flush`, after which the next one goes at once again.
    #[test]
    fn messages_after_the_first_of_a_tick_wait_for_its_end() {
        let engine = Engine::new(None, None, None);
        let peer = engine
            .open_channel(1, Mode::Json, 1 << 20)
            .expect("channel");
        nonblocking(&peer);
        engine.send(1, b"\"a\"\n", None, None).expect("send");
        engine.send(1, b"\"b\"\n", None, None).expect("send");
        assert_eq!(read_lines(&peer), vec!["\"a\""]);
        engine.flush();
        assert_eq!(read_lines(&peer), vec!["\"b\""]);
        engine.send(1, b"\"c\"\n", None, None).expect("send");
        assert_eq!(read_lines(&peer), vec!["\"c\""]);
    }

    /// A worker whose channel ends gives back what it did not answer.
    #[test]
    fn a_closed_worker_gives_its_connection_to_another() {
        let engine = Engine::new(None, None, None);
        let a = engine
            .open_channel(1, Mode::Json, 1 << 20)
            .expect("channel 1");
        let b = engine
            .open_channel(2, Mode::Json, 1 << 20)
            .expect("channel 2");
        nonblocking(&b);
        engine.listen("k", None, SCHED_RR).expect("listen");
        engine.add_worker("k", 1);
        let (conn, _peer) = socket_pair();
        engine.connection("k", conn);
        engine.add_worker("k", 2);
        assert!(read_lines(&b).is_empty());
        let channel = engine.channel(1).expect("channel");
        drop(a);
        channel.on_ready(READABLE);
        let got = read_lines(&b);
        assert_eq!(got.len(), 1);
        assert!(got[0].contains(r#""act":"newconn""#));
    }
}
