//! Least connections: the next connection goes to the worker with the
//! fewest open connections, counting those it has in flight. Ties go in
//! round-robin order. Open counts come from the workers' agents; while any
//! worker of the handle does not report, this behaves as round robin.
//!
//! A worker gets a connection only while it has room, as in round robin.
//! When the least loaded worker has none (it is still answering earlier
//! handoffs), the connection waits for it rather than going to a busier
//! worker: counting what it has in flight, that worker is still strictly
//! the least loaded, and handing to another would break the promise of the
//! policy. (A stuck worker stops being the least loaded as soon as the
//! others close connections, and `handoffTimeout` catches it otherwise.)

use std::collections::VecDeque;

use super::{enroll, may_take, Connection, Loads, Scheduler, WorkerId};

#[derive(Debug)]
pub(crate) struct LeastConn<C> {
    /// Workers listening through this handle, in the order they joined.
    all: Vec<WorkerId>,
    /// Workers with room for a connection.
    ready: Vec<WorkerId>,
    /// Accepted connections, oldest first, with the worker that refused
    /// each (if one did).
    pending: VecDeque<(C, Option<WorkerId>)>,
    /// Where the round-robin order starts: just after the last worker
    /// handed a connection.
    cursor: usize,
}

impl<C> Default for LeastConn<C> {
    fn default() -> Self {
        LeastConn {
            all: Vec::new(),
            ready: Vec::new(),
            pending: VecDeque::new(),
            cursor: 0,
        }
    }
}

impl<C> LeastConn<C> {
    /// The workers in round-robin order, starting at the cursor.
    fn rotation(&self) -> impl Iterator<Item = (usize, WorkerId)> + '_ {
        let n = self.all.len();
        (0..n).map(move |i| {
            let at = (self.cursor + i) % n;
            (at, self.all[at])
        })
    }

    /// Who should get the next connection, and whether that worker is ready
    /// for it now. `avoid` is a worker that refused this connection.
    fn choose(&self, avoid: Option<WorkerId>, loads: Loads<'_>) -> Option<(usize, WorkerId)> {
        let allowed = may_take(&self.all, avoid);
        let is_ready = |w: WorkerId| self.ready.contains(&w);
        let open: Option<Vec<u64>> = self.all.iter().map(|&w| loads(w)).collect();
        let Some(open) = open else {
            // Some worker does not report: plain round robin.
            return self.rotation().find(|&(_, w)| allowed(w) && is_ready(w));
        };
        // Fewest open (the one in flight counts), then ready before busy,
        // then round-robin order.
        let (at, worker) = self
            .rotation()
            .filter(|&(_, w)| allowed(w))
            .min_by_key(|&(at, w)| (open[at] + u64::from(!is_ready(w)), !is_ready(w)))?;
        is_ready(worker).then_some((at, worker))
    }
}

impl<C: Connection> Scheduler<C> for LeastConn<C> {
    fn add(&mut self, worker: WorkerId) {
        enroll(&mut self.all, worker);
    }

    fn remove(&mut self, worker: WorkerId) -> bool {
        let Some(at) = self.all.iter().position(|&w| w == worker) else {
            return false;
        };
        self.all.remove(at);
        self.ready.retain(|&w| w != worker);
        if at < self.cursor {
            self.cursor -= 1;
        }
        if self.cursor >= self.all.len() {
            self.cursor = 0;
        }
        self.all.is_empty()
    }

    fn push(&mut self, conn: C, refused_by: Option<WorkerId>) {
        self.pending.push_back((conn, refused_by));
    }

    fn ready(&mut self, worker: WorkerId) {
        if self.all.contains(&worker) && !self.ready.contains(&worker) {
            self.ready.push(worker);
        }
    }

    fn next(&mut self, loads: Loads<'_>) -> Option<(WorkerId, C)> {
        let &(_, avoid) = self.pending.front()?;
        let (at, worker) = self.choose(avoid, loads)?;
        let (conn, _) = self.pending.pop_front()?;
        self.ready.retain(|&w| w != worker);
        self.cursor = (at + 1) % self.all.len();
        Some((worker, conn))
    }

