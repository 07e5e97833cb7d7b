//! How connections reach workers. A listening socket is filed under its
//! server key as one of:
//! - round robin: the primary accepts and hands each connection to a worker,
//!   one in flight per worker (`round_robin.rs`);
//! - shared: every worker gets a copy of the socket and the kernel balances
//!   (`SCHED_NONE`, and UDP always).

pub mod round_robin;

/// `cluster.SCHED_NONE` / `cluster.SCHED_RR`, with Node's numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    None = 1,
    RoundRobin = 2,
    /// `SCHED_REUSEPORT`: a SO_REUSEPORT socket per worker (`reuseport.rs`).
    ReusePort = 3,
    /// `SCHED_LEASTCONN`: the primary accepts; fewest open first (`least_conn.rs`).
    LeastConn = 4,
    /// `SCHED_STICKY`: the primary accepts; by client IP (`sticky.rs`).
    Sticky = 5,
}

impl Policy {
    pub fn from_number(n: u32) -> Option<Policy> {
        match n {
            1 => Some(Policy::None),
            2 => Some(Policy::RoundRobin),
            3 => Some(Policy::ReusePort),
            4 => Some(Policy::LeastConn),
            5 => Some(Policy::Sticky),
            _ => None,
        }
    }
}
