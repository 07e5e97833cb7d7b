//! The primary's side of its workers' rings (ring.rs), on Node's event
//! loop: one hook before each poll reads every ring, as a readiness
//! callback reads a socket, then arms them so that a worker's next write
//! rings its socket (an empty frame) if the loop went to sleep; one after
//! the poll disarms them. A ring that just brought something is watched a
//! little longer (`LINGER`) before the loop may sleep, while that pays: the
//! worker is writing, and a sleep and a wake-up cost the primary more than
//! the wait (echo, advanced 50 B, 16 in flight: 4,000 context switches per
//! 100,000 round trips without it, 300 with it, and 50% more round trips).
//! When it stops paying, patience.rs has the primary sleep at once.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::OwnedFd;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use super::patience::Patience;
use super::writer::Outgoing;
use super::{ring::Ring, Channel, ChannelEvents, READS_PER_CALLBACK, READ_BUFFER};
use crate::contract::AGENT_RING_ROOM;
use crate::protocol;
use crate::sys::{EventLoop, Hook, Phase, Timer};

/// How long a ring that brought something is watched for more before the
/// loop may sleep. Node's channel in the worker decodes all of a read
/// before the first message's handler runs, so a batch of 16 advanced
/// messages is answered 20-40 µs after it went (echo, advanced 50 B, 16 in
/// flight: 0.019-0.021 context switches of the primary per round trip and
/// 224-239k round trips/s with 20 µs, 0.003-0.004 and 291-305k with 40).
const LINGER: Duration = Duration::from_micros(40);
/// Rounds of reading per turn of the loop before it moves on.
const ROUNDS: usize = 4;

/// The channels with a ring, and the hooks that read them.
struct Readers {
    _before: Hook,
    _after: Hook,
    /// Brings the loop round again when a turn left bytes in a ring.
    again: Timer,
    channels: Vec<Weak<Channel>>,
}

