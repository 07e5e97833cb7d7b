//! How connections reach workers. A listening socket is filed under its
//! server key as one of:
//! - accepted by the primary, which hands each connection to a worker, a
//!   few in flight per worker at most; who gets the next one is the scheduler's choice:
//!   round robin (`round_robin.rs`), fewest open connections
//!   (`least_conn.rs`) or by client address (`sticky.rs`);
//! - shared: every worker gets a copy of the socket and the kernel balances
//!   (`SCHED_NONE`, and UDP always; lib/shared_handle.js);
//! - reuseport: every worker gets its own SO_REUSEPORT socket for the
//!   address and the kernel balances between them (reuseport_handle.rs).
//!
//! Over Node's protocol a worker has one connection in flight, or a small
//! window of them while the handle is busy (round_robin_handle.rs); over a
//! connection channel (conn_channel.rs) it has a larger window. The engine
//! marks it ready again while there is room.
//!
//! Schedulers are pure data structures: the engine does the I/O.

pub(crate) mod least_conn;

pub(crate) mod round_robin;
pub(crate) mod sticky;

use std::net::IpAddr;

pub(crate) type WorkerId = u32;

/// Adds `worker` to a scheduler's roster, once.
pub(crate) fn enroll(all: &mut Vec<WorkerId>, worker: WorkerId) {
    if !all.contains(&worker) {
        all.push(worker);
    }
}

/// Takes `worker` off a roster; false when it was not on it.
pub(crate) fn unenroll(all: &mut Vec<WorkerId>, worker: WorkerId) -> bool {
    let before = all.len();
    all.retain(|&w| w != worker);
    all.len() != before
}

/// Which workers may take a connection that `avoid` refused: any other
/// worker, and `avoid` itself only when it is the only one listening.
pub(crate) fn may_take(all: &[WorkerId], avoid: Option<WorkerId>) -> impl Fn(WorkerId) -> bool {
    let others = all.iter().any(|&w| Some(w) != avoid);
    move |w| !others || Some(w) != avoid
}

/// What a scheduler may know of a connection.
pub(crate) trait Connection {
    /// The client's address, where the scheduler asked for it
    /// (`Scheduler::needs_client_ip`) and the socket has one.
    fn client_ip(&self) -> Option<IpAddr>;
}

/// Open connections of a worker, as its agent reports them; `None` when the
/// worker does not report.
pub(crate) type Loads<'a> = &'a dyn Fn(WorkerId) -> Option<u64>;

/// Who gets the connections the primary accepts for one listening socket.
/// After `next` hands a worker a connection it gets no other until `ready`
/// says it has room again (it answered, or its window is not full).
pub(crate) trait Scheduler<C: Connection> {
    /// A worker joins. It is not ready until `ready` is called.
    fn add(&mut self, worker: WorkerId);
    /// A worker leaves. Connections waiting for it stay, for the others.
    /// Returns true when it was the last one: the handle should then close,
    /// and `drain` gives back what still waits.
    fn remove(&mut self, worker: WorkerId) -> bool;
    /// A new connection, or one `refused_by` a worker (which is shutting
    /// down or at its maxConnections): it waits for `next`.
    fn push(&mut self, conn: C, refused_by: Option<WorkerId>);
    /// `worker` has room for another connection.
    fn ready(&mut self, worker: WorkerId);
    /// The next connection to hand, and to whom, if any can go now. The
    /// caller calls it until it returns `None`.
    fn next(&mut self, loads: Loads<'_>) -> Option<(WorkerId, C)>;
    /// Connections still waiting, for closing when the handle goes away.
    fn drain(&mut self) -> Vec<C>;
    /// Workers listening through this handle, in the order they joined.
    fn workers(&self) -> &[WorkerId];
    /// Whether `push` needs `Connection::client_ip` (one getpeername).
    fn needs_client_ip(&self) -> bool {
        false
    }
}

/// Test connections: a name, no address.
#[cfg(test)]
impl Connection for &'static str {
    fn client_ip(&self) -> Option<IpAddr> {
        None
    }
}

#[cfg(test)]
impl Connection for u32 {
    fn client_ip(&self) -> Option<IpAddr> {
        None
    }
}

/// Every assignment that can be made now.
#[cfg(test)]
pub(crate) fn pump<C: Connection>(
    s: &mut dyn Scheduler<C>,
    loads: Loads<'_>,
) -> Vec<(WorkerId, C)> {
    std::iter::from_fn(|| s.next(loads)).collect()
}
