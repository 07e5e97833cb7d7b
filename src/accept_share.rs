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
use std::sync::atomic::AtomicU64;
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

/// A slot's first word: which grant it belongs to (the top 16 bits; 0:
/// free, or taken back) and how many connections were counted in it. The
/// worker counts with a compare-and-swap on the grant, so once the primary
/// has taken the slot back (and read its final count) nothing more is
/// counted there: a connection the worker accepts after that goes back to
/// the primary uncounted, instead of being served and lost to the count.
const TAG_SHIFT: u32 = 48;
const COUNT_MASK: u64 = (1 << TAG_SHIFT) - 1;

fn tag_of(word: u64) -> u16 {
    (word >> TAG_SHIFT) as u16
}

fn count_of(word: u64) -> u64 {
    word & COUNT_MASK
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

    fn counted(&self, slot: usize) -> &AtomicU64 {
        self.mem.word(slot * SLOT_BYTES)
    }

    fn count(&self, slot: usize) -> u64 {
        count_of(self.counted(slot).load(Relaxed))
    }

    fn granted(&self, slot: usize) -> bool {
        tag_of(self.counted(slot).load(Relaxed)) != 0
    }

    fn last_look(&self, slot: usize) -> &AtomicU64 {
        self.mem.word(slot * SLOT_BYTES + 8)
    }

    fn looked_at(&self, slot: usize) -> u64 {
        self.last_look(slot).load(Relaxed)
    }

    /// Give `slot` the count word `word` (a grant, or 0: free) and forget
    /// its last look; the word it had.
    fn reset(&self, slot: usize, word: u64) -> u64 {
        let last = self.counted(slot).swap(word, Relaxed);
        self.last_look(slot).store(0, Relaxed);
        last
    }

    /// The worker holding grant `tag` of `slot` looks at the socket now:
    /// how many connections it may take (0: it is ahead, or the slot was
    /// taken back).
    pub(crate) fn look(&self, slot: usize, tag: u16, now: u64) -> u64 {
        let word = self.counted(slot).load(Relaxed);
        if tag_of(word) != tag {
            return 0;
        }
        self.last_look(slot).store(now, Relaxed);
        let own = count_of(word);
        let fewest = (0..SLOTS)
            .filter(|&s| {
                let at = self.looked_at(s);
                self.granted(s) && at != 0 && now.saturating_sub(at) < LIVE_MS
            })
            .map(|s| self.count(s))
            .min()
            .unwrap_or(own);
        (fewest + MARGIN.max(fewest / SPREAD) + 1)
            .saturating_sub(own)
            .min(PER_LOOK)
    }

    /// Count one connection in `slot` if grant `tag` still holds it.
    pub(crate) fn try_take(&self, slot: usize, tag: u16) -> bool {
        self.counted(slot)
            .fetch_update(Relaxed, Relaxed, |w| (tag_of(w) == tag).then_some(w + 1))
            .is_ok()
    }

    /// Uncount one (the worker's server refused it) if grant `tag` still
    /// holds the slot; false when the primary took the slot back with it
    /// counted.
    pub(crate) fn untake(&self, slot: usize, tag: u16) -> bool {
        self.counted(slot)
            .fetch_update(Relaxed, Relaxed, |w| {
                (tag_of(w) == tag && count_of(w) > 0).then(|| w - 1)
            })
            .is_ok()
    }

    /// Whether some worker that holds a slot looked within the last `ms`.
    pub(crate) fn looked_within(&self, now: u64, ms: u64) -> bool {
        (0..SLOTS).any(|s| {
            let at = self.looked_at(s);
            self.granted(s) && at != 0 && now.saturating_sub(at) <= ms
        })
    }
}

/// A worker's place in the page.
struct Place {
    slot: usize,
    /// The grant's tag in the slot's word.
    tag: u16,
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
    last_tag: u16,
}

impl AcceptShare {
    pub(crate) fn new() -> io::Result<AcceptShare> {
        let (mem, fd) = SharedMemory::create(SHARE_BYTES)?;
        Ok(AcceptShare {
            counters: Counters { mem },
            fd,
            places: HashMap::new(),
            last_tag: 0,
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

    /// A slot for `worker`, which calls the server `id`: the slot, its
    /// grant's tag, and a copy of the page's descriptor to send; None when
    /// the slots are all taken. The slot starts level with the furthest
    /// ahead, so a worker that joins late does not take every connection
    /// until it catches up.
    pub(crate) fn grant(&mut self, worker: u32, id: u32) -> Option<(usize, u16, OwnedFd)> {
        let slot = (0..SLOTS).find(|s| !self.places.values().any(|p| p.slot == *s))?;
        let fd = self.fd.try_clone().ok()?;
        let ahead = self
            .places
            .values()
            .map(|p| self.counters.count(p.slot))
            .max()
            .unwrap_or(0);
        // A slot's old worker may count in it until it reads UNLISTEN: a
        // new tag keeps it out (the tags wrap after 65,535 grants).
        self.last_tag = self.last_tag.checked_add(1).unwrap_or(1);
        let tag = self.last_tag;
        self.counters
            .reset(slot, (u64::from(tag) << TAG_SHIFT) | ahead);
        self.places.insert(
            worker,
            Place {
                slot,
                tag,
                id,
                from: ahead,
            },
        );
        Some((slot, tag, fd))
    }

    /// `worker` no longer accepts: its server id and what it took, final:
    /// the slot is freed in the same atomic step that reads its count.
    pub(crate) fn revoke(&mut self, worker: u32) -> Option<(u32, u64)> {
        let place = self.places.remove(&worker)?;
        let last = self.counters.reset(place.slot, 0);
        debug_assert_eq!(tag_of(last), place.tag);
        Some((place.id, count_of(last).saturating_sub(place.from)))
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

    /// The worker side of a grant.
    struct Held<'a>(&'a Counters, usize, u16);

    impl Held<'_> {
        fn look(&self, now: u64) -> u64 {
            self.0.look(self.1, self.2, now)
        }

        fn take(&self, n: u64) {
            for _ in 0..n {
                assert!(self.0.try_take(self.1, self.2));
            }
        }

        fn count(&self) -> u64 {
            self.0.count(self.1)
        }
    }

    fn grant<'a>(share: &mut AcceptShare, seen: &'a Counters, w: u32, id: u32) -> Held<'a> {
        let (slot, tag, _) = share.grant(w, id).expect("slot");
        Held(seen, slot, tag)
    }

