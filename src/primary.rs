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

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

use crate::channel::framing::Mode;
use crate::channel::v8::Value;
use crate::channel::writer::{Notice, Outgoing};
use crate::channel::{Channel, ChannelEvents, Delivery};
use crate::conn_channel::{ConnChannel, ConnEvents, Handed};
use crate::contract::{
    AGENT_CONNS, AGENT_CONN_CHANNEL, AGENT_CONN_SERVER, AGENT_HELLO, AGENT_WELCOME,
    CONN_CHANNEL_WINDOW, EVENT_CLOSED, EVENT_HANDLE_SETTLED, EVENT_READ, EVENT_UNRESPONSIVE,
    EVENT_WRITE_FAILED,
};
use crate::protocol;
use crate::reuseport_handle::{Address, ReusePortGroup};
use crate::round_robin_handle::{Accepted, Listener, RoundRobinHandle};
use crate::sys::{EventLoop, JsFunction, Scope, Timer};
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
}

pub(crate) struct Engine {
    event_loop: Option<EventLoop>,
    /// `onEvent(kind, worker, ...)` in lib/process.js; None in unit tests.
    js: Option<JsFunction>,
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
    pub(crate) fn new(event_loop: Option<EventLoop>, js: Option<JsFunction>) -> Rc<Engine> {
        Rc::new_cyclic(|me| Engine {
            event_loop,
            js,
            me: me.clone(),
            state: RefCell::default(),
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
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        )?;
        // The worker's end is blocking, as libuv leaves a child's channel
        // until the child opens it.
        nix::fcntl::fcntl(
            &theirs,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
        )?;
        let channel = Channel::open(
            self.event_loop,
            worker,
            ours,
            mode,
            max_message,
            self.channel_events(),
        )
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO)))?;
        self.state
            .borrow_mut()
            .workers
            .insert(worker, Worker::new(channel));
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

    // ------------------------------------------------------------- handles

    /// A round-robin handle for `key` (RoundRobinHandle in Node): accept on
    /// `sock` if given (a copy of the socket JS listened on), with the
    /// scheduler of `policy`.
    pub(crate) fn listen(&self, key: &str, sock: Option<OwnedFd>, policy: u32) -> io::Result<()> {
        let key: Rc<str> = key.into();
        let listener = match (sock, self.event_loop) {
            (Some(sock), Some(event_loop)) => {
                let (me, at) = (self.me.clone(), key.clone());
                Some(Listener::new(event_loop, sock, move || {
                    if let Some(engine) = me.upgrade() {
                        engine.accept(&at);
                    }
                })?)
            }
            _ => None,
        };
        self.state
            .borrow_mut()
            .handles
            .insert(key, RoundRobinHandle::new(policy, listener));
        Ok(())
    }

    fn accept(&self, key: &Rc<str>) {
        let mut st = self.state.borrow_mut();
        if let Some(h) = st.handles.get_mut(key) {
            h.accept();
            st.pump(key);
        }
    }

    /// A connection JS accepted for `key` (a Unix socket server).
    pub(crate) fn connection(&self, key: &str, fd: OwnedFd) {
        let mut st = self.state.borrow_mut();
        let Some(key) = st.key(key) else {
            return;
        };
        if let Some(h) = st.handles.get_mut(&key) {
            h.push(fd);
        }
        st.pump(&key);
    }

    /// `handle.add(worker)`, once the worker has its answer.
    pub(crate) fn add_worker(&self, key: &str, worker: u32) {
        let mut st = self.state.borrow_mut();
        let Some(key) = st.key(key) else {
            return;
        };
        if !st.workers.contains_key(&worker) {
            return;
        }
        if let Some(h) = st.handles.get_mut(&key) {
            h.sched.add(worker);
            h.sched.ready(worker);
        }
        st.pump(&key);
    }

    /// `handle.remove(worker)`: no more connections for it; what it was
    /// handed and did not answer goes to the others.
    pub(crate) fn remove_worker(&self, key: &str, worker: u32) {
        let mut st = self.state.borrow_mut();
        let Some(key) = st.key(key) else {
            return;
        };
        st.leave(&key, worker);
        st.pump(&key);
    }

    /// The handle's last worker left: close it. Connections still waiting
    /// are closed with it, as in Node.
    pub(crate) fn close_handle(&self, key: &str) {
        self.state.borrow_mut().handles.remove(key);
    }

    /// `worker` is being disconnected. Where it is the last worker of a
    /// handle the primary accepts on, the handle is about to close: instead
    /// of resetting the connections it still holds (and those in the
    /// kernel's accept queue), hand them all to this worker over its IPC
    /// channel, ahead of its `disconnect` message. Its server is still open
    /// when it reads them, so it accepts them and answers them before it
    /// exits.
    pub(crate) fn hand_over_leftovers(&self, worker: u32) {
        let mut st = self.state.borrow_mut();
        let mut handoffs = Vec::new();
        for (key, h) in st.handles.iter_mut() {
            if h.sched.workers() != [worker] {
                continue;
            }
            h.accept();
            handoffs.extend(h.sched.drain().into_iter().map(|conn| (key.clone(), conn)));
        }
        for (key, conn) in handoffs {
            st.send_newconn(&key, worker, conn);
        }
    }

    /// `worker`'s own SO_REUSEPORT socket for `key` (made on first asking).
    pub(crate) fn reuseport_socket(
        &self,
        key: &str,
        address: Address,
        worker: u32,
    ) -> io::Result<RawFd> {
        let mut st = self.state.borrow_mut();
        let group = st
            .groups
            .entry(key.into())
            .or_insert_with(|| ReusePortGroup::new(address));
        group.socket_for(worker)
    }

    /// `worker` is done with its reuseport socket: what waits in its accept
    /// queue goes to the handle's other workers (the handle `key` JS made
    /// with `listen(key, None, SCHED_RR)`).
    pub(crate) fn reuseport_release(&self, key: &str, worker: u32) {
        let mut st = self.state.borrow_mut();
        let Some(group) = st.groups.get_mut(key) else {
            return;
        };
        let queued = group.release(worker);
        let Some(key) = st.key(key) else {
            return;
        };
        if let Some(h) = st.handles.get_mut(&key) {
            for conn in queued {
                h.sched.push(conn, Some(worker));
            }
        }
        st.pump(&key);
    }

    pub(crate) fn reuseport_close(&self, key: &str) {
        self.state.borrow_mut().groups.remove(key);
    }

    // --------------------------------------------------------------- stats

    /// Per worker: connections handed, and open ones where its agent reports.
    pub(crate) fn connection_stats(&self) -> Vec<ConnectionStats> {
        let st = self.state.borrow();
        let mut rows: Vec<ConnectionStats> = st
            .workers
            .iter()
            .map(|(&worker, w)| ConnectionStats {
                worker,
                handed: w.handed(),
                open: w.open(),
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

    /// The worker registered a server (its name `id` for the handle `key`)
    /// whose connections it takes over a connection channel; the channel is
    /// made and sent on first asking.
    fn conn_server(&self, worker: u32, key: &str, id: u32) {
        let mut st = self.state.borrow_mut();
        let State {
            handles, workers, ..
        } = &mut *st;
        let (Some(h), Some(w)) = (handles.get_mut(key), workers.get_mut(&worker)) else {
            return;
        };
        if !h.sched.workers().contains(&worker) {
            return;
        }
        if !w.conns.as_ref().is_some_and(|c| c.is_open()) {
            let pair = socketpair(
                AddressFamily::Unix,
                SockType::Stream,
                None,
                SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            );
            let Ok((ours, theirs)) = pair else {
                return;
            };
            let Ok(conns) = ConnChannel::open(self.event_loop, worker, ours, self.conn_events())
            else {
                return;
            };
            let msg = protocol::handle_message(
                "net.Native",
                protocol::agent_message(AGENT_CONN_CHANNEL, Vec::new()),
            );
            let bytes = protocol::encode(w.channel.mode(), &msg);
            w.channel
                .send(Outgoing::internal(bytes, Some(Rc::new(theirs))));
            w.conns = Some(conns);
        }
        h.conn_servers.insert(worker, id);
    }
}

impl State {
    /// The handle map's own copy of `key`.
    fn key(&self, key: &str) -> Option<Rc<str>> {
        self.handles.get_key_value(key).map(|(k, _)| k.clone())
    }

    /// `worker` leaves the handle `key`: it gets no more connections, and
    /// what it was handed over its IPC channel and did not answer goes to
    /// the others.
    fn leave(&mut self, key: &Rc<str>, worker: u32) {
        let Some(h) = self.handles.get_mut(key) else {
            return;
        };
        h.sched.remove(worker);
        h.conn_servers.remove(&worker);
        let seqs: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.worker == worker && &f.key == key)
            .map(|(&seq, _)| seq)
            .collect();
        for seq in seqs {
            if let Some(f) = self.in_flight.remove(&seq) {
                h.sched.push(f.conn, Some(worker));
            }
        }
    }

    /// Hand out every connection of `key` that can go now: over the
    /// connection channel to workers that have one for this server, in one
    /// batch per worker; as a `newconn` message to the others.
    fn pump(&mut self, key: &Rc<str>) {
        let mut batches: HashMap<u32, Vec<(u32, Handed)>> = HashMap::new();
        loop {
            let State {
                handles, workers, ..
            } = &mut *self;
            let Some(h) = handles.get_mut(key) else {
                break;
            };
            let loads = |w: u32| {
                let worker = workers.get(&w)?;
                Some(worker.open()? + worker.outstanding() as u64)
            };
            let Some((worker, conn)) = h.sched.next(&loads) else {
                break;
            };
            let Some(w) = workers.get(&worker) else {
                // The worker vanished without its channel closing first:
                // drop it from the handle and give the connection to
                // someone else.
                h.sched.remove(worker);
                h.sched.push(conn, None);
                continue;
            };
            let conns = w.conns.as_ref().filter(|c| c.is_open());
            match (h.conn_servers.get(&worker), conns) {
                (Some(&id), Some(conns)) => {
                    let batch = batches.entry(worker).or_default();
                    batch.push((
                        id,
                        Handed {
                            key: key.clone(),
                            conn,
                            sent: Instant::now(),
                        },
                    ));
                    if conns.outstanding() + batch.len() < CONN_CHANNEL_WINDOW {
                        h.sched.ready(worker);
                    }
                }
                _ => self.send_newconn(key, worker, conn),
            }
        }
        for (worker, batch) in batches {
            if let Some(conns) = self.workers.get(&worker).and_then(|w| w.conns.clone()) {
                conns.hand(batch);
            }
        }
    }

    /// Node's way: `{ act: 'newconn', key }` with the descriptor, over the
    /// IPC channel; the worker answers `accepted`.
    fn send_newconn(&mut self, key: &Rc<str>, worker: u32, conn: Accepted) {
        let Some(w) = self.workers.get(&worker) else {
            return;
        };
        let seq = self.seq;
        self.seq += 1;
        let bytes = protocol::newconn_frame(w.channel.mode(), key, seq);
        w.channel
            .send(Outgoing::internal(bytes, Some(conn.fd.clone())));
        self.in_flight.insert(
            seq,
            InFlight {
                key: key.clone(),
                worker,
                conn,
                sent: Instant::now(),
            },
        );
    }

    /// A connection `worker` answered: taken (our copy closes as it drops)
    /// or refused (another worker gets it).
    fn settle(&mut self, key: &Rc<str>, worker: u32, conn: Accepted, taken: bool) {
        if taken {
            if let Some(w) = self.workers.get(&worker) {
                w.add_handed();
            }
            return;
        }
        if let Some(h) = self.handles.get_mut(key) {
            h.sched.push(conn, Some(worker));
        }
    }

    /// Workers holding a handed connection for longer than `timeout`, each
    /// reported once.
    fn stuck_workers(&self, timeout: Duration) -> Vec<u32> {
        let over = |sent: Instant| sent.elapsed() > timeout;
        let mut stuck: Vec<u32> = self
            .in_flight
            .values()
            .filter(|f| over(f.sent))
            .map(|f| f.worker)
            .chain(self.workers.iter().filter_map(|(&id, w)| {
                let oldest = w.conns.as_ref()?.oldest()?;
                over(oldest).then_some(id)
            }))
            .collect();
        stuck.sort_unstable();
        stuck.dedup();
        stuck.retain(|w| match self.workers.get(w) {
            Some(worker) => !worker.reported_unresponsive.replace(true),
            None => false,
        });
        stuck
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
        st.settle(&key, worker, f.conn, accepted);
        if let Some(h) = st.handles.get_mut(&key) {
            h.sched.ready(worker);
        }
        st.pump(&key);
        true
    }

    fn agent_message(&self, worker: u32, msg: &Value) -> bool {
        match msg.get("act").and_then(Value::as_str) {
            Some(AGENT_CONNS) => {
                let closed = msg.get("closed").and_then(Value::as_f64);
                if let Some(closed) = closed.filter(|c| *c >= 0.0 && c.is_finite()) {
                    if let Some(w) = self.state.borrow().workers.get(&worker) {
                        w.report_closed(closed as u64);
                    }
                }
                true
            }
            Some(AGENT_CONN_SERVER) => {
                let key = msg.get("key").and_then(Value::as_str);
                let id = msg.get("id").and_then(Value::as_f64);
                if let (Some(key), Some(id)) = (key, id) {
                    if id >= 0.0 && id <= f64::from(u32::MAX) {
                        self.conn_server(worker, key, id as u32);
                    }
                }
                true
            }
            // The agent writes its channel itself once it knows how
            // messages are encoded on it (lib/agent/sender.js).
            Some(AGENT_HELLO) => {
                if let Some(w) = self.state.borrow().workers.get(&worker) {
                    let mode = match w.channel.mode() {
                        Mode::Json => "json",
                        Mode::Advanced => "advanced",
                    };
                    let fields = vec![("serialization".to_string(), protocol::string(mode))];
                    let bytes = protocol::encode(
                        w.channel.mode(),
                        &protocol::agent_message(AGENT_WELCOME, fields),
                    );
                    w.channel.send(Outgoing::internal(bytes, None));
                }
                true
            }
            // The supervisor's (lib/supervisor/): heartbeat answers.
            _ => false,
        }
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
        self.emit(EVENT_READ, worker, |s| {
            let body = match (json, data.len() > ONE_STRING_BYTES) {
                (true, false) => s.utf8(&data)?,
                // One string per message: one large string would go to V8's
                // large-object space, an mmap and a munmap per read.
                (true, true) => {
                    let lines: napi::Result<Vec<_>> = data
                        .split(|&b| b == b'\n')
                        .take(frames)
                        .map(|line| s.utf8(line))
                        .collect();
                    s.array(&lines?)?
                }
                (false, _) => s.buffer(&data)?,
            };
            let fds = if fds.is_empty() {
                s.undefined()?
            } else {
                s.int32_array(&fds)?
            };
            Ok(vec![body, fds])
        });
    }

    fn closed(&self, worker: u32, error: Option<String>) {
        {
            let mut st = self.state.borrow_mut();
            let entry = st.workers.remove(&worker);
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
            st.pump(key);
        }
    }
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

    /// Round robin over Node's protocol: one connection in flight per
    /// worker, the next one after the `accepted` answer, refused ones to
    /// the other worker.
    #[test]
    fn connections_go_round_robin_one_in_flight_per_worker() {
        let engine = Engine::new(None, None);
        let a = engine
            .open_channel(1, Mode::Json, 1 << 20)
            .expect("channel 1");
        let b = engine
            .open_channel(2, Mode::Json, 1 << 20)
            .expect("channel 2");
        nonblocking(&a);
        nonblocking(&b);
        engine.listen("k", None, SCHED_RR).expect("listen");
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

    /// The first message of a tick goes out at once, the others of the tick
    /// at `flush`, after which the next one goes at once again.
    #[test]
    fn messages_after_the_first_of_a_tick_wait_for_its_end() {
        let engine = Engine::new(None, None);
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
        let engine = Engine::new(None, None);
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
