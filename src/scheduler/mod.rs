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
}

impl Policy {
    pub fn from_number(n: u32) -> Option<Policy> {
        match n {
            1 => Some(Policy::None),
            2 => Some(Policy::RoundRobin),
            _ => None,
        }
    }
}
