//! How long the socket's wait (socket_linger.rs) lasts: after a heavy turn
//! (since the loop last slept, `HEAVY_BYTES` read from workers' sockets and
//! as many written to them: batches answered) it stretches to `LONG`.
//! Node's worker decodes all of a read before it answers the first message,
//! so with many messages in flight its first reply to a batch comes
//! 100-200 µs after the batch (echo with Node's worker, advanced 50 B, 64
//! in flight: 0.016 voluntary context switches of the primary's loop per
//! round trip with the brief wait, 0.001 with the long one).
//!
//! A stretch costs its whole length when nothing comes, and saves a sleep
//! and a wake-up when the bytes it catches come after the brief wait would
//! have ended. Each miss adds `MISS_DEBT`, each catch takes one off; from
//! `MAX_DEBT` on, waits stay brief but for a stretch now and then (on
//! patience.rs's schedule of probes: 4 ms, doubling up to 1 s) until one
//! catches.
//! Light traffic never makes a heavy turn, nor does a worker that writes
//! bursts nobody answers. With more workers than the fast paths serve
//! (primary/mod.rs, `FAST_PATH_WORKERS_PER_CPU`) waits never stretch: the
//! CPU a stretch spins on is one the workers need (scale phase, 32 workers
//! on 2 CPUs, json 50 B echo: 0.91-0.98× node:cluster's round trips with
//! stretches, at 9.4-10.6 µs of the primary's CPU per round trip against
//! 8.3-8.7 without them).

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::patience::Probes;

/// Bytes read, and as many written, since the loop last slept that make a
/// turn heavy: batches, not a message now and then.
const HEAVY_BYTES: usize = 2048;
/// How long a wait after a heavy turn lasts.
pub(super) const LONG: Duration = Duration::from_micros(200);
/// What a stretch that caught nothing adds to the debt (one that caught
/// something takes off one), and the debt from which waits stay brief.
const MISS_DEBT: u32 = 4;
const MAX_DEBT: u32 = 8;

pub(super) struct Stretch {
    /// Bytes read and written since the loop last slept.
    read_bytes: Cell<usize>,
    written_bytes: Cell<usize>,
    debt: Cell<u32>,
    /// More workers than the fast paths serve: no stretches.
    crowded: Cell<bool>,
    /// While the debt is too high: when the next stretch may be tried.
    probes: Probes,
}

impl Stretch {
    pub(super) const fn new() -> Stretch {
        Stretch {
            read_bytes: Cell::new(0),
            written_bytes: Cell::new(0),
            debt: Cell::new(0),
            crowded: Cell::new(false),
            probes: Probes::new(),
        }
    }

    pub(super) fn crowded(&self, yes: bool) {
        self.crowded.set(yes);
    }

    /// `bytes` went out to a socket.
    pub(super) fn wrote(&self, bytes: usize) {
        self.written_bytes
            .set(self.written_bytes.get().saturating_add(bytes));
    }

    /// A socket brought `bytes`.
    pub(super) fn read(&self, bytes: usize) {
        self.read_bytes
            .set(self.read_bytes.get().saturating_add(bytes));
    }

    /// How long the wait that starts at `now` lasts: `brief`, or stretched.
    pub(super) fn limit(&self, brief: Duration, now: Instant) -> Duration {
        let heavy = self.read_bytes.get() >= HEAVY_BYTES && self.written_bytes.get() >= HEAVY_BYTES;
        let allowed = self.debt.get() < MAX_DEBT || self.probes.due(now);
        if heavy && allowed && !self.crowded.get() {
            brief.max(LONG)
        } else {
            brief
        }
    }

