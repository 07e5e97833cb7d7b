//! The primary's engine, on the I/O thread: it owns every worker channel and
//! listening socket, answers the cluster protocol (`queryServer`, `close`,
//! `newconn` replies, `exitedAfterDisconnect`) and runs the scheduler. JS
//! sees only the cold path: lifecycle messages, user messages, closes.
//! Mirrors `lib/internal/cluster/primary.js`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::channel::backlog::Backlog;
use crate::channel::framing::Mode;
use crate::channel::gate::WriteGate;
use crate::channel::v8::Value;
use crate::channel::{Channel, ChannelEvents, JsFrame, Outgoing, WriterItem};
use crate::protocol::{self, number, string};
use crate::registry::{Registry, WorkerEntry};
use crate::scheduler::least_conn::LeastConn;
use crate::scheduler::reuseport::{self, ReusePortGroup};
use crate::scheduler::round_robin::RoundRobin;
use crate::scheduler::sticky::Sticky;
use crate::scheduler::{Connection, Policy, Scheduler};
use crate::server::{self, Bound, Kind, Query};
use crate::stats::ConnectionStats;

/// What the engine tells JS. Delivered in order.
pub enum Event {
    /// A frame for JS: user data (`internal: false`, maybe wrapped in
    /// `NODE_HANDLE` with `fd`), or a lifecycle message (`internal: true`).
    Message { worker: u32, frame: JsFrame },
    /// A message sent with a ticket could not be written (OS errno).
    WriteFailed {
        worker: u32,
        ticket: u32,
        errno: i32,
    },
    /// The channel closed; `error` when the worker misbehaved or I/O failed.
    Closed { worker: u32, error: Option<String> },
    /// A descriptor JS sent has been acknowledged by the worker.
    HandleSettled { worker: u32 },
    /// The worker held a handed connection longer than the handoff timeout
    /// without answering: its event loop is stuck. JS kills it; the
    /// connection then goes to another worker.
    Unresponsive { worker: u32 },
    /// The messages before this one came from one read of the channel. Node
    /// emits the messages of one read in one go and runs the microtask queue
    /// between reads; JS mirrors that, so that `await once(worker,
    /// 'message')` twice sees both of two messages that arrived apart.
    ReadEnd { worker: u32 },
}

pub trait EventSink {
    fn emit(&self, event: Event);
}

/// What JS asks of the engine.
pub enum Command {
    Open {
        worker: u32,
        sock: Arc<OwnedFd>,
        mode: Mode,
        /// The largest message the worker may send.
        max_message: usize,
        /// The write side, already shared with JS (which writes through it
        /// directly, not through the engine).
        gate: Arc<WriteGate>,
        queue: mpsc::UnboundedReceiver<WriterItem>,
    },
    /// `worker.disconnect()` in the primary.
    Disconnect {
        worker: u32,
    },
    /// `worker.process.disconnect()`: close the channel once flushed.
    CloseChannel {
        worker: u32,
    },
    /// The worker process exited.
    Exited {
        worker: u32,
    },
    SetPolicy(Policy),
    /// Ask every worker's agent to report closed connections, so that
    /// `connectionStats()` knows how many are open (leastconn always asks).
    TrackConnections,
    /// How long a worker may hold a handed connection without answering
    /// (`None`: forever, as in node:cluster).
    SetHandoffTimeout(Option<Duration>),
}

/// An accepted connection on its way to a worker; shared so the engine can
/// keep it until the worker says it accepted it.
#[derive(Clone)]
struct Accepted {
    fd: Arc<OwnedFd>,
    /// The client's address, for schedulers that want it.
    client: Option<IpAddr>,
}

impl Accepted {
    fn new(fd: OwnedFd) -> Self {
        Accepted {
            fd: Arc::new(fd),
            client: None,
        }
    }
}

impl Connection for Accepted {
    fn client_ip(&self) -> Option<IpAddr> {
        self.client
    }
}

