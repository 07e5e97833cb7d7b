//! After a turn of the loop that read a worker's socket, the loop keeps
//! turning a little longer (`LINGER`) before it may sleep: a 0 ms timer
//! makes libuv's poll look without waiting. A worker that answers what it
//! was just sent (Node's own worker writes each reply as it is made) then
//! writes to a primary that is awake, and neither side sleeps and wakes
//! between rounds (echo with Node's worker, json 50 B, 16 in flight:
//! 160-175k round trips/s and 0.06 context switches of the primary per
//! round trip without it, 300k and 0.006 with it). patience.rs stops it
//! when it no longer pays; stretch.rs makes it longer after a batch.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use super::patience::{Patience, Wait};
use super::stretch::Stretch;
use crate::sys::{EventLoop, Hook, Phase, Timer};

/// How long the loop keeps turning after a socket brought something.
const LINGER: Duration = Duration::from_micros(20);
/// After a look that found nothing, the next one waits this long: each is
/// a system call (json 50 B, 16 in flight: 1.3 polls per round trip
/// without the pause, 0.2 with it, and 10% more round trips).
const PAUSE: Duration = Duration::from_micros(4);
/// Past `LINGER`, looks come this far apart: the reply is not due yet.
const LONG_PAUSE: Duration = Duration::from_micros(32);

struct Lingerer {
    _before: Hook,
    /// Started at 0 ms, it keeps the next poll from sleeping.
    again: Timer,
}

thread_local! {
    static LINGERER: RefCell<Option<Lingerer>> = const { RefCell::new(None) };
    static PATIENCE: Patience = const { Patience::new(LINGER) };
    /// A socket brought bytes since the hook last ran.
    static READ: Cell<bool> = const { Cell::new(false) };
    static STRETCH: Stretch = const { Stretch::new() };
    /// The wait under way, when it started and when it ends.
    static WAITING: Cell<Option<(Wait, Instant, Instant)>> = const { Cell::new(None) };
}

/// See `channel::crowded`.
pub(super) fn crowded(yes: bool) {
    STRETCH.with(|s| s.crowded(yes));
}

/// `bytes` went out to a worker's socket.
pub(super) fn wrote(bytes: usize) {
    STRETCH.with(|s| s.wrote(bytes));
}

/// A worker's socket (not its ring's doorbell) brought `bytes`.
pub(super) fn read(event_loop: EventLoop, bytes: usize) {
    READ.set(true);
    STRETCH.with(|s| s.read(bytes));
    PATIENCE.with(Patience::bytes_came);
    LINGERER.with(|l| {
        let mut l = l.borrow_mut();
        if l.is_some() {
            return;
        }
        let before = Hook::new(event_loop, Phase::BeforePoll, before_poll);
        let again = Timer::new(event_loop, || {});
        // Without them the loop only sleeps as it would anyway.
        if let (Ok(before), Ok(again)) = (before, again) {
            *l = Some(Lingerer {
                _before: before,
                again,
            });
        }
    });
}

fn before_poll() {
    let now = Instant::now();
    match turn_again(now, READ.replace(false)) {
        Turn::Sleep => return,
        Turn::Look => {}
        Turn::LookAfterPause(pause, until) => {
            let look_at = (now + pause).min(until);
            while Instant::now() < look_at {
                std::hint::spin_loop();
            }
        }
    }
    LINGERER.with(|l| {
        if let Some(l) = l.borrow().as_ref() {
            l.again.start(0, 0);
        }
    });
}

#[derive(Debug, PartialEq, Eq)]
enum Turn {
    /// The poll may sleep.
    Sleep,
    /// Look at once: bytes just came, more may follow right away.
    Look,
    /// The last look found nothing: look again after the pause given (a
    /// look is a system call), but before the wait ends at the instant given.
    LookAfterPause(Duration, Instant),
}

/// What the loop should do before its poll, given whether a socket
/// brought bytes since the last turn.
fn turn_again(now: Instant, read: bool) -> Turn {
    PATIENCE.with(|p| {
        if let Some((wait, started, until)) = WAITING.get() {
            if !read && now < until {
                let pause = if now < started + LINGER {
                    PAUSE
                } else {
                    LONG_PAUSE
                };
                return Turn::LookAfterPause(pause, until);
            }
            p.settle(wait, read);
            STRETCH.with(|s| s.settle(wait.limit, until - started, now, now - started, read));
            WAITING.set(None);
        }
        if read {
            if let Some(wait) = p.wait(now) {
                let limit = STRETCH.with(|s| s.limit(wait.limit, now));
                WAITING.set(Some((wait, now, now + limit)));
                return Turn::Look;
            }
        }
        p.sleeping(|| now);
        STRETCH.with(Stretch::sleeping);
        Turn::Sleep
    })
}

#[cfg(test)]
mod tests {
    use super::super::stretch::LONG;
    use super::*;

    #[test]
    fn keeps_turning_for_a_while_after_a_read() {
        PATIENCE.with(|p| p.assume_cpus_to_spare(true));
        let now = Instant::now();
        assert_eq!(turn_again(now, false), Turn::Sleep);
        assert_eq!(turn_again(now, true), Turn::Look);
        let half = now + LINGER / 2;
        assert_eq!(
            turn_again(half, false),
            Turn::LookAfterPause(PAUSE, now + LINGER)
        );
        // Bytes within the wait start the next one.
        assert_eq!(turn_again(half, true), Turn::Look);
        assert_eq!(turn_again(half + LINGER, false), Turn::Sleep);
    }

    #[test]
    fn keeps_turning_longer_after_a_heavy_turn() {
        PATIENCE.with(|p| p.assume_cpus_to_spare(true));
        let now = Instant::now();
        assert_eq!(turn_again(now, false), Turn::Sleep);
        // A message: the brief wait.
        STRETCH.with(|s| s.read(100));
        assert_eq!(turn_again(now, true), Turn::Look);
        assert_eq!(turn_again(now + LINGER, false), Turn::Sleep);
        // A batch answering one: the long one, looking less often once
        // past the brief.
        STRETCH.with(|s| s.wrote(4096));
        STRETCH.with(|s| s.read(4096));
        assert_eq!(turn_again(now, true), Turn::Look);
        let early = now + LINGER / 2;
        assert_eq!(
            turn_again(early, false),
            Turn::LookAfterPause(PAUSE, now + LONG)
        );
        let late = now + LINGER * 2;
        assert_eq!(
            turn_again(late, false),
            Turn::LookAfterPause(LONG_PAUSE, now + LONG)
        );
        assert_eq!(turn_again(now + LONG, false), Turn::Sleep);
    }

    #[test]
    fn stops_turning_after_reads_that_come_late() {
        PATIENCE.with(|p| p.assume_cpus_to_spare(true));
        let mut now = Instant::now();
        let mut waited = 0;
        for _ in 0..100 {
            if turn_again(now, true) != Turn::Sleep {
                waited += 1;
            }
            // Past the wait, a probe's too.
            now += Duration::from_micros(200);
            assert_eq!(turn_again(now, false), Turn::Sleep);
            now += Duration::from_millis(1);
        }
        // Eight brief waits, then a probe now and then (4, 8, 16, 32, 64 ms).
        assert!((9..=16).contains(&waited), "waited {waited} times");
    }
}