thread_local! {
    static READERS: RefCell<Option<Readers>> = const { RefCell::new(None) };
    /// A ring brought something since the last turn's hook.
    static READ_THIS_TURN: Cell<bool> = const { Cell::new(false) };
    /// Whether waiting for the rings pays.
    static PATIENCE: Patience = const { Patience::new(LINGER) };
    /// with_live()'s list, kept for the next turn.
    static LIVE: RefCell<Vec<Rc<Channel>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` over the channels whose rings are in use now. Their list is
/// kept between turns of the loop, as the hooks run on every turn.
fn with_live<R>(f: impl FnOnce(&[Rc<Channel>]) -> R) -> R {
    let mut channels = LIVE.with(|l| std::mem::take(&mut *l.borrow_mut()));
    READERS.with(|r| {
        if let Some(readers) = r.borrow_mut().as_mut() {
            readers
                .channels
                .retain(|c| c.upgrade().is_some_and(|c| c.ring.borrow().is_some()));
            channels.extend(readers.channels.iter().filter_map(Weak::upgrade));
        }
    });
    let result = f(&channels);
    channels.clear();
    LIVE.with(|l| *l.borrow_mut() = channels);
    result
}

fn before_poll() {
    if with_live(read_and_arm) {
        return;
    }
    READERS.with(|r| {
        if let Some(readers) = r.borrow().as_ref() {
            readers.again.start(0, 0);
        }
    });
}

/// Read the rings, wait a little for more while that pays, and arm them;
/// false when bytes still wait after `ROUNDS` rounds.
fn read_and_arm(channels: &[Rc<Channel>]) -> bool {
    for _ in 0..ROUNDS {
        for c in channels {
            c.drain_ring();
        }
        if READ_THIS_TURN.replace(false) {
            linger(channels);
        }
        // Arm every ring, even once one has bytes (it stays unarmed).
        let unarmed = channels.iter().filter(|c| !c.arm_ring()).count();
        if unarmed == 0 {
            PATIENCE.with(|p| p.sleeping(Instant::now));
            return true;
        }
    }
    false
}

/// After a turn that read a ring: wait for more while that pays.
fn linger(channels: &[Rc<Channel>]) {
    let since = Instant::now();
    let Some(wait) = PATIENCE.with(|p| p.wait(since)) else {
        return;
    };
    let mut came = false;
    while !came && since.elapsed() < wait.limit {
        std::hint::spin_loop();
        came = channels.iter().any(|c| c.ring_waiting());
    }
    PATIENCE.with(|p| p.settle(wait, came));
}

fn after_poll() {
    with_live(|channels| {
        for c in channels {
            if let Some(ring) = c.ring.borrow().as_ref() {
                ring.disarm();
            }
            c.ring_read_this_turn.set(false);
        }
    });
}

fn register(event_loop: EventLoop, channel: Weak<Channel>) -> io::Result<()> {
    READERS.with(|r| {
        let mut r = r.borrow_mut();
        if r.is_none() {
            *r = Some(Readers {
                _before: Hook::new(event_loop, Phase::BeforePoll, before_poll)?,
                _after: Hook::new(event_loop, Phase::AfterPoll, after_poll)?,
                again: Timer::new(event_loop, || {
                    with_live(|channels| {
                        for c in channels {
                            c.drain_ring();
                        }
                    });
                })?,
                channels: Vec::new(),
            });
        }
        if let Some(readers) = r.as_mut() {
            readers.channels.push(channel);
        }
        Ok(())
    })
}

impl Channel {
    /// From now on the worker writes to `memfd`'s ring, and rings the
    /// socket when we armed it.
    pub(super) fn attach_ring(&self, memfd: &OwnedFd) -> io::Result<()> {
        let Some(event_loop) = self.event_loop else {
            return Err(io::ErrorKind::Unsupported.into());
        };
        let ring = Rc::new(Ring::open(memfd)?);
        register(event_loop, self.me.clone())?;
        *self.ring.borrow_mut() = Some(ring);
        Ok(())
    }

    fn ring_waiting(&self) -> bool {
        self.ring.borrow().as_ref().is_some_and(|r| r.waiting())
    }

    /// Arm the ring; false when bytes already wait (or it is gone: nothing
    /// to sleep on then).
    fn arm_ring(&self) -> bool {
        self.ring.borrow().as_ref().is_none_or(|r| r.arm())
    }

    /// Read the ring as the socket is read: up to READS_PER_CALLBACK
    /// buffers, each decoded and delivered. Returns the bytes read.
    pub(super) fn drain_ring(&self) -> usize {
        let Some(events) = self.events.upgrade() else {
            return 0;
        };
        let events = &*events;
        let mut total = 0;
        for _ in 0..READS_PER_CALLBACK {
            if !self.open.get() {
                break;
            }
            let Some(ring) = self.ring.borrow().clone() else {
                break;
            };
            let pulled = READ_BUFFER.with(|buf| {
                let mut buf = buf.borrow_mut();
                let n = ring.pull(&mut buf)?;
                self.reader.borrow_mut().decoder.push(&buf[..n]);
                Ok::<_, &str>((n, n == buf.len()))
            });
            let (n, full) = match pulled {
                Ok(got) => got,
                Err(why) => {
                    self.end(events, Some(why.into()));
                    break;
                }
            };
            total += n;
            if n == 0 {
                break;
            }
            self.ring_read_this_turn.set(true);
            if ring.take_waiter() {
                let room = protocol::agent_message(AGENT_RING_ROOM, Vec::new());
                self.send(Outgoing::internal(protocol::encode(self.mode, &room), None));
            }
            READ_THIS_TURN.set(true);
            PATIENCE.with(Patience::bytes_came);
            if !self.hand_over(Vec::new(), events) {
                break;
            }
            if self.ring_ended.replace(false) {
                self.detach_ring(events);
                break;
            }
            if !full {
                break;
            }
        }
        total
    }

    /// Deliver all the ring holds.
    pub(super) fn read_ring_out(&self) {
        while self.open.get() && self.ring_waiting() {
            self.drain_ring();
        }
    }

    /// The socket ended: everything in the ring came before.
    pub(super) fn finish_ring(&self, events: &dyn ChannelEvents) {
        self.read_ring_out();
        if self.ring.borrow().is_some() {
            self.detach_ring(events);
        }
    }

    /// The ring is over: back to the socket, starting with what it brought
    /// meanwhile.
    fn detach_ring(&self, events: &dyn ChannelEvents) {
        drop(self.ring.borrow_mut().take());
        // Off the live list, the hook after the poll no longer clears it.
        self.ring_read_this_turn.set(false);
        let (bytes, fds) = std::mem::take(&mut *self.stash.borrow_mut());
        if bytes.is_empty() && fds.is_empty() {
            self.after_ring.set(true);
            return;
        }
        self.reader.borrow_mut().decoder.push(&bytes);
        self.hand_over(fds, events);
    }
}