/// A listening socket the primary accepts on (round robin, leastconn,
/// sticky); the scheduler decides which worker gets each connection.
struct AcceptHandle {
    sched: Box<dyn Scheduler<Accepted>>,
    sockname: Option<Value>,
    data: Value,
    accept: JoinHandle<()>,
    /// The listening socket (and a Unix path), alive as long as the handle.
    listener: Rc<AsyncFd<Bound>>,
}

/// `SCHED_REUSEPORT`: one SO_REUSEPORT socket per worker.
struct ReusePortHandle {
    group: ReusePortGroup,
    /// Connections drained from a leaving worker's socket, for the others.
    handoff: RoundRobin<Accepted>,
    data: Value,
}

struct SharedHandle {
    workers: Vec<u32>,
    socket: Option<Bound>,
    errno: i32,
    /// `net.Native` or `dgram.Native`: how the worker should wrap the fd.
    native_type: &'static str,
    data: Value,
}

enum Handle {
    Accept(AcceptHandle),
    Shared(SharedHandle),
    ReusePort(ReusePortHandle),
}

impl Handle {
    fn data_mut(&mut self) -> &mut Value {
        match self {
            Handle::Accept(h) => &mut h.data,
            Handle::Shared(h) => &mut h.data,
            Handle::ReusePort(h) => &mut h.data,
        }
    }

    /// Who gets the connections the primary hands out for this handle.
    fn scheduler(&mut self) -> Option<&mut dyn Scheduler<Accepted>> {
        match self {
            Handle::Accept(h) => Some(h.sched.as_mut()),
            Handle::ReusePort(h) => Some(&mut h.handoff),
            Handle::Shared(_) => None,
        }
    }

    /// The worker is being disconnected but may still be using its socket:
    /// under reuseport, stop handing it connections and keep its socket
    /// until it is gone (`remove`). Otherwise the same as `remove`.
    fn retire(&mut self, worker: u32) -> bool {
        match self {
            Handle::ReusePort(h) => h.handoff.remove(worker),
            _ => self.remove(worker),
        }
    }

    /// `handle.remove(worker)`: true when the handle is now unused and closed.
    fn remove(&mut self, worker: u32) -> bool {
        match self {
            Handle::Accept(h) => {
                if !h.sched.remove(worker) {
                    return false;
                }
                h.accept.abort();
                drop(h.sched.drain());
                true
            }
            Handle::ReusePort(h) => {
                let last = h.handoff.remove(worker);
                // What the kernel queued on the worker's socket goes to the
                // others before the socket closes (Linux resets it on close).
                if let Some(socket) = h.group.take(worker) {
                    for conn in reuseport::drain_accept_queue(&socket) {
                        h.handoff.push(Accepted::new(conn), None);
                    }
                }
                if last {
                    // Nobody is left to take them.
                    drop(h.handoff.drain());
                }
                last
            }
            Handle::Shared(h) => {
                let before = h.workers.len();
                h.workers.retain(|&w| w != worker);
                if h.workers.len() == before || !h.workers.is_empty() {
                    return false;
                }
                h.socket = None;
                true
            }
        }
    }
}

/// A connection handed to a worker, awaiting its `accepted` answer.
struct InFlight {
    key: Rc<str>,
    worker: u32,
    conn: Accepted,
    sent: Instant,
}

struct State {
    policy: Policy,
    handoff_timeout: Option<Duration>,
    /// `seq` of the messages the primary sends (one counter for all workers,
    /// as in `cluster/utils.js`).
    seq: u64,
    workers: Registry,
    handles: HashMap<Rc<str>, Handle>,
    in_flight: HashMap<u64, InFlight>,
    stats: ConnectionStats,
    /// `TrackConnections` was asked for.
    track_connections: bool,
}

pub struct Engine {
    state: RefCell<State>,
    sink: Box<dyn EventSink>,
    me: Weak<Engine>,
    /// A message for JS came out of the read being dispatched now.
    message_in_read: Cell<bool>,
}

