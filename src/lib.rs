//! rust-cluster: the cluster primary in Rust. This file is the N-API
//! surface only: a `Primary` object that JS drives with commands, and one
//! callback through which the engine reports events, in order.

pub mod channel;
pub mod primary;
pub mod protocol;
pub mod registry;
pub mod scheduler;
pub mod server;
pub mod stats;

use std::collections::HashMap;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Buffer, Either, Function, Int32Array};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use tokio::sync::mpsc;

use channel::framing::Mode;
use channel::gate::{Sent, WriteGate};
use channel::JsFrame;
use primary::{Command, Event, EventSink};
use scheduler::Policy;
use stats::ConnectionStats;

/// Numbers per event in `EventBatch::meta`.
const META_PER_EVENT: usize = 6;

/// `EventBatch::meta[0]` of each event.
#[repr(i32)]
enum EventKind {
    Message = 0,
    WriteFailed = 1,
    Closed = 2,
    Unresponsive = 3,
    HandleSettled = 4,
}

/// Bits of `EventBatch::meta[2]`.
const FLAG_INTERNAL: i32 = 1;
/// The last event of one read of a channel: JS lets the microtasks run
/// before the events after it, as Node does between reads.
const FLAG_READ_END: i32 = 2;

/// Engine events as JS receives them: numbers in one typed array and the
/// bodies beside them, which costs far fewer N-API calls than an object per
/// event (this is on the path of every message a worker sends).
#[napi(object)]
pub struct EventBatch {
    /// Per event: kind (`EventKind`), worker id, flags, descriptor that
    /// came with a message (JS now owns it; -1 for none), ticket and errno
    /// of a failed write (else 0).
    pub meta: Int32Array,
    /// Per event: a message's body (a json line as a string; V8 bytes, or
    /// a json line that is not valid UTF-8, as a Buffer), or the reason a
    /// channel closed when the worker broke the protocol or I/O failed.
    pub bodies: Vec<Option<Either<String, Buffer>>>,
}

struct BatchBuilder {
    meta: Vec<i32>,
    bodies: Vec<Option<Either<String, Buffer>>>,
}

impl BatchBuilder {
    fn push(&mut self, event: Event) {
        let row = |kind: EventKind, worker: u32, flags: i32, fd: i32, ticket: u32, errno: i32| {
            // Worker ids and tickets are counters JS hands out from 1 up.
            [kind as i32, worker as i32, flags, fd, ticket as i32, errno]
        };
        let (row, body) = match event {
            Event::Message { worker, frame } => {
                let JsFrame {
                    raw,
                    fd,
                    internal,
                    text,
                    credit,
                } = frame;
                // JS has the message now: it no longer holds the reader back.
                drop(credit);
                let body = match text {
                    true => match String::from_utf8(raw) {
                        Ok(text) => Either::A(text),
                        Err(e) => Either::B(e.into_bytes().into()),
                    },
                    false => Either::B(raw.into()),
                };
                let fd = fd.map_or(-1, IntoRawFd::into_raw_fd);
                let flags = if internal { FLAG_INTERNAL } else { 0 };
                (row(EventKind::Message, worker, flags, fd, 0, 0), Some(body))
            }
            Event::WriteFailed {
                worker,
                ticket,
                errno,
            } => (
                row(EventKind::WriteFailed, worker, 0, -1, ticket, errno),
                None,
            ),
            Event::Closed { worker, error } => (
                row(EventKind::Closed, worker, 0, -1, 0, 0),
                error.map(Either::A),
            ),
            Event::Unresponsive { worker } => {
                (row(EventKind::Unresponsive, worker, 0, -1, 0, 0), None)
            }
            Event::HandleSettled { worker } => {
                (row(EventKind::HandleSettled, worker, 0, -1, 0, 0), None)
            }
            Event::ReadEnd { .. } => {
                // Marks the event before it; one with nothing before it in
                // this batch is already separated by the batch boundary.
                if let Some(last) = self.meta.len().checked_sub(META_PER_EVENT) {
                    self.meta[last + 2] |= FLAG_READ_END;
                }
                return;
            }
        };
        self.meta.extend_from_slice(&row);
        self.bodies.push(body);
    }
}

