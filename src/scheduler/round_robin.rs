//! Round-robin bookkeeping, after Node's `round_robin_handle.js`: accepted
//! connections wait in a queue; a worker is handed one and gets the next only
//! after it answers; idle workers wait in a free list, first come first served.
//! Pure data structure: the engine does the I/O.

use std::collections::VecDeque;

pub type WorkerId = u32;

#[derive(Debug)]
pub struct RoundRobin<C> {
    /// Workers listening through this handle, in the order they joined.
    all: Vec<WorkerId>,
    /// Workers with nothing in flight, oldest first.
    free: VecDeque<WorkerId>,
    /// Accepted connections no worker has yet.
    pending: VecDeque<C>,
}

impl<C> Default for RoundRobin<C> {
    fn default() -> Self {
        RoundRobin {
            all: Vec::new(),
            free: VecDeque::new(),
            pending: VecDeque::new(),
        }
    }
}

impl<C> RoundRobin<C> {
    pub fn contains(&self, worker: WorkerId) -> bool {
        self.all.contains(&worker)
    }

    /// A worker joins; the caller then calls `handoff` for it, in case
    /// connections are already waiting.
    pub fn add(&mut self, worker: WorkerId) {
        if !self.contains(worker) {
            self.all.push(worker);
        }
    }

    /// A worker leaves. Returns true when it was the last one: the handle
    /// should then close, and `drain` gives back what still waits.
    pub fn remove(&mut self, worker: WorkerId) -> bool {
        let before = self.all.len();
        self.all.retain(|&w| w != worker);
        if self.all.len() == before {
            return false;
        }
        self.free.retain(|&w| w != worker);
        self.all.is_empty()
    }

    /// A new (or refused) connection: queue it, and if a worker is free,
    /// return who gets which connection next.
    pub fn distribute(&mut self, conn: C) -> Option<(WorkerId, C)> {
        self.pending.push_back(conn);
        let worker = self.free.pop_front()?;
        self.handoff(worker)
    }

    /// `worker` is ready for another connection: hand it the oldest waiting
    /// one, or put it on the free list.
    pub fn handoff(&mut self, worker: WorkerId) -> Option<(WorkerId, C)> {
        if !self.contains(worker) {
            return None;
        }
        match self.pending.pop_front() {
            Some(conn) => Some((worker, conn)),
            None => {
                if !self.free.contains(&worker) {
                    self.free.push_back(worker);
                }
                None
            }
        }
    }

    /// Connections still waiting, for closing when the handle goes away.
    pub fn drain(&mut self) -> Vec<C> {
        self.pending.drain(..).collect()
    }

    pub fn workers(&self) -> &[WorkerId] {
        &self.all
    }

    pub fn waiting(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_connection_in_flight_per_worker() {
        let mut rr = RoundRobin::default();
        rr.add(1);
        assert_eq!(rr.handoff(1), None); // free
        rr.add(2);
        assert_eq!(rr.handoff(2), None); // free
        assert_eq!(rr.distribute("a"), Some((1, "a")));
        assert_eq!(rr.distribute("b"), Some((2, "b")));
        assert_eq!(rr.distribute("c"), None); // both busy
        assert_eq!(rr.waiting(), 1);
        // worker 2 answers first and gets the waiting one
        assert_eq!(rr.handoff(2), Some((2, "c")));
        assert_eq!(rr.handoff(1), None);
        assert_eq!(rr.distribute("d"), Some((1, "d")));
    }

    #[test]
    fn refused_connection_goes_to_another_worker() {
        let mut rr = RoundRobin::default();
        rr.add(1);
        rr.add(2);
        rr.handoff(1);
        rr.handoff(2);
        let (w, conn) = rr.distribute("x").expect("handed");
        assert_eq!(w, 1);
        // worker 1 is closing: it refuses, leaves, and the connection is re-queued
        rr.remove(1);
        assert_eq!(rr.distribute(conn), Some((2, "x")));
        assert_eq!(rr.handoff(1), None);
    }

    #[test]
    fn last_worker_leaving_closes_and_drains() {
        let mut rr = RoundRobin::default();
        rr.add(1);
        assert_eq!(rr.distribute(10), None);
        assert!(!rr.remove(7));
        assert!(rr.remove(1));
        assert_eq!(rr.drain(), vec![10]);
    }

    #[test]
    fn round_robin_is_fair_over_many_connections() {
        let mut rr = RoundRobin::default();
        let mut counts = [0u32; 4];
        for w in 0..4 {
            rr.add(w);
            rr.handoff(w);
        }
        for c in 0..10_000u32 {
            if let Some((w, _)) = rr.distribute(c) {
                counts[w as usize] += 1;
                rr.handoff(w);
            }
        }
        assert_eq!(counts, [2500; 4]);
    }
}