/// Run the engine until the command channel closes. Call inside a `LocalSet`.
pub async fn run(
    mut commands: mpsc::UnboundedReceiver<Command>,
    sink: Box<dyn EventSink>,
    stats: ConnectionStats,
) {
    let engine = Rc::new_cyclic(|me| Engine {
        state: RefCell::new(State {
            policy: Policy::RoundRobin,
            handoff_timeout: None,
            seq: 0,
            workers: Registry::default(),
            handles: HashMap::new(),
            in_flight: HashMap::new(),
            stats,
            track_connections: false,
        }),
        sink,
        me: me.clone(),
        message_in_read: Cell::new(false),
    });
    tokio::task::spawn_local(watch_handoffs(Rc::downgrade(&engine)));
    while let Some(command) = commands.recv().await {
        engine.command(command);
    }
}

/// With a handoff timeout set, look for workers sitting on a connection.
async fn watch_handoffs(engine: Weak<Engine>) {
    loop {
        let Some(timeout) = engine
            .upgrade()
            .and_then(|e| e.state.borrow().handoff_timeout)
        else {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        };
        tokio::time::sleep((timeout / 4).max(Duration::from_millis(10))).await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let stuck = engine.state.borrow_mut().stuck_workers(timeout);
        for worker in stuck {
            engine.sink.emit(Event::Unresponsive { worker });
        }
    }
}

impl Engine {
    fn command(self: &Rc<Self>, command: Command) {
        match command {
            Command::Open {
                worker,
                sock,
                mode,
                max_message,
                gate,
                queue,
            } => self.open(worker, sock, mode, max_message, gate, queue),
            Command::Disconnect { worker } => {
                let mut st = self.state.borrow_mut();
                if let Some(entry) = st.workers.get_mut(worker) {
                    entry.exited_after_disconnect = true;
                }
                st.hand_over_leftovers(worker);
                st.send_cluster(worker, vec![("act".into(), string("disconnect"))]);
                st.retire_worker_from_handles(worker);
            }
            Command::CloseChannel { worker } => {
                if let Some(entry) = self.state.borrow().workers.get(worker) {
                    entry.channel.close();
                }
            }
            Command::Exited { worker } => {
                self.state.borrow_mut().remove_worker_from_handles(worker)
            }
            Command::SetPolicy(policy) => self.state.borrow_mut().policy = policy,
            Command::TrackConnections => {
                let mut st = self.state.borrow_mut();
                st.track_connections = true;
                for worker in st.workers.ids() {
                    st.ask_to_count(worker);
                }
            }
            Command::SetHandoffTimeout(timeout) => {
                self.state.borrow_mut().handoff_timeout = timeout
            }
        }
    }

    fn open(
        self: &Rc<Self>,
        worker: u32,
        sock: Arc<OwnedFd>,
        mode: Mode,
        max_message: usize,
        gate: Arc<WriteGate>,
        queue: mpsc::UnboundedReceiver<WriterItem>,
    ) {
        let events: Rc<dyn ChannelEvents> = self.clone();
        match Channel::spawn(worker, sock, mode, max_message, gate, queue, events) {
            Ok(channel) => {
                let mut st = self.state.borrow_mut();
                let counters = st.stats.register(worker);
                st.workers.insert(
                    worker,
                    WorkerEntry {
                        channel,
                        mode,
                        exited_after_disconnect: false,
                        reported_unresponsive: false,
                        counters,
                    },
                )
            }
            Err(e) => self.sink.emit(Event::Closed {
                worker,
                error: Some(format!("cannot serve the IPC channel: {e}")),
            }),
        }
    }

    /// A listener of the primary's accepted a connection.
    fn on_connection(&self, key: &Rc<str>, conn: OwnedFd) {
        let mut st = self.state.borrow_mut();
        let Some(Handle::Accept(h)) = st.handles.get_mut(key) else {
            return;
        };
        let mut conn = Accepted::new(conn);
        if h.sched.needs_client_ip() {
            conn.client = server::peer_ip(&conn.fd);
        }
        h.sched.push(conn, None);
        st.pump(key);
    }

