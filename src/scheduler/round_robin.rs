//! Round robin, after Node's `round_robin_handle.js`: accepted connections
//! wait in a queue; a worker is handed one and gets the next only once it
//! has room (it answered, or its window is not full); workers with room
//! wait in a free list, first come first served.

use std::collections::VecDeque;

use super::{enroll, unenroll, Connection, Loads, Scheduler, WorkerId};

#[derive(Debug)]
pub(crate) struct RoundRobin<C> {
    /// Workers listening through this handle, in the order they joined.
    all: Vec<WorkerId>,
    /// Workers with room for a connection, oldest first.
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

impl<C: Connection> Scheduler<C> for RoundRobin<C> {
    fn add(&mut self, worker: WorkerId) {
        enroll(&mut self.all, worker);
    }

    fn remove(&mut self, worker: WorkerId) -> bool {
        if !unenroll(&mut self.all, worker) {
            return false;
        }
        self.free.retain(|&w| w != worker);
        self.all.is_empty()
    }

    fn push(&mut self, conn: C, _refused_by: Option<WorkerId>) {
        self.pending.push_back(conn);
    }

    fn ready(&mut self, worker: WorkerId) {
        if self.all.contains(&worker) && !self.free.contains(&worker) {
            self.free.push_back(worker);
        }
    }

    /// A worker that becomes ready while connections wait gets the oldest
    /// (nobody else was free, or the queue would be empty), as Node's
    /// `handoff` does; a new connection goes to the longest-idle worker.
    fn next(&mut self, _loads: Loads<'_>) -> Option<(WorkerId, C)> {
        if self.pending.is_empty() {
            return None;
        }
        let worker = self.free.pop_front()?;
        let conn = self.pending.pop_front()?;
        Some((worker, conn))
    }

    fn drain(&mut self) -> Vec<C> {
        self.pending.drain(..).collect()
    }

    fn workers(&self) -> &[WorkerId] {
        &self.all
    }
}

#[cfg(test)]
mod tests {
    use super::super::pump;
    use super::*;

    const NO_LOADS: Loads<'static> = &|_| None;

    #[test]
    fn one_connection_in_flight_per_worker() {
        let mut rr = RoundRobin::default();
        rr.add(1);
        rr.ready(1);
        rr.add(2);
        rr.ready(2);
        rr.push("a", None);
        assert_eq!(pump(&mut rr, NO_LOADS), vec![(1, "a")]);
        rr.push("b", None);
        assert_eq!(pump(&mut rr, NO_LOADS), vec![(2, "b")]);
        rr.push("c", None);
        assert_eq!(pump(&mut rr, NO_LOADS), vec![]); // both busy
                                                     // worker 2 answers first and gets the waiting one
        rr.ready(2);
        assert_eq!(pump(&mut rr, NO_LOADS), vec![(2, "c")]);
        rr.ready(1);
        assert_eq!(pump(&mut rr, NO_LOADS), vec![]);
        rr.push("d", None);
        assert_eq!(pump(&mut rr, NO_LOADS), vec![(1, "d")]);
    }

    #[test]
    fn refused_connection_goes_to_another_worker() {
        let mut rr = RoundRobin::default();
        for w in [1, 2] {
            rr.add(w);
            rr.ready(w);
        }
        rr.push("x", None);
        let [(w, conn)] = pump(&mut rr, NO_LOADS)[..] else {
            panic!("one handoff expected");
        };
        assert_eq!(w, 1);
        // worker 1 is closing: it refuses, leaves, and the connection is re-queued
        rr.remove(1);
        rr.push(conn, Some(1));
        assert_eq!(pump(&mut rr, NO_LOADS), vec![(2, "x")]);
        rr.ready(1);
        rr.push("y", None);
        assert_eq!(pump(&mut rr, NO_LOADS), vec![]);
    }

    #[test]
    fn last_worker_leaving_closes_and_drains() {
        let mut rr = RoundRobin::default();
        rr.add(1);
        rr.push(10u32, None);
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
            rr.ready(w);
        }
        for c in 0..10_000u32 {
            rr.push(c, None);
            for (w, _) in pump(&mut rr, NO_LOADS) {
                counts[w as usize] += 1;
                rr.ready(w);
            }
        }
        assert_eq!(counts, [2500; 4]);
    }
}