    fn drain(&mut self) -> Vec<C> {
        self.pending.drain(..).map(|(conn, _)| conn).collect()
    }

    fn workers(&self) -> &[WorkerId] {
        &self.all
    }
}

#[cfg(test)]
mod tests {
    use super::super::pump;
    use super::*;
    use std::collections::HashMap;

    fn with(workers: &[WorkerId]) -> LeastConn<u32> {
        let mut lc = LeastConn::default();
        for &w in workers {
            lc.add(w);
            lc.ready(w);
        }
        lc
    }

    #[test]
    fn ties_go_in_round_robin_order() {
        let mut lc = with(&[1, 2, 3]);
        let zero: Loads<'_> = &|_| Some(0);
        let mut order = Vec::new();
        for c in 0..6 {
            lc.push(c, None);
            for (w, _) in pump(&mut lc, zero) {
                order.push(w);
                lc.ready(w);
            }
        }
        assert_eq!(order, [1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn fewest_open_wins() {
        let mut lc = with(&[1, 2, 3]);
        let open = HashMap::from([(1, 5), (2, 1), (3, 3)]);
        let loads = |w| open.get(&w).copied();
        lc.push(0, None);
        assert_eq!(pump(&mut lc, &loads), vec![(2, 0)]);
    }

    #[test]
    fn the_least_loaded_busy_worker_is_waited_for() {
        let mut lc = with(&[1, 2]);
        // Worker 1 has nothing open but one in flight; worker 2 has three.
        let open = HashMap::from([(1, 0), (2, 3)]);
        let loads = |w| open.get(&w).copied();
        lc.push(0, None);
        assert_eq!(pump(&mut lc, &loads), vec![(1, 0)]);
        lc.push(1, None);
        assert_eq!(pump(&mut lc, &loads), vec![]);
        lc.ready(1);
        assert_eq!(pump(&mut lc, &loads), vec![(1, 1)]);
    }

    #[test]
    fn a_ready_worker_wins_a_tie_with_a_busy_one() {
        let mut lc = with(&[1, 2]);
        // Worker 1: 1 open + 1 in flight = 2; worker 2: 2 open, ready.
        let open = HashMap::from([(1, 1), (2, 2)]);
        let loads = |w| open.get(&w).copied();
        lc.push(0, None);
        assert_eq!(pump(&mut lc, &loads), vec![(1, 0)]);
        lc.push(1, None);
        assert_eq!(pump(&mut lc, &loads), vec![(2, 1)]);
    }

    #[test]
    fn a_refused_connection_goes_elsewhere() {
        let mut lc = with(&[1, 2]);
        let open = HashMap::from([(1, 0), (2, 9)]);
        let loads = |w| open.get(&w).copied();
        lc.push(7, Some(1));
        assert_eq!(pump(&mut lc, &loads), vec![(2, 7)]);
        // With nobody else, the refusing worker is the only choice.
        let mut alone = with(&[1]);
        alone.push(8, Some(1));
        assert_eq!(pump(&mut alone, &loads), vec![(1, 8)]);
    }

    #[test]
    fn workers_that_do_not_report_get_round_robin() {
        let mut lc = with(&[1, 2]);
        let loads = |w| (w == 1).then_some(100);
        let mut order = Vec::new();
        for c in 0..4 {
            lc.push(c, None);
            for (w, _) in pump(&mut lc, &loads) {
                order.push(w);
                lc.ready(w);
            }
        }
        assert_eq!(order, [1, 2, 1, 2]);
    }

    #[test]
    fn leaving_keeps_the_rotation_going() {
        let mut lc = with(&[1, 2, 3]);
        let zero: Loads<'_> = &|_| Some(0);
        lc.push(0, None);
        assert_eq!(pump(&mut lc, zero), vec![(1, 0)]);
        lc.ready(1);
        assert!(!lc.remove(1));
        lc.push(1, None);
        assert_eq!(pump(&mut lc, zero), vec![(2, 1)]);
        assert!(!lc.remove(2));
        assert!(lc.remove(3));
        lc.push(2, None);
        assert_eq!(pump(&mut lc, zero), vec![]);
        assert_eq!(lc.drain(), vec![2]);
    }
}