    fn query_server(self: &Rc<Self>, worker: u32, msg: &Value) {
        let mut st = self.state.borrow_mut();
        let Some(entry) = st.workers.get(worker) else {
            return;
        };
        // Stop processing if the worker is already disconnecting.
        if entry.exited_after_disconnect {
            return;
        }
        if st.counting_wanted() {
            st.ask_to_count(worker);
        }
        let ack = msg.get("seq").cloned().unwrap_or(Value::Undefined);
        let key: Rc<str> = protocol::server_key(msg).into();
        let data = msg.get("data").cloned().unwrap_or(Value::Undefined);

        if !st.handles.contains_key(&key) {
            let Some(query) = Query::from_message(msg) else {
                let errno = -(nix::errno::Errno::EINVAL as i32);
                st.reply_query(worker, errno_value(errno), &key, ack, data, None);
                return;
            };
            let path = (query.kind == Kind::Pipe)
                .then(|| unix_path(query.address.as_deref().unwrap_or("")));
            let handle = match accept_scheduler(st.policy, &query) {
                Some(sched) => {
                    let accepting = server::listen_round_robin(&query, path)
                        .and_then(|bound| self.accept_handle(key.clone(), &query, bound, sched));
                    match accepting {
                        Ok(h) => Handle::Accept(h),
                        // The handle is not kept: other workers get to retry.
                        Err(errno) => {
                            return st.reply_query(
                                worker,
                                errno_value(errno),
                                &key,
                                ack,
                                data,
                                None,
                            )
                        }
                    }
                }
                None if st.policy == Policy::ReusePort && ReusePortGroup::applies_to(&query) => {
                    Handle::ReusePort(ReusePortHandle {
                        group: ReusePortGroup::new(query.clone()),
                        handoff: RoundRobin::default(),
                        data: Value::Undefined,
                    })
                }
                None => Handle::Shared(shared_handle(&query, path)),
            };
            st.handles.insert(key.clone(), handle);
        }

        let Some(handle) = st.handles.get_mut(&key) else {
            return;
        };
        if !protocol::truthy(handle.data_mut()) {
            *handle.data_mut() = data;
        }
        match handle {
            Handle::Accept(h) => {
                h.sched.add(worker);
                let data = h.data.clone();
                let extra = h.sockname.clone().map(|s| ("sockname".to_string(), s));
                st.reply_query(worker, Value::Null, &key, ack, data, extra);
                st.ready(&key, worker);
            }
            Handle::ReusePort(h) => {
                let data = h.data.clone();
                match h.group.socket_for(worker) {
                    Ok(fd) => {
                        h.handoff.add(worker);
                        st.reply_shared(worker, "net.Native", &key, ack, data, fd);
                        st.ready(&key, worker);
                    }
                    Err(errno) => {
                        if h.handoff.workers().is_empty() {
                            st.handles.remove(&key);
                        }
                        st.reply_query(worker, errno_value(errno), &key, ack, data, None);
                    }
                }
            }
            Handle::Shared(h) => {
                if !h.workers.contains(&worker) {
                    h.workers.push(worker);
                }
                let data = h.data.clone();
                let errno = h.errno;
                let native_type = h.native_type;
                let fd = h.socket.as_ref().and_then(|b| b.fd.try_clone().ok());
                match fd {
                    Some(fd) if errno == 0 => {
                        st.reply_shared(worker, native_type, &key, ack, data, fd);
                    }
                    _ => {
                        st.handles.remove(&key);
                        let errno = if errno != 0 {
                            errno
                        } else {
                            -(nix::errno::Errno::EBADF as i32)
                        };
                        st.reply_query(worker, errno_value(errno), &key, ack, data, None);
                    }
                }
            }
        }
    }