/// One worker's row in `connectionStats()`.
#[napi(object)]
pub struct WorkerConnections {
    /// The worker's id (`worker.id`).
    pub id: u32,
    /// Connections the primary handed to the worker (and it accepted).
    pub handed: i64,
    /// Handed connections the worker has not closed yet; null when the
    /// worker does not report closes (it never loaded rust-cluster, or
    /// nobody asked: see `trackConnections`).
    pub open: Option<i64>,
}

/// Wakes JS to collect events: called with no value.
type WakeCallback = ThreadsafeFunction<(), (), (), Status, false, true>;

/// Events wait here for JS, which takes them all at once (`takeEvents`).
type EventQueue = Arc<Mutex<Vec<Event>>>;

#[derive(Clone)]
struct JsSink {
    queue: EventQueue,
    wake: Arc<WakeCallback>,
}

impl EventSink for JsSink {
    fn emit(&self, event: Event) {
        let first = match self.queue.lock() {
            Ok(mut queue) => {
                queue.push(event);
                queue.len() == 1
            }
            Err(_) => return,
        };
        // One wake-up per batch: events that arrive before JS takes the
        // queue ride along. If JS is gone they are dropped, and with them
        // any descriptor.
        if first {
            let _ = self.wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// Each worker's write side, by worker id; shared with the I/O thread's
/// last words (`abandon_channels`).
type Gates = Arc<Mutex<HashMap<u32, Arc<WriteGate>>>>;

/// The I/O thread stopped on a panic (a bug of ours): nothing serves the
/// channels any more. Shut each one, so its worker sees the end and exits,
/// and tell JS, which reports every worker disconnected with `why`.
fn abandon_channels(gates: &Gates, sink: &JsSink, why: &str) {
    let abandoned: Vec<u32> = match gates.lock() {
        Ok(gates) => gates
            .iter()
            .map(|(&worker, gate)| {
                gate.shut_down();
                worker
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    for worker in abandoned {
        sink.emit(Event::Closed {
            worker,
            error: Some(format!("rust-cluster: the I/O thread stopped: {why}")),
        });
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "panic"
    }
}

/// Bytes of user messages queued per worker, for `send()`'s return value.
const BACKPRESSURE_BYTES: usize = 65536 * 2;

#[napi]
pub struct Primary {
    commands: mpsc::UnboundedSender<Command>,
    /// Each worker's write side, for sends straight from the JS thread.
    gates: Gates,
    events: EventQueue,
    callback: Arc<WakeCallback>,
    referenced: bool,
    stats: ConnectionStats,
}

fn closed_error() -> Error {
    Error::new(
        Status::GenericFailure,
        "rust-cluster: the I/O thread has stopped",
    )
}

// Every method is `catch_unwind`: a panic in a call from JS comes back as a
// JS exception instead of unwinding into Node (which would abort it).
#[napi]
impl Primary {
    /// Start the I/O thread. `onEvents` is called when events are waiting;
    /// it collects them, in order, with `takeEvents()`.
    #[napi(constructor, catch_unwind)]
    pub fn new(on_events: Function<'_, (), ()>) -> Result<Self> {
        let callback = Arc::new(
            on_events
                .build_threadsafe_function::<()>()
                .callee_handled::<false>()
                .weak::<true>()
                .build_callback(|_| Ok(()))?,
        );
        let (commands, receiver) = mpsc::unbounded_channel();
        let events: EventQueue = Arc::new(Mutex::new(Vec::new()));
        let sink = JsSink {
            queue: events.clone(),
            wake: callback.clone(),
        };
        let stats = ConnectionStats::default();
        let engine_stats = stats.clone();
        let gates: Gates = Arc::default();
        let last_words = {
            let (gates, sink) = (gates.clone(), sink.clone());
            move |why: &str| abandon_channels(&gates, &sink, why)
        };
        std::thread::Builder::new()
            .name("rust-cluster-io".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => return eprintln!("rust-cluster: cannot start the I/O runtime: {e}"),
                };
                let local = tokio::task::LocalSet::new();
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    local.block_on(
                        &runtime,
                        primary::run(receiver, Box::new(sink), engine_stats),
                    )
                }));
                if let Err(payload) = ran {
                    last_words(panic_message(&*payload));
                }
            })
            .map_err(|e| {
                Error::from_reason(format!("rust-cluster: cannot start the I/O thread: {e}"))
            })?;
        Ok(Primary {
            commands,
            gates,
            events,
            callback,
            referenced: false,
            stats,
        })
    }

    /// Every event waiting, oldest first.
    #[napi(catch_unwind)]
    pub fn take_events(&self) -> EventBatch {
        let taken = match self.events.lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(_) => Vec::new(),
        };
        let mut batch = BatchBuilder {
            meta: Vec::with_capacity(taken.len() * META_PER_EVENT),
            bodies: Vec::with_capacity(taken.len()),
        };
        for event in taken {
            batch.push(event);
        }
        EventBatch {
            meta: Int32Array::new(batch.meta),
            bodies: batch.bodies,
        }
    }

