//! Sticky sessions: connections from one client IP go to one worker, chosen
//! by rendezvous (highest random weight) hashing over the live workers of
//! the handle. A worker leaving remaps only its own clients; a worker
//! joining takes its share from every other worker.
//!
//! One connection in flight per worker: a connection whose worker is busy
//! waits in that worker's queue, and goes elsewhere only if the worker
//! leaves (or refuses it). Connections without an IP address (Unix
//! sockets) go to whichever worker is ready first.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::{enroll, may_take, unenroll, Connection, Loads, Scheduler, WorkerId};

#[derive(Debug)]
pub(crate) struct Sticky<C> {
    /// Workers listening through this handle, in the order they joined.
    all: Vec<WorkerId>,
    /// Workers with room for a connection, longest idle first.
    ready: Vec<WorkerId>,
    /// Connections waiting for the worker their client belongs to.
    queues: HashMap<WorkerId, VecDeque<C>>,
    /// Connections without a client address, for any worker.
    anywhere: VecDeque<C>,
}

impl<C> Default for Sticky<C> {
    fn default() -> Self {
        Sticky {
            all: Vec::new(),
            ready: Vec::new(),
            queues: HashMap::new(),
            anywhere: VecDeque::new(),
        }
    }
}

/// SplitMix64's finalizer: a fixed, well-mixed 64-bit hash step, so the
/// mapping is the same in every process and every run.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The weight of `worker` for `client`; the highest weight wins.
fn weight(client: IpAddr, worker: WorkerId) -> u64 {
    // An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is the
    // same client.
    let bits = match client.to_canonical() {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    };
    let client = mix(mix(bits as u64) ^ (bits >> 64) as u64);
    mix(client ^ mix(u64::from(worker)))
}

/// The worker `client` belongs to among `workers`, other than `avoid`
/// unless it is the only one.
pub(crate) fn owner(
    workers: &[WorkerId],
    client: IpAddr,
    avoid: Option<WorkerId>,
) -> Option<WorkerId> {
    let allowed = may_take(workers, avoid);
    workers
        .iter()
        .copied()
        .filter(|&w| allowed(w))
        .max_by_key(|&w| (weight(client, w), w))
}

impl<C: Connection> Scheduler<C> for Sticky<C> {
    fn add(&mut self, worker: WorkerId) {
        enroll(&mut self.all, worker);
    }

    fn remove(&mut self, worker: WorkerId) -> bool {
        if !unenroll(&mut self.all, worker) {
            return false;
        }
        self.ready.retain(|&w| w != worker);
        // Its waiting clients belong to someone else now.
        for conn in self.queues.remove(&worker).unwrap_or_default() {
            self.push(conn, None);
        }
        self.all.is_empty()
    }

    fn push(&mut self, conn: C, refused_by: Option<WorkerId>) {
        match conn
            .client_ip()
            .and_then(|ip| owner(&self.all, ip, refused_by))
        {
            Some(worker) => self.queues.entry(worker).or_default().push_back(conn),
            None => self.anywhere.push_back(conn),
        }
    }

    fn ready(&mut self, worker: WorkerId) {
        if self.all.contains(&worker) && !self.ready.contains(&worker) {
            self.ready.push(worker);
        }
    }

    fn next(&mut self, _loads: Loads<'_>) -> Option<(WorkerId, C)> {
        let own = self
            .ready
            .iter()
            .position(|w| self.queues.get(w).is_some_and(|queue| !queue.is_empty()));
        let (at, conn) = match own {
            Some(at) => {
                let conn = self.queues.get_mut(&self.ready[at])?.pop_front()?;
                (at, conn)
            }
            None if !self.ready.is_empty() => (0, self.anywhere.pop_front()?),
            None => return None,
        };
        Some((self.ready.remove(at), conn))
    }

    fn drain(&mut self) -> Vec<C> {
        let mut out: Vec<C> = self.anywhere.drain(..).collect();
        for (_, queue) in self.queues.drain() {
            out.extend(queue);
        }
        out
    }