    fn accept_handle(
        self: &Rc<Self>,
        key: Rc<str>,
        query: &Query,
        bound: Bound,
        sched: Box<dyn Scheduler<Accepted>>,
    ) -> Result<AcceptHandle, i32> {
        let sockname = if query.kind == Kind::Pipe {
            None
        } else {
            server::sockname(&bound.fd)
        };
        let listener = Rc::new(
            crate::channel::fdpass::register(bound)
                .map_err(|e| -(e.raw_os_error().unwrap_or(nix::libc::EIO)))?,
        );
        let accept = tokio::task::spawn_local(accept_loop(self.me.clone(), key, listener.clone()));
        Ok(AcceptHandle {
            sched,
            sockname,
            data: Value::Undefined,
            accept,
            listener,
        })
    }

    /// A lifecycle or supervisor message for JS (`online`, `listening`...),
    /// counted in the worker's backlog like any other.
    fn internal_to_js(&self, worker: u32, raw: Vec<u8>) {
        let (credit, text) = match self.state.borrow().workers.get(worker) {
            Some(entry) => (entry.channel.credit(raw.len()), entry.mode == Mode::Json),
            None => (Arc::new(Backlog::default()).credit(raw.len()), true),
        };
        self.message(
            worker,
            JsFrame {
                raw,
                fd: None,
                internal: true,
                text,
                credit,
            },
        );
    }

    fn settle_newconn(&self, seq: u64, accepted: bool) -> bool {
        let mut st = self.state.borrow_mut();
        let Some(flight) = st.in_flight.remove(&seq) else {
            return false;
        };
        if accepted {
            if let Some(entry) = st.workers.get(flight.worker) {
                entry.counters.add_handed();
            }
        } else if let Some(sched) = st.handles.get_mut(&flight.key).and_then(Handle::scheduler) {
            // The worker is shutting down (or full): another one takes it.
            sched.push(flight.conn, Some(flight.worker));
        }
        st.ready(&flight.key, flight.worker);
        true
    }
}