    fn command(&self, command: Command) -> Result<()> {
        self.commands.send(command).map_err(|_| closed_error())
    }

    /// Create a worker's channel. Returns the child's end, for the spawn
    /// stdio array (the caller closes it once the child is spawned), or
    /// -errno when the socket pair cannot be made (EMFILE: the descriptor
    /// table is full), which JS reports as Node reports a failed spawn.
    #[napi(catch_unwind)]
    pub fn open_channel(&self, worker: u32, advanced: bool, max_message_bytes: u32) -> Result<i32> {
        let pair = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        );
        let (ours, theirs) = match pair {
            Ok(pair) => pair,
            Err(errno) => return Ok(-(errno as i32)),
        };
        if let Err(errno) = nix::fcntl::fcntl(
            &ours,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        ) {
            return Ok(-(errno as i32));
        }
        let ours = Arc::new(ours);
        let (gate, queue) = WriteGate::new(ours.clone());
        if let Ok(mut gates) = self.gates.lock() {
            gates.insert(worker, gate.clone());
        }
        self.command(Command::Open {
            worker,
            sock: ours,
            mode: Mode::from_advanced(advanced),
            max_message: max_message_bytes as usize,
            gate,
            queue,
        })?;
        Ok(theirs.into_raw_fd())
    }

    fn gate(&self, worker: u32) -> Option<Arc<WriteGate>> {
        self.gates.lock().ok()?.get(&worker).cloned()
    }

    /// Send an already framed message, and a descriptor to pass (duplicated
    /// here, so the caller may close its own). Like Node's channel, a small
    /// message on an idle channel is written before this returns. Returns 1
    /// when the worker keeps up, 0 when it is far behind (`send()` returns
    /// false), or a negative errno when the channel is gone.
    #[napi(catch_unwind)]
    pub fn send(
        &self,
        worker: u32,
        frame: &[u8],
        fd: Option<i32>,
        ticket: Option<u32>,
    ) -> Result<i32> {
        let fd = fd.map(duplicate).transpose()?;
        let Some(gate) = self.gate(worker) else {
            return Ok(-nix::libc::EPIPE);
        };
        Ok(match gate.send(frame, fd.map(Arc::new), ticket) {
            Ok(Sent::Now) => 1,
            Ok(Sent::Queued { queued_bytes }) => i32::from(queued_bytes < BACKPRESSURE_BYTES),
            Err(errno) => -(errno as i32),
        })
    }

    /// `worker.disconnect()`: tell the worker, and stop giving it connections.
    #[napi(catch_unwind)]
    pub fn disconnect_worker(&self, worker: u32) -> Result<()> {
        self.command(Command::Disconnect { worker })
    }

    /// `worker.process.disconnect()`: close the channel once flushed.
    #[napi(catch_unwind)]
    pub fn close_channel(&self, worker: u32) -> Result<()> {
        self.command(Command::CloseChannel { worker })
    }

    /// JS is done with a worker's channel (it has closed).
    #[napi(catch_unwind)]
    pub fn release_channel(&self, worker: u32) {
        if let Ok(mut gates) = self.gates.lock() {
            gates.remove(&worker);
        }
    }

    /// The worker's process exited.
    #[napi(catch_unwind)]
    pub fn worker_exited(&self, worker: u32) -> Result<()> {
        self.command(Command::Exited { worker })
    }

    /// `cluster.SCHED_NONE` (1), `SCHED_RR` (2), `SCHED_REUSEPORT` (3),
    /// `SCHED_LEASTCONN` (4) or `SCHED_STICKY` (5).
    #[napi(catch_unwind)]
    pub fn set_scheduling_policy(&self, policy: u32) -> Result<()> {
        let policy = Policy::from_number(policy).ok_or_else(|| {
            Error::new(
                Status::InvalidArg,
                format!("Bad cluster.schedulingPolicy: {policy}"),
            )
        })?;
        self.command(Command::SetPolicy(policy))
    }

    /// Per-worker connection counters of every worker whose channel is
    /// open, by id. Cheap: no call into the I/O thread.
    #[napi(catch_unwind)]
    pub fn connection_stats(&self) -> Vec<WorkerConnections> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.stats
            .snapshot()
            .into_iter()
            .map(|s| WorkerConnections {
                id: s.worker,
                handed: count(s.handed),
                open: s.open.map(count),
            })
            .collect()
    }

    /// Ask every worker (now and later) that loaded rust-cluster to report
    /// the connections it closes, so `connectionStats()` has `open` counts.
    /// `SCHED_LEASTCONN` does this by itself.
    #[napi(catch_unwind)]
    pub fn track_connections(&self) -> Result<()> {
        self.command(Command::TrackConnections)
    }

    /// How `listen({ path, readableAll, writableAll })` sets the socket
    /// file's mode: to just those bits (`true`, libuv 1.51+), or adding
    /// them to the mode bind left (`false`, older libuv).
    #[napi(catch_unwind)]
    pub fn set_pipe_chmod_exact(&self, exact: bool) {
        server::set_pipe_chmod_exact(exact);
    }

    /// How long a worker may sit on a handed connection before it is
    /// reported unresponsive; 0 waits forever, as node:cluster does.
    #[napi(catch_unwind)]
    pub fn set_handoff_timeout(&self, millis: u32) -> Result<()> {
        let timeout = (millis > 0).then(|| std::time::Duration::from_millis(u64::from(millis)));
        self.command(Command::SetHandoffTimeout(timeout))
    }

    /// Keep the event loop alive while channels are open (`true`), or not.
    #[napi(catch_unwind)]
    pub fn keep_alive(&mut self, env: Env, on: bool) -> Result<()> {
        if on == self.referenced {
            return Ok(());
        }
        // The I/O thread's sink shares this function, so ref/unref go
        // through the raw N-API calls rather than `&mut` methods.
        let raw = self.callback.raw();
        // SAFETY: `raw` is a live threadsafe function owned by this object;
        // ref/unref must be called on the JS thread, which `env` proves.
        let status = unsafe {
            if on {
                napi::sys::napi_ref_threadsafe_function(env.raw(), raw)
            } else {
                napi::sys::napi_unref_threadsafe_function(env.raw(), raw)
            }
        };
        if status != napi::sys::Status::napi_ok {
            return Err(Error::from_reason("cannot change the event loop reference"));
        }
        self.referenced = on;
        Ok(())
    }
}

/// Take our own close-on-exec copy of a descriptor JS passes in.
fn duplicate(fd: i32) -> Result<OwnedFd> {
    channel::fdpass::duplicate_raw(fd).map_err(|e| {
        Error::new(
            Status::InvalidArg,
            format!("cannot pass file descriptor {fd}: {e}"),
        )
    })
}
