//! Round robin whose workers accept for themselves.
//!
//! Where every worker of a round-robin handle loads rust-cluster (it has a
//! connection channel for the server), the primary gives each a copy of the
//! listening socket, and the workers accept on their own event loops: the
//! primary's accept, hand-over and wake-up per connection go (the
//! `SCHED_NONE` and reuseport rows of `npm run bench` show what that is
//! worth). What keeps it round robin is a page of shared memory, made by
//! the primary, with a slot per worker: how many connections it accepted,
//! and when its loop last looked at the socket. A worker takes one
//! connection per look, and none while it is more than `MARGIN` ahead of
//! the fewest among the workers that looked lately (a worker busy in its
//! own code does not hold the others back); a worker that is ahead stops
//! looking for `REST_MS`. The primary keeps the socket and takes over,
//! through its own queue, when no worker has looked for `STALL_MS`: a burst
//! while every worker is blocked waits in the primary, as under Node,
//! instead of overflowing the kernel's backlog.

use std::collections::HashMap;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering::Relaxed;

use crate::sys::SharedMemory;

/// Workers of one handle that can share it; a handle with more stays with
/// the primary's accept.
pub(crate) const SLOTS: usize = 64;
/// One slot per cache line: the accepted count, then the last look.
const SLOT_BYTES: usize = 64;
pub(crate) const SHARE_BYTES: usize = SLOTS * SLOT_BYTES;
/// How far ahead of the fewest a worker may get. Smaller made the workers
/// take turns resting: 2 workers made half the connections with 2 that
/// they made with 16 (docs/engine.md).
const MARGIN: u64 = 16;
/// Past `MARGIN`, a worker may also be this fraction ahead (1/32: about
/// 3%), so that busy workers seldom rest; max/min per worker stays near
/// 1.03 however long the load.
const SPREAD: u64 = 32;
/// At most this many connections per look. More than one saves the loop a
/// turn per connection, but a worker that takes many leaves the others
/// idle while it serves them one by one: `npm run bench`'s P1 (2 workers,
/// 32 clients) made 1.80× node:cluster's rate with 1, 1.88× with 2 and
/// 1.46× with 8, in the same minutes.
const PER_LOOK: u64 = 2;
/// A worker that looked this recently counts for the fewest.
const LIVE_MS: u64 = 100;
/// A worker ahead stops looking this long.
pub(crate) const REST_MS: u64 = 1;
/// The primary takes over when no worker has looked for this long.
pub(crate) const STALL_MS: u64 = 5;
/// The primary measures the rate of new connections over windows this
/// long. At a low rate it accepts itself, as before: sequential
/// connections go to the workers strictly in turn, as under Node, where the
/// counters allow `MARGIN`; the workers accept from `SHARE_AT` connections
/// a window on, and stop below a quarter of it (below 1: once idle).
pub(crate) const WINDOW_MS: u64 = 20;
pub(crate) const SHARE_AT: u64 = 64;

/// Whether the workers should accept for themselves after a window of
/// `n` connections, given whether they do now.
pub(crate) fn share_next(sharing: bool, n: u64, share_at: u64) -> bool {
    if share_at == 0 {
        false
    } else if sharing {
        n >= (share_at / 4).max(1)
    } else {
        n >= share_at
    }
}

/// Milliseconds on the clock every process of the machine shares.
pub(crate) fn now_ms() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| (t.tv_sec() as u64) * 1000 + (t.tv_nsec() as u64) / 1_000_000)
        .unwrap_or(0)
}

/// The shared page, as either side sees it.
pub(crate) struct Counters {
    mem: SharedMemory,
}

impl Counters {
    pub(crate) fn map(fd: &OwnedFd) -> io::Result<Counters> {
        Ok(Counters {
            mem: SharedMemory::map(fd, SHARE_BYTES)?,
        })
    }

    fn count(&self, slot: usize) -> u64 {
        self.mem.word(slot * SLOT_BYTES).load(Relaxed)
    }

    fn looked_at(&self, slot: usize) -> u64 {
        self.mem.word(slot * SLOT_BYTES + 8).load(Relaxed)
    }

    /// The worker in `slot` looks at the socket now: how many connections
    /// it may take (0: it is ahead).
    pub(crate) fn look(&self, slot: usize, now: u64) -> u64 {
        self.mem.word(slot * SLOT_BYTES + 8).store(now, Relaxed);
        let own = self.count(slot);
        let fewest = (0..SLOTS)
            .filter(|&s| {
                let at = self.looked_at(s);
                at != 0 && now.saturating_sub(at) < LIVE_MS
            })
            .map(|s| self.count(s))
            .min()
            .unwrap_or(own);
        (fewest + MARGIN.max(fewest / SPREAD) + 1)
            .saturating_sub(own)
            .min(PER_LOOK)
    }

    pub(crate) fn took(&self, slot: usize, n: u64) {
        self.mem.word(slot * SLOT_BYTES).fetch_add(n, Relaxed);
    }

    /// Whether some worker looked within the last `ms`.
    pub(crate) fn looked_within(&self, now: u64, ms: u64) -> bool {
        (0..SLOTS).any(|s| {
            let at = self.looked_at(s);
            at != 0 && now.saturating_sub(at) <= ms
        })
    }

    /// A slot handed to a worker: it starts level with the furthest ahead,
    /// so a worker that joins late does not take every connection until it
    /// catches up; a freed slot is forgotten.
    fn reset(&self, slot: usize, count: u64) {
        self.mem.word(slot * SLOT_BYTES).store(count, Relaxed);
        self.mem.word(slot * SLOT_BYTES + 8).store(0, Relaxed);
    }
}

/// A worker's place in the page.
struct Place {
    slot: usize,
    /// The worker's name for the server.
    id: u32,
    /// The slot's count when it was granted.
    from: u64,
}