impl State {
    fn next_seq(&mut self) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        seq
    }

    fn send_value(&mut self, worker: u32, msg: &Value, fd: Option<Arc<OwnedFd>>) {
        let Some(entry) = self.workers.get(worker) else {
            return;
        };
        let bytes = protocol::encode(entry.mode, msg);
        let _ = entry.channel.send(Outgoing {
            bytes,
            fd,
            ticket: None,
            accounted: 0,
            report_settled: false,
        });
    }

    /// Whether workers' agents should report closed connections.
    fn counting_wanted(&self) -> bool {
        self.track_connections || self.policy == Policy::LeastConn
    }

    /// Ask the worker's agent (if it has one) to report closed connections,
    /// unless it already does. Workers without the agent ignore the message,
    /// as Node's cluster code ignores internal messages that are not
    /// `NODE_CLUSTER`; one that loads it late is asked again when it listens.
    fn ask_to_count(&mut self, worker: u32) {
        match self.workers.get(worker) {
            Some(entry) if !entry.counters.is_reporting() => {}
            _ => return,
        }
        self.send_value(worker, &protocol::agent_message("countConnections"), None);
    }

    fn send_cluster(&mut self, worker: u32, fields: Vec<(String, Value)>) {
        let seq = self.next_seq();
        self.send_value(worker, &protocol::cluster_message(fields, seq), None);
    }

    fn reply_query(
        &mut self,
        worker: u32,
        errno: Value,
        key: &str,
        ack: Value,
        data: Value,
        extra: Option<(String, Value)>,
    ) {
        let fields = query_reply_fields(errno, key, ack, data, extra);
        self.send_cluster(worker, fields);
    }

    /// A `queryServer` reply that carries the socket to listen on.
    fn reply_shared(
        &mut self,
        worker: u32,
        native_type: &str,
        key: &str,
        ack: Value,
        data: Value,
        fd: OwnedFd,
    ) {
        let seq = self.next_seq();
        let reply =
            protocol::cluster_message(query_reply_fields(number(0), key, ack, data, None), seq);
        let msg = protocol::handle_message(native_type, reply);
        self.send_value(worker, &msg, Some(Arc::new(fd)));
    }

    /// `worker` has nothing in flight for `key` any more
    /// (`RoundRobinHandle.prototype.handoff`).
    fn ready(&mut self, key: &Rc<str>, worker: u32) {
        if let Some(sched) = self.handles.get_mut(key).and_then(Handle::scheduler) {
            sched.ready(worker);
        }
        self.pump(key);
    }

    /// Hand out every connection of `key` that can go now.
    fn pump(&mut self, key: &Rc<str>) {
        while let Some((worker, conn)) = self.next_handoff(key) {
            self.send_newconn(key, worker, conn);
        }
    }

    /// The handle's scheduler's next (worker, connection), if any.
    fn next_handoff(&mut self, key: &Rc<str>) -> Option<(u32, Accepted)> {
        let sched = self.handles.get_mut(key).and_then(Handle::scheduler)?;
        let workers = &self.workers;
        let loads = |w: u32| workers.get(w).and_then(|e| e.counters.open());
        sched.next(&loads)
    }

    fn send_newconn(&mut self, key: &Rc<str>, worker: u32, conn: Accepted) {
        let seq = self.next_seq();
        let Some(entry) = self.workers.get(worker) else {
            // The worker vanished without its channel closing first: drop it
            // from the handle and give the connection to someone else.
            if let Some(sched) = self.handles.get_mut(key).and_then(Handle::scheduler) {
                sched.remove(worker);
                sched.push(conn, None);
            }
            self.pump(key);
            return;
        };
        let bytes = protocol::newconn_frame(entry.mode, key, seq);
        let _ = entry.channel.send(Outgoing {
            bytes,
            fd: Some(conn.fd.clone()),
            ticket: None,
            accounted: 0,
            report_settled: false,
        });
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

    /// `worker` is being disconnected. Where it is the last worker of a
    /// handle the primary accepts on, the handle is about to close: instead
    /// of resetting the connections it still holds (and those in the
    /// kernel's accept queue), hand them all to this worker ahead of its
    /// `disconnect` message. Its server is still open when it reads them,
    /// so it accepts them and answers them before it exits.
    fn hand_over_leftovers(&mut self, worker: u32) {
        let mut handoffs = Vec::new();
        for (key, handle) in self.handles.iter_mut() {
            let Handle::Accept(h) = handle else {
                continue;
            };
            if h.sched.workers() != [worker] {
                continue;
            }
            handoffs.extend(h.sched.drain().into_iter().map(|conn| (key.clone(), conn)));
            while let Ok(conn) = accept(h.listener.get_ref()) {
                handoffs.push((key.clone(), Accepted::new(conn)));
            }
        }
        for (key, conn) in handoffs {
            self.send_newconn(&key, worker, conn);
        }
    }

    /// Workers holding a handed connection for longer than `timeout`, each
    /// reported once.
    fn stuck_workers(&mut self, timeout: Duration) -> Vec<u32> {
        let mut stuck: Vec<u32> = self
            .in_flight
            .values()
            .filter(|f| f.sent.elapsed() > timeout)
            .map(|f| f.worker)
            .collect();
        stuck.sort_unstable();
        stuck.dedup();
        stuck.retain(|&w| match self.workers.get_mut(w) {
            // A worker whose reader waits for JS may have answered already.
            Some(entry) if !entry.reported_unresponsive && !entry.channel.is_backlogged() => {
                entry.reported_unresponsive = true;
                true
            }
            _ => false,
        });
        stuck
    }

    /// `removeHandlesForWorker`: the worker is gone.
    fn remove_worker_from_handles(&mut self, worker: u32) {
        self.leave_handles(worker, Handle::remove);
    }

    /// `removeHandlesForWorker` on `worker.disconnect()`: the worker is
    /// still running and closes its servers when it reads `disconnect`.
    fn retire_worker_from_handles(&mut self, worker: u32) {
        self.leave_handles(worker, Handle::retire);
    }

    fn leave_handles(&mut self, worker: u32, leave: fn(&mut Handle, u32) -> bool) {
        let keys: Vec<Rc<str>> = self.handles.keys().cloned().collect();
        for key in keys {
            self.leave_handle(&key, worker, leave);
        }
    }

    /// `worker` leaves the handle `key`: it closes when nobody is left, else
    /// the connections the worker left behind go to the others.
    fn leave_handle(&mut self, key: &Rc<str>, worker: u32, leave: fn(&mut Handle, u32) -> bool) {
        let Some(handle) = self.handles.get_mut(key) else {
            return;
        };
        if leave(handle, worker) {
            self.handles.remove(key);
        } else {
            self.pump(key);
        }
    }

    /// The worker can no longer answer: connections it was handed but never
    /// accepted go to other workers.
    fn reclaim_in_flight(&mut self, worker: u32) {
        let seqs: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.worker == worker)
            .map(|(seq, _)| *seq)
            .collect();
        let mut keys = Vec::new();
        for seq in seqs {
            let Some(flight) = self.in_flight.remove(&seq) else {
                continue;
            };
            if let Some(sched) = self
                .handles
                .get_mut(&flight.key)
                .and_then(Handle::scheduler)
            {
                sched.push(flight.conn, Some(worker));
                keys.push(flight.key);
            }
        }
        for key in keys {
            self.pump(&key);
        }
    }
}