    /// A wait that lasted up to `limit` (past `brief`: stretched) ended at
    /// `now`, `waited` after it started, with bytes (`came`) or not.
    pub(super) fn settle(
        &self,
        brief: Duration,
        limit: Duration,
        now: Instant,
        waited: Duration,
        came: bool,
    ) {
        if limit <= brief {
            return;
        }
        let debt = self.debt.get();
        if !came {
            let debt = debt + MISS_DEBT;
            self.debt.set(debt.min(MAX_DEBT + MISS_DEBT));
            if debt >= MAX_DEBT {
                // Stretches just stopped: tried again after the first gap.
                if debt - MISS_DEBT < MAX_DEBT {
                    self.probes.reset();
                }
                self.probes.tried(now);
            }
        } else if waited > brief {
            // Caught by the stretch: a probe that does is a fresh start.
            let debt = if debt >= MAX_DEBT {
                MAX_DEBT - 1
            } else {
                debt.saturating_sub(1)
            };
            self.debt.set(debt);
        }
    }

    /// The loop is going to sleep: the next turn that reads starts afresh.
    pub(super) fn sleeping(&self) {
        self.read_bytes.set(0);
        self.written_bytes.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRIEF: Duration = Duration::from_micros(20);

    fn batch(s: &Stretch) {
        s.wrote(HEAVY_BYTES);
        s.read(HEAVY_BYTES);
    }

    #[test]
    fn stretches_after_a_heavy_turn_only() {
        let s = Stretch::new();
        let now = Instant::now();
        s.read(100);
        assert_eq!(s.limit(BRIEF, now), BRIEF);
        // A batch nobody asked for.
        s.read(HEAVY_BYTES);
        assert_eq!(s.limit(BRIEF, now), BRIEF);
        // One that answers a batch.
        s.wrote(HEAVY_BYTES);
        assert_eq!(s.limit(BRIEF, now), LONG);
        s.sleeping();
        s.read(HEAVY_BYTES);
        assert_eq!(s.limit(BRIEF, now), BRIEF);
    }

    #[test]
    fn never_stretches_with_more_workers_than_the_fast_paths_serve() {
        let s = Stretch::new();
        let now = Instant::now();
        batch(&s);
        s.crowded(true);
        assert_eq!(s.limit(BRIEF, now), BRIEF);
        s.crowded(false);
        assert_eq!(s.limit(BRIEF, now), LONG);
    }

    #[test]
    fn misses_stop_it_and_it_is_tried_less_and_less_often() {
        let s = Stretch::new();
        let mut now = Instant::now();
        batch(&s);
        // Two misses: stretches stop.
        for _ in 0..MAX_DEBT / MISS_DEBT {
            assert_eq!(s.limit(BRIEF, now), LONG);
            s.settle(BRIEF, LONG, now, LONG, false);
        }
        assert_eq!(s.limit(BRIEF, now), BRIEF);
        // Bytes soon after a brief wait say nothing.
        s.settle(BRIEF, BRIEF, now, BRIEF / 2, true);
        assert_eq!(s.limit(BRIEF, now), BRIEF);
        // Tried again after 4 ms, then 8, 16: each catches nothing.
        for gap_ms in [4, 8, 16] {
            assert_eq!(
                s.limit(BRIEF, now + Duration::from_millis(gap_ms - 1)),
                BRIEF
            );
            now += Duration::from_millis(gap_ms);
            assert_eq!(s.limit(BRIEF, now), LONG);
            s.settle(BRIEF, LONG, now, LONG, false);
        }
        // One that catches bytes past the brief wait starts it again.
        now += Duration::from_millis(32);
        assert_eq!(s.limit(BRIEF, now), LONG);
        s.settle(BRIEF, LONG, now, BRIEF * 3, true);
        assert_eq!(s.limit(BRIEF, now), LONG);
    }

    #[test]
    fn catches_pay_for_misses_four_to_one() {
        let s = Stretch::new();
        let now = Instant::now();
        batch(&s);
        s.settle(BRIEF, LONG, now, LONG, false);
        // Bytes within the brief wait were no catch of the stretch's.
        for _ in 0..10 {
            s.settle(BRIEF, LONG, now, BRIEF / 2, true);
        }
        for _ in 0..MISS_DEBT {
            s.settle(BRIEF, LONG, now, BRIEF * 2, true);
        }
        s.settle(BRIEF, LONG, now, LONG, false);
        assert_eq!(s.limit(BRIEF, now), LONG);
        s.settle(BRIEF, LONG, now, LONG, false);
        assert_eq!(s.limit(BRIEF, now), BRIEF);
    }
}
