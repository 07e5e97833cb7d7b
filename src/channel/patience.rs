//! Whether the primary should wait a little for a worker's next bytes
//! before its loop may sleep. A wait that catches them saves a sleep and a
//! wake-up on both sides (the worker's write wakes nobody), which cost more
//! than the wait while a worker answers at once. It stops paying when the
//! worker writes now and then: after `GIVE_UP` waits in a row that ended
//! with nothing, the primary sleeps at once until bytes again come soon
//! (`CAME_SOON`) after it went to sleep, or a longer wait (`PROBE`), tried
//! less and less often, catches them. Both kinds of channel use it: rings
//! (ring_reader.rs) and sockets (socket_linger.rs), each with its own.
//! A primary that may run on one CPU only never waits: its workers
//! (who inherit that) would wait for it to stop (echo with Node's worker,
//! json 50 B, 16 in flight, all on one CPU: 207-220k round trips/s with
//! the socket's wait, 246-256k without).

use std::cell::Cell;
use std::time::{Duration, Instant};

/// Waits in a row that end with nothing before the primary stops waiting.
const GIVE_UP: u32 = 8;
/// Bytes this soon after the loop went to sleep (as the primary sees them,
/// after its wake-up) make it wait again.
const CAME_SOON: Duration = Duration::from_micros(50);
/// Once waiting stopped paying, a turn that read something waits this long
/// now and then, in case the worker only wakes slowly: where its wake-up
/// and first reply take longer than `CAME_SOON`, the primary would
/// otherwise sleep between its batches for good (echo, json 50 B, 16 in
/// flight: 160-180k round trips/s against 440k).
const PROBE: Duration = Duration::from_micros(100);
/// The first gap between such waits; it doubles after each, up to the
/// most, and starts again once a brief wait catches bytes.
const PROBE_GAP_MIN: Duration = Duration::from_millis(4);
const PROBE_GAP_MAX: Duration = Duration::from_secs(1);

/// When a wait that stopped paying is next tried: `PROBE_GAP_MIN` after
/// the first try, each gap twice the last, up to `PROBE_GAP_MAX`. Patience
/// and stretch.rs both keep one.
pub(super) struct Probes {
    next: Cell<Option<Instant>>,
    gap: Cell<Duration>,
}

impl Probes {
    pub(super) const fn new() -> Probes {
        Probes {
            next: Cell::new(None),
            gap: Cell::new(PROBE_GAP_MIN),
        }
    }

    /// Whether one may be tried at `now`.
    pub(super) fn due(&self, now: Instant) -> bool {
        self.next.get().is_none_or(|at| now >= at)
    }

    /// One is tried at `now`: the next may come a gap later.
    pub(super) fn tried(&self, now: Instant) {
        let gap = self.gap.get();
        self.next.set(Some(now + gap));
        self.gap.set((gap * 2).min(PROBE_GAP_MAX));
    }

    /// The wait pays again: the next gap is the first.
    pub(super) fn reset(&self) {
        self.gap.set(PROBE_GAP_MIN);
    }

    #[cfg(test)]
    fn gap(&self) -> Duration {
        self.gap.get()
    }
}

/// One wait: how long, and whether it is a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Wait {
    pub(super) limit: Duration,
    probing: bool,
}

pub(super) struct Patience {
    /// How long a wait lasts while waiting pays.
    brief: Duration,
    /// Waits in a row that ended with nothing.
    empty_waits: Cell<u32>,
    /// When the loop last went to sleep, until bytes came.
    slept_at: Cell<Option<Instant>>,
    /// When the primary, no longer waiting, may next probe.
    probes: Probes,
    /// Whether the primary may run on more than one CPU (asked once).
    cpus_to_spare: Cell<Option<bool>>,
}

impl Patience {
    pub(super) const fn new(brief: Duration) -> Patience {
        Patience {
            brief,
            empty_waits: Cell::new(0),
            slept_at: Cell::new(None),
            probes: Probes::new(),
            cpus_to_spare: Cell::new(None),
        }
    }

    fn cpus_to_spare(&self) -> bool {
        if let Some(spare) = self.cpus_to_spare.get() {
            return spare;
        }
        let spare = crate::sys::cpus() > 1;
        self.cpus_to_spare.set(Some(spare));
        spare
    }

    /// Tests decide how many CPUs there are, whatever runs them.
    #[cfg(test)]
    pub(super) fn assume_cpus_to_spare(&self, spare: bool) {
        self.cpus_to_spare.set(Some(spare));
    }