/// The scheduler of a socket the primary accepts on, or `None` when the
/// workers listen themselves: UDP (connectionless), `SCHED_NONE`,
/// `SCHED_REUSEPORT`.
fn accept_scheduler(policy: Policy, query: &Query) -> Option<Box<dyn Scheduler<Accepted>>> {
    if query.is_udp() {
        return None;
    }
    match policy {
        Policy::RoundRobin => Some(Box::new(RoundRobin::default())),
        Policy::LeastConn => Some(Box::new(LeastConn::default())),
        Policy::Sticky => Some(Box::new(Sticky::default())),
        Policy::None | Policy::ReusePort => None,
    }
}

fn errno_value(errno: i32) -> Value {
    number(errno)
}

/// `{ errno, key, ack, data, ...reply }`.
fn query_reply_fields(
    errno: Value,
    key: &str,
    ack: Value,
    data: Value,
    extra: Option<(String, Value)>,
) -> Vec<(String, Value)> {
    let mut fields = vec![
        ("errno".to_string(), errno),
        ("key".to_string(), string(key)),
        ("ack".to_string(), ack),
        ("data".to_string(), data),
    ];
    fields.extend(extra);
    fields
}

fn shared_handle(query: &Query, path: Option<PathBuf>) -> SharedHandle {
    let native_type = if query.is_udp() {
        "dgram.Native"
    } else {
        "net.Native"
    };
    let (socket, errno) = match server::bind_shared(query, path) {
        Ok(bound) => (Some(bound), 0),
        Err(errno) => (None, errno),
    };
    SharedHandle {
        workers: Vec::new(),
        socket,
        errno,
        native_type,
        data: Value::Undefined,
    }
}

/// Node binds Unix sockets by the shorter of the absolute path and the path
/// relative to the primary's cwd, because of the ~100 byte limit.
fn unix_path(address: &str) -> PathBuf {
    let absolute = PathBuf::from(address);
    let Ok(cwd) = std::env::current_dir() else {
        return absolute;
    };
    let relative = relative_path(&cwd, &absolute);
    if address.len() < relative.as_os_str().len() {
        absolute
    } else {
        relative
    }
}

/// `path.relative(from, to)` for absolute, normalized paths.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part);
    }
    out
}

async fn accept_loop(engine: Weak<Engine>, key: Rc<str>, listener: Rc<AsyncFd<Bound>>) {
    loop {
        let Ok(mut guard) = listener.readable().await else {
            return;
        };
        loop {
            match accept(listener.get_ref()) {
                Ok(conn) => match engine.upgrade() {
                    Some(engine) => engine.on_connection(&key, conn),
                    None => return,
                },
                Err(nix::errno::Errno::EAGAIN) => {
                    guard.clear_ready();
                    break;
                }
                Err(nix::errno::Errno::EMFILE | nix::errno::Errno::ENFILE) => {
                    // Out of descriptors: back off instead of spinning.
                    drop(guard);
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    break;
                }
                // The client gave up before we got to it, or similar: skip.
                Err(_) => continue,
            }
        }
    }
}

