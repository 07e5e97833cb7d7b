//! After a turn of the loop that read a worker's socket, the loop keeps
//! turning a little longer (`LINGER`) before it may sleep: a 0 ms timer
//! makes libuv's poll look without waiting. A worker that answers what it
//! was just sent (Node's own worker writes each reply as it is made) then
//! writes to a primary that is awake, and neither side sleeps and wakes
//! between rounds (echo with Node's worker, json 50 B, 16 in flight:
//! 160-175k round trips/s and 0.06 context switches of the primary per
//! round trip without it, 300k and 0.006 with it). patience.rs stops it
//! when it no longer pays.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use super::patience::{Patience, Wait};
use crate::sys::{EventLoop, Hook, Phase, Timer};

/// How long the loop keeps turning after a socket brought something.
const LINGER: Duration = Duration::from_micros(20);
/// After a look that found nothing, the next one waits this long: each is
/// a system call (json 50 B, 16 in flight: 1.3 polls per round trip
/// without the pause, 0.2 with it, and 10% more round trips).
const PAUSE: Duration = Duration::from_micros(4);

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
    /// The wait under way, and when it ends.
    static WAITING: Cell<Option<(Wait, Instant)>> = const { Cell::new(None) };
}

/// A worker's socket (not its ring's doorbell) brought bytes.
pub(super) fn read(event_loop: EventLoop) {
    READ.set(true);
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
        Turn::LookAfterPause(until) => {
            let look_at = (now + PAUSE).min(until);
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
    /// The last look found nothing: look again after `PAUSE` (a look is a
    /// system call), but before the wait ends at the instant given.
    LookAfterPause(Instant),
}

/// What the loop should do before its poll, given whether a socket
/// brought bytes since the last turn.
fn turn_again(now: Instant, read: bool) -> Turn {
    PATIENCE.with(|p| {
        if let Some((wait, until)) = WAITING.get() {
            if !read && now < until {
                return Turn::LookAfterPause(until);
            }
            p.settle(wait, read);
            WAITING.set(None);
        }
        if read {
            if let Some(wait) = p.wait(now) {
                WAITING.set(Some((wait, now + wait.limit)));
                return Turn::Look;
            }
        }
        p.sleeping(|| now);
        Turn::Sleep
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_turning_for_a_while_after_a_read() {
        PATIENCE.with(|p| p.assume_cpus_to_spare(true));
        let now = Instant::now();
        assert_eq!(turn_again(now, false), Turn::Sleep);
        assert_eq!(turn_again(now, true), Turn::Look);
        let half = now + LINGER / 2;
        assert_eq!(turn_again(half, false), Turn::LookAfterPause(now + LINGER));
        // Bytes within the wait start the next one.
        assert_eq!(turn_again(half, true), Turn::Look);
        assert_eq!(turn_again(half + LINGER, false), Turn::Sleep);
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