    fn workers(&self) -> &[WorkerId] {
        &self.all
    }

    fn needs_client_ip(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::pump;
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[derive(Debug, PartialEq)]
    struct Client(IpAddr);

    impl Connection for Client {
        fn client_ip(&self) -> Option<IpAddr> {
            Some(self.0)
        }
    }

    const NO_LOADS: Loads<'static> = &|_| None;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn the_same_client_always_gets_the_same_worker() {
        let workers = [1, 2, 3];
        for n in 0..1000 {
            let first = owner(&workers, ip(n), None);
            assert_eq!(owner(&workers, ip(n), None), first);
            // The order workers joined in does not matter.
            assert_eq!(owner(&[3, 1, 2], ip(n), None), first);
        }
        let mapped = IpAddr::V6(Ipv4Addr::new(127, 0, 0, 2).to_ipv6_mapped());
        let plain = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(owner(&workers, mapped, None), owner(&workers, plain, None));
    }

    #[test]
    fn clients_spread_over_workers() {
        let workers = [1, 2, 3, 4];
        let mut counts = HashMap::new();
        for n in 0..10_000 {
            *counts.entry(owner(&workers, ip(n), None)).or_insert(0) += 1;
        }
        for w in workers {
            let share = counts.get(&Some(w)).copied().unwrap_or(0);
            assert!((2000..3000).contains(&share), "worker {w}: {share}");
        }
    }

    #[test]
    fn a_worker_leaving_remaps_only_its_own_clients() {
        let before = [1, 2, 3, 4];
        let after = [1, 2, 4];
        let mut moved = 0;
        for n in 0..10_000 {
            let was = owner(&before, ip(n), None);
            let now = owner(&after, ip(n), None);
            if was == Some(3) {
                moved += 1;
                assert_ne!(now, Some(3));
            } else {
                assert_eq!(now, was, "client {n} moved although its worker stayed");
            }
        }
        assert!(moved > 0);
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(owner(&[], v6, None), None);
    }

    #[test]
    fn a_busy_workers_clients_wait_for_it() {
        let mut s = Sticky::default();
        for w in [1, 2] {
            s.add(w);
            s.ready(w);
        }
        let a = ip(1);
        let home = owner(&[1, 2], a, None).unwrap_or(0);
        s.push(Client(a), None);
        assert_eq!(pump(&mut s, NO_LOADS), vec![(home, Client(a))]);
        // The same client again while its worker is busy: it waits.
        s.push(Client(a), None);
        assert_eq!(pump(&mut s, NO_LOADS), vec![]);
        s.ready(home);
        assert_eq!(pump(&mut s, NO_LOADS), vec![(home, Client(a))]);
        // Its worker leaves with the client waiting: it moves over.
        s.push(Client(a), None);
        assert!(!s.remove(home));
        let other = 3 - home;
        assert_eq!(pump(&mut s, NO_LOADS), vec![(other, Client(a))]);
    }

    #[test]
    fn a_refused_client_goes_to_its_next_best_worker() {
        let mut s = Sticky::default();
        for w in [1, 2] {
            s.add(w);
            s.ready(w);
        }
        let a = ip(7);
        let home = owner(&[1, 2], a, None).unwrap_or(0);
        s.push(Client(a), Some(home));
        assert_eq!(pump(&mut s, NO_LOADS), vec![(3 - home, Client(a))]);
    }

    #[test]
    fn connections_without_an_address_go_to_any_ready_worker() {
        let mut s = Sticky::default();
        for w in [1, 2] {
            s.add(w);
            s.ready(w);
        }
        s.push(5u32, None);
        s.push(6u32, None);
        s.push(7u32, None);
        assert_eq!(pump(&mut s, NO_LOADS), vec![(1, 5), (2, 6)]);
        assert!(!s.remove(1));
        assert!(s.remove(2));
        assert_eq!(s.drain(), vec![7]);
    }
}