/// The primary's side: the page and which worker has which slot.
pub(crate) struct AcceptShare {
    counters: Counters,
    fd: OwnedFd,
    places: HashMap<u32, Place>,
}

impl AcceptShare {
    pub(crate) fn new() -> io::Result<AcceptShare> {
        let (mem, fd) = SharedMemory::create(SHARE_BYTES)?;
        Ok(AcceptShare {
            counters: Counters { mem },
            fd,
            places: HashMap::new(),
        })
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    pub(crate) fn has(&self, worker: u32) -> bool {
        self.places.contains_key(&worker)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    pub(crate) fn workers(&self) -> Vec<u32> {
        self.places.keys().copied().collect()
    }

    /// Connections `worker` accepted for itself since it was granted.
    pub(crate) fn taken(&self, worker: u32) -> u64 {
        self.places
            .get(&worker)
            .map_or(0, |p| self.counters.count(p.slot).saturating_sub(p.from))
    }

    /// Connections the workers accepted for themselves, in all.
    pub(crate) fn total(&self) -> u64 {
        self.places
            .values()
            .map(|p| self.counters.count(p.slot).saturating_sub(p.from))
            .sum()
    }

    /// `n` of them came back (its server refused them).
    pub(crate) fn returned(&self, worker: u32, n: u64) {
        if let Some(p) = self.places.get(&worker) {
            let word = self.counters.mem.word(p.slot * SLOT_BYTES);
            let _ = word.fetch_update(Relaxed, Relaxed, |c| Some(c.saturating_sub(n)));
        }
    }

    /// A slot for `worker`, which calls the server `id`, and a copy of the
    /// page's descriptor to send it; None when the slots are all taken.
    pub(crate) fn grant(&mut self, worker: u32, id: u32) -> Option<(usize, OwnedFd)> {
        let slot = (0..SLOTS).find(|s| !self.places.values().any(|p| p.slot == *s))?;
        let fd = self.fd.try_clone().ok()?;
        let ahead = self
            .places
            .values()
            .map(|p| self.counters.count(p.slot))
            .max()
            .unwrap_or(0);
        self.counters.reset(slot, ahead);
        self.places.insert(
            worker,
            Place {
                slot,
                id,
                from: ahead,
            },
        );
        Some((slot, fd))
    }

    /// `worker` no longer accepts: its server id and what it took.
    pub(crate) fn revoke(&mut self, worker: u32) -> Option<(u32, u64)> {
        let taken = self.taken(worker);
        let place = self.places.remove(&worker)?;
        self.counters.reset(place.slot, 0);
        Some((place.id, taken))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (AcceptShare, Counters) {
        let share = AcceptShare::new().expect("memfd");
        let theirs = Counters::map(&share.fd).expect("map");
        (share, theirs)
    }

    #[test]
    fn a_worker_ahead_of_the_fewest_live_one_waits() {
        let (mut share, seen) = pair();
        let (a, _) = share.grant(1, 10).expect("slot");
        let (b, _) = share.grant(2, 10).expect("slot");
        let now = 1_000_000;
        assert_eq!((seen.look(a, now), seen.look(b, now)), (PER_LOOK, PER_LOOK));
        seen.took(a, MARGIN);
        assert_eq!(seen.look(a, now), 1, "one left within the margin");
        seen.took(a, 1);
        assert_eq!(seen.look(a, now), 0, "past the margin");
        assert_eq!(seen.look(b, now), PER_LOOK);
        // b stops looking (busy in its own code): a goes on.
        assert!(seen.look(a, now + LIVE_MS) > 0);
        // Far into a long load, the margin is a share of the count: 100
        // ahead of 10,000 is within it.
        seen.took(b, 10_000 - seen.count(b));
        seen.took(a, 10_100 - seen.count(a));
        const { assert!(100 > MARGIN && 100 < 10_000 / SPREAD) };
        assert!(seen.look(a, now) > 0);
    }

    #[test]
    fn a_late_slot_starts_level_with_the_furthest_ahead() {
        let (mut share, seen) = pair();
        let (a, _) = share.grant(1, 10).expect("slot");
        seen.took(a, 500);
        let (b, _) = share.grant(2, 11).expect("slot");
        let now = 5_000;
        assert!(seen.look(a, now) > 0);
        assert!(seen.look(b, now) > 0);
        seen.took(b, 3);
        share.returned(2, 1);
        assert_eq!(share.taken(2), 2);
        assert_eq!(share.revoke(1), Some((10, 500)));
        assert_eq!(share.revoke(1), None);
        let (c, _) = share.grant(3, 12).expect("slot");
        assert_eq!(c, a, "a freed slot is used again");
        assert_eq!(seen.count(c), 502);
        assert_eq!(share.taken(3), 0);
    }

    #[test]
    fn workers_share_from_a_rate_on_and_stop_well_below_it() {
        assert!(!share_next(false, 63, 64));
        assert!(share_next(false, 64, 64));
        assert!(share_next(true, 16, 64));
        assert!(!share_next(true, 15, 64));
        assert!(!share_next(false, 1000, 0), "0 turns it off");
        assert!(
            share_next(true, 1, 1) && !share_next(true, 0, 1),
            "1: until idle"
        );
    }

    #[test]
    fn looked_within_sees_only_recent_looks() {
        let (mut share, seen) = pair();
        let (a, _) = share.grant(1, 10).expect("slot");
        assert!(!share.counters().looked_within(10_000, STALL_MS));
        seen.look(a, 10_000);
        assert!(share.counters().looked_within(10_000 + STALL_MS, STALL_MS));
        assert!(!share.counters().looked_within(10_001 + STALL_MS, STALL_MS));
    }
}