fn accept(listener: &Bound) -> Result<OwnedFd, nix::errno::Errno> {
    use nix::sys::socket::{accept4, SockFlag};
    use std::os::fd::{AsRawFd, FromRawFd};
    let raw = accept4(listener.fd.as_raw_fd(), SockFlag::SOCK_CLOEXEC)?;
    // SAFETY: accept4 just created `raw`; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

impl ChannelEvents for Engine {
    fn newconn_reply(&self, worker: u32, ack: u64, accepted: bool, raw: Vec<u8>) {
        if !self.settle_newconn(ack, accepted) {
            // Not one of ours after all: the general path decides.
            if let Some(msg) = protocol::decode(crate::channel::framing::Mode::Json, &raw) {
                self.cluster_message(worker, msg, raw);
            }
        }
    }

    fn cluster_message(&self, worker: u32, msg: Value, raw: Vec<u8>) {
        // Replies to our own messages first, as `internal()` in utils.js does.
        if let Some(ack) = msg.get("ack").and_then(Value::as_f64) {
            let accepted = msg.get("accepted").map(protocol::truthy).unwrap_or(false);
            if ack >= 0.0 && self.settle_newconn(ack as u64, accepted) {
                return;
            }
        }
        match msg.get("act").and_then(Value::as_str) {
            Some("queryServer") => {
                if let Some(me) = self.me.upgrade() {
                    me.query_server(worker, &msg);
                }
            }
            Some("close") => {
                let key: Rc<str> = msg
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into();
                self.state
                    .borrow_mut()
                    .leave_handle(&key, worker, Handle::remove);
            }
            Some("online") => {
                {
                    let mut st = self.state.borrow_mut();
                    if st.counting_wanted() {
                        st.ask_to_count(worker);
                    }
                }
                self.internal_to_js(worker, raw);
            }
            Some("exitedAfterDisconnect") => {
                {
                    let mut st = self.state.borrow_mut();
                    if let Some(entry) = st.workers.get_mut(worker) {
                        entry.exited_after_disconnect = true;
                    }
                    let ack = msg.get("seq").cloned().unwrap_or(Value::Undefined);
                    st.send_cluster(worker, vec![("ack".into(), ack)]);
                }
                self.internal_to_js(worker, raw);
            }
            _ => self.internal_to_js(worker, raw),
        }
    }

    fn agent_message(&self, worker: u32, msg: Value, raw: Vec<u8>) {
        if msg.get("act").and_then(Value::as_str) != Some("conns") {
            // The supervisor's (lib/supervisor/): heartbeat answers.
            self.internal_to_js(worker, raw);
            return;
        }
        let Some(closed) = msg.get("closed").and_then(Value::as_f64) else {
            return;
        };
        if !(closed >= 0.0 && closed.is_finite()) {
            return;
        }
        let st = self.state.borrow();
        if let Some(entry) = st.workers.get(worker) {
            entry.counters.report_closed(closed as u64);
        }
    }

    fn read_done(&self, worker: u32) {
        if self.message_in_read.replace(false) {
            self.sink.emit(Event::ReadEnd { worker });
        }
    }

    fn message(&self, worker: u32, frame: JsFrame) {
        self.message_in_read.set(true);
        self.sink.emit(Event::Message { worker, frame });
    }

    fn handle_settled(&self, worker: u32) {
        self.sink.emit(Event::HandleSettled { worker });
    }

    fn write_failed(&self, worker: u32, ticket: u32, errno: i32) {
        self.sink.emit(Event::WriteFailed {
            worker,
            ticket,
            errno,
        });
    }

    fn closed(&self, worker: u32, error: Option<String>) {
        {
            let mut st = self.state.borrow_mut();
            st.remove_worker_from_handles(worker);
            st.reclaim_in_flight(worker);
            st.workers.remove(worker);
            st.stats.remove(worker);
        }
        self.sink.emit(Event::Closed { worker, error });
    }
}