    /// The wait to make at `now`, after a turn that read something; None:
    /// sleep at once.
    pub(super) fn wait(&self, now: Instant) -> Option<Wait> {
        if !self.cpus_to_spare() {
            return None;
        }
        if self.empty_waits.get() < GIVE_UP {
            return Some(Wait {
                limit: self.brief,
                probing: false,
            });
        }
        if !self.probes.due(now) {
            return None;
        }
        self.probes.tried(now);
        Some(Wait {
            limit: PROBE,
            probing: true,
        })
    }

    /// `wait` ended: with bytes (`came`) or not.
    pub(super) fn settle(&self, wait: Wait, came: bool) {
        if came {
            self.empty_waits.set(0);
            if !wait.probing {
                self.probes.reset();
            }
        } else {
            self.empty_waits.set(self.empty_waits.get() + 1);
        }
    }

    /// The loop is going to sleep with nothing to read; `now` is asked
    /// only if it was not asleep already (this runs on every turn).
    pub(super) fn sleeping(&self, now: impl FnOnce() -> Instant) {
        if self.slept_at.get().is_none() {
            self.slept_at.set(Some(now()));
        }
    }

    /// Bytes came: soon after the loop went to sleep, waiting may catch
    /// the next ones.
    pub(super) fn bytes_came(&self) {
        if let Some(slept) = self.slept_at.take() {
            if slept.elapsed() < CAME_SOON {
                self.empty_waits.set(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRIEF: Duration = Duration::from_micros(20);

    fn patience() -> Patience {
        let p = Patience::new(BRIEF);
        p.assume_cpus_to_spare(true);
        p
    }

    fn given_up() -> Patience {
        let p = patience();
        p.empty_waits.set(GIVE_UP);
        p
    }

    #[test]
    fn never_waits_on_one_cpu() {
        let p = Patience::new(BRIEF);
        p.assume_cpus_to_spare(false);
        assert_eq!(p.wait(Instant::now()), None);
    }

    #[test]
    fn waits_briefly_until_waiting_stops_paying() {
        let p = patience();
        let now = Instant::now();
        for _ in 0..GIVE_UP {
            let wait = p.wait(now);
            assert_eq!(wait.map(|w| (w.limit, w.probing)), Some((BRIEF, false)));
            p.settle(wait.expect("a brief wait"), false);
        }
        assert_eq!(
            p.wait(now).map(|w| (w.limit, w.probing)),
            Some((PROBE, true))
        );
        assert_eq!(p.wait(now), None);
    }

    #[test]
    fn probes_less_and_less_often_while_they_catch_nothing() {
        let p = given_up();
        let mut at = Instant::now();
        let mut gaps = Vec::new();
        for _ in 0..12 {
            let gap = p.probes.gap();
            let wait = p.wait(at);
            assert_eq!(wait.map(|w| w.probing), Some(true));
            p.settle(wait.expect("a probe"), false);
            assert_eq!(p.wait(at + gap - Duration::from_micros(1)), None);
            gaps.push(gap);
            at += gap;
        }
        assert_eq!(gaps[0], PROBE_GAP_MIN);
        assert_eq!(gaps[1], PROBE_GAP_MIN * 2);
        assert_eq!(*gaps.last().unwrap_or(&Duration::ZERO), PROBE_GAP_MAX);
    }

    #[test]
    fn a_probe_that_catches_bytes_brings_the_brief_waits_back() {
        let p = given_up();
        let now = Instant::now();
        let probe = p.wait(now).expect("a probe");
        assert!(probe.probing);
        p.settle(probe, true);
        let brief = p.wait(now).expect("a brief wait");
        assert_eq!((brief.limit, brief.probing), (BRIEF, false));
        // A brief wait that pays makes the next probe come soon again.
        p.settle(brief, true);
        assert_eq!(p.probes.gap(), PROBE_GAP_MIN);
    }

    #[test]
    fn bytes_soon_after_sleeping_bring_the_brief_waits_back() {
        let p = given_up();
        p.sleeping(Instant::now);
        p.bytes_came();
        assert_eq!(p.wait(Instant::now()).map(|w| w.probing), Some(false));
        let late = given_up();
        late.sleeping(|| Instant::now() - CAME_SOON * 2);
        late.bytes_came();
        assert_eq!(
            late.wait(Instant::now() + PROBE_GAP_MAX).map(|w| w.probing),
            Some(true)
        );
    }
}