    #[test]
    fn a_worker_ahead_of_the_fewest_live_one_waits() {
        let (mut share, seen) = pair();
        let a = grant(&mut share, &seen, 1, 10);
        let b = grant(&mut share, &seen, 2, 10);
        let now = 1_000_000;
        assert_eq!((a.look(now), b.look(now)), (PER_LOOK, PER_LOOK));
        a.take(MARGIN);
        assert_eq!(a.look(now), 1, "one left within the margin");
        a.take(1);
        assert_eq!(a.look(now), 0, "past the margin");
        assert_eq!(b.look(now), PER_LOOK);
        // b stops looking (busy in its own code): a goes on.
        assert!(a.look(now + LIVE_MS) > 0);
        // Far into a long load, the margin is a share of the count: 100
        // ahead of 10,000 is within it.
        b.take(10_000 - b.count());
        a.take(10_100 - a.count());
        const { assert!(100 > MARGIN && 100 < 10_000 / SPREAD) };
        assert!(a.look(now) > 0);
    }

    #[test]
    fn a_late_slot_starts_level_with_the_furthest_ahead() {
        let (mut share, seen) = pair();
        let a = grant(&mut share, &seen, 1, 10);
        a.take(500);
        let b = grant(&mut share, &seen, 2, 11);
        let now = 5_000;
        assert!(a.look(now) > 0);
        assert!(b.look(now) > 0);
        b.take(3);
        assert!(seen.untake(b.1, b.2), "its server refused one");
        assert_eq!(share.taken(2), 2);
        assert_eq!(share.revoke(1), Some((10, 500)));
        assert_eq!(share.revoke(1), None);
        let c = grant(&mut share, &seen, 3, 12);
        assert_eq!(c.1, a.1, "a freed slot is used again");
        assert_eq!(c.count(), 502);
        assert_eq!(share.taken(3), 0);
    }

    #[test]
    fn nothing_is_counted_in_a_slot_once_it_is_taken_back() {
        let (mut share, seen) = pair();
        let a = grant(&mut share, &seen, 1, 10);
        let b = grant(&mut share, &seen, 2, 10);
        a.take(5);
        // The primary takes a's slot back before a reads UNLISTEN: a
        // connection a accepts now is not counted (a returns it), one it
        // counted before and its server refuses stays counted (the
        // primary takes it off), and a stops looking.
        assert_eq!(share.revoke(1), Some((10, 5)));
        assert!(!seen.try_take(a.1, a.2));
        assert!(!seen.untake(a.1, a.2));
        assert_eq!(a.look(1_000), 0);
        assert!(
            !share.counters().looked_within(1_000, STALL_MS),
            "a slot taken back does not count as looking"
        );
        // Its slot goes to a new worker; a's old grant still counts nothing.
        let c = grant(&mut share, &seen, 3, 12);
        assert_eq!(c.1, a.1);
        assert!(!seen.try_take(a.1, a.2));
        c.take(1);
        b.take(1);
        assert_eq!((share.taken(3), share.taken(2)), (1, 1));
        assert_eq!(share.total(), 2);
    }

    #[test]
    fn a_slot_taken_back_does_not_hold_the_others_back() {
        let (mut share, seen) = pair();
        let a = grant(&mut share, &seen, 1, 10);
        let b = grant(&mut share, &seen, 2, 10);
        let now = 1_000;
        a.look(now);
        b.take(MARGIN + 1);
        assert_eq!(b.look(now), 0, "b is ahead of a");
        share.revoke(1);
        assert_eq!(b.look(now), PER_LOOK, "a no longer counts for the fewest");
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
        let a = grant(&mut share, &seen, 1, 10);
        assert!(!share.counters().looked_within(10_000, STALL_MS));
        a.look(10_000);
        assert!(share.counters().looked_within(10_000 + STALL_MS, STALL_MS));
        assert!(!share.counters().looked_within(10_001 + STALL_MS, STALL_MS));
    }
}
