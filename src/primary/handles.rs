//! The engine's side of the server handles JS makes (lib/round_robin_handle.js,
//! lib/reuseport_handle.js): a handle the primary accepts for, its workers
//! joining and leaving, and reuseport's socket groups.

use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::rc::Rc;

use super::Engine;
use crate::accept_share::{now_ms, share_next, STALL_MS, WINDOW_MS};
use crate::reuseport_handle::{Address, ReusePortGroup};
use crate::round_robin_handle::{Listener, RoundRobinHandle};

impl Engine {
    /// A round-robin handle for `key` (RoundRobinHandle in Node): accept on
    /// `sock` if given (a copy of the socket JS listened on), with the
    /// scheduler of `policy`.
    pub(crate) fn listen(&self, key: &str, sock: Option<OwnedFd>, policy: u32) -> io::Result<()> {
        let key: Rc<str> = key.into();
        let listener = match (sock, self.event_loop) {
            (Some(sock), Some(event_loop)) => {
                let (me, at) = (self.me.clone(), key.clone());
                Some(Listener::new(event_loop, sock, move || {
                    if let Some(engine) = me.upgrade() {
                        engine.accept(&at);
                    }
                })?)
            }
            _ => None,
        };
        self.state
            .borrow_mut()
            .handles
            .insert(key, RoundRobinHandle::new(policy, listener));
        Ok(())
    }

    /// The listener is readable, or a timer of its ran: accept, or leave it
    /// to the workers while they accept for themselves (accept_share.rs).
    fn accept(&self, key: &Rc<str>) {
        let mut st = self.state.borrow_mut();
        let share_at = st.share_at;
        let Some(h) = st.handles.get_mut(key) else {
            return;
        };
        let now = now_ms();
        let window_over = now.saturating_sub(h.window_start) >= WINDOW_MS;
        let mut changed = false;
        if let Some(share) = h.share.as_ref().filter(|s| !s.is_empty() && h.busy) {
            let total = share.total();
            let fresh = share.counters().looked_within(now, STALL_MS);
            if window_over {
                h.busy = share_next(true, total.saturating_sub(h.window_count), share_at);
                changed = !h.busy;
                (h.window_start, h.window_count) = (now, if h.busy { total } else { 0 });
            }
            if h.busy && fresh {
                // The workers take what waits; the primary looks again
                // later. Workers that stopped looking (all busy in their
                // own code) leave it to the primary meanwhile.
                if let Some(listener) = h.listener.as_ref() {
                    listener.rest(STALL_MS);
                }
                return;
            }
        } else if window_over {
            let next = share_next(h.busy, h.window_count, share_at);
            changed = next != h.busy;
            (h.busy, h.window_start, h.window_count) = (next, now, 0);
        }
        if changed {
            st.share(key);
        }
        let Some(h) = st.handles.get_mut(key) else {
            return;
        };
        let workers_accept = h.busy && h.share.as_ref().is_some_and(|s| !s.is_empty());
        if let Some(listener) = h.listener.as_ref() {
            listener.tick(if workers_accept { WINDOW_MS } else { 0 });
        }
        let n = h.accept();
        if !workers_accept {
            h.window_count += n;
        }
        st.pump(key);
    }

    /// A connection JS accepted for `key` (a Unix socket server).
    pub(crate) fn connection(&self, key: &str, fd: OwnedFd) {
        let mut st = self.state.borrow_mut();
        let Some(key) = st.key(key) else {
            return;
        };
        if let Some(h) = st.handles.get_mut(&key) {
            h.push(fd);
        }
        st.pump(&key);
    }

    /// `handle.add(worker)`, once the worker has its answer.
    pub(crate) fn add_worker(&self, key: &str, worker: u32) {
        let mut st = self.state.borrow_mut();
        let Some(key) = st.key(key) else {
            return;
        };
        if !st.workers.contains_key(&worker) {
            return;
        }
        if let Some(h) = st.handles.get_mut(&key) {
            h.sched.add(worker);
            h.sched.ready(worker);
        }
        st.share(&key);
        st.pump(&key);
    }

    /// `handle.remove(worker)`: no more connections for it; what it was
    /// handed and did not answer goes to the others.
    pub(crate) fn remove_worker(&self, key: &str, worker: u32) {
        let mut st = self.state.borrow_mut();
        let Some(key) = st.key(key) else {
            return;
        };
        st.leave(&key, worker);
        st.pump(&key);
    }

    /// The descriptor of the socket the handle `key` accepts on, if it has
    /// one of its own: a primary upgrading itself passes it to the new one
    /// (lib/supervisor/upgrade.js), which inherits a copy.
    pub(crate) fn listener_fd(&self, key: &str) -> Option<RawFd> {
        let st = self.state.borrow();
        st.handles.get(key)?.listener.as_ref().map(Listener::raw_fd)
    }

    /// The handle's last worker left: close it. Connections still waiting
    /// are closed with it, as in Node.
    pub(crate) fn close_handle(&self, key: &str) {
        let mut st = self.state.borrow_mut();
        let Some(mut h) = st.handles.remove(key) else {
            return;
        };
        // Workers still accepting for it close their copies first.
        if let Some(share) = h.share.as_mut() {
            for w in share.workers() {
                super::share::stop(share, w, st.workers.get(&w));
            }
        }
    }

    /// `worker` is being disconnected. Where it is the last worker of a
    /// handle the primary accepts on, the handle is about to close: instead
    /// of resetting the connections it still holds (and those in the
    /// kernel's accept queue), hand them all to this worker over its IPC
    /// channel, ahead of its `disconnect` message. Its server is still open
    /// when it reads them, so it accepts them and answers them before it
    /// exits.
    pub(crate) fn hand_over_leftovers(&self, worker: u32) {
        let mut st = self.state.borrow_mut();
        let mut handoffs = Vec::new();
        for (key, h) in st.handles.iter_mut() {
            if h.sched.workers() != [worker] {
                continue;
            }
            h.accept();
            handoffs.extend(h.sched.drain().into_iter().map(|conn| (key.clone(), conn)));
        }
        for (key, conn) in handoffs {
            st.send_newconn(&key, worker, conn);
        }
    }

    /// `worker`'s own SO_REUSEPORT socket for `key` (made on first asking,
    /// or `inherited`: one an upgrade's old primary had in the group).
    pub(crate) fn reuseport_socket(
        &self,
        key: &str,
        address: Address,
        worker: u32,
        inherited: Option<OwnedFd>,
    ) -> io::Result<RawFd> {
        let mut st = self.state.borrow_mut();
        let group = st
            .groups
            .entry(key.into())
            .or_insert_with(|| ReusePortGroup::new(address));
        group.socket_for(worker, inherited)
    }

    /// `worker` is done with its reuseport socket: what waits in its accept
    /// queue goes to the handle's other workers (the handle `key` JS made
    /// with `listen(key, None, SCHED_RR)`).
    pub(crate) fn reuseport_release(&self, key: &str, worker: u32) {
        let mut st = self.state.borrow_mut();
        let Some(group) = st.groups.get_mut(key) else {
            return;
        };
        let queued = group.release(worker);
        let Some(key) = st.key(key) else {
            return;
        };
        if let Some(h) = st.handles.get_mut(&key) {
            for conn in queued {
                h.sched.push(conn, Some(worker));
            }
        }
        st.pump(&key);
    }

    pub(crate) fn reuseport_close(&self, key: &str) {
        self.state.borrow_mut().groups.remove(key);
    }
}
