//! Which round-robin handles the workers accept for themselves
//! (accept_share.rs): those of `SCHED_RR` with a socket of ours whose every
//! worker takes connections over a connection channel, while new
//! connections come fast enough. Anything else (a low rate, a plain worker
//! among them, a worker whose channel ended) gives the accepting back to
//! the primary, as before.

use std::rc::Rc;

use super::State;
use crate::accept_share::{AcceptShare, SLOTS};
use crate::contract::SCHED_RR;
use crate::worker::Worker;

impl State {
    /// Let the workers of `key` accept for themselves, or stop them, as the
    /// handle's workers now allow.
    pub(super) fn share(&mut self, key: &Rc<str>) {
        let State {
            handles,
            workers,
            fast_path_workers,
            ..
        } = &mut *self;
        let Some(h) = handles.get_mut(key) else {
            return;
        };
        let Some(listener) = h.listener.as_ref() else {
            return;
        };
        let members = h.sched.workers().to_vec();
        let conns_of = |w: &u32| {
            workers
                .get(w)
                .and_then(|x| x.conns.clone())
                .filter(|c| c.is_open())
        };
        let all = h.busy
            && h.policy == SCHED_RR
            && !members.is_empty()
            && members.len() <= SLOTS.min(*fast_path_workers)
            && members
                .iter()
                .all(|w| h.conn_servers.contains_key(w) && conns_of(w).is_some());
        if all && h.share.is_none() {
            h.share = AcceptShare::new().ok();
        }
        let Some(share) = h.share.as_mut() else {
            return;
        };
        // Stop those that left, or everyone when not all can.
        for w in share.workers() {
            if all && members.contains(&w) {
                continue;
            }
            stop(share, w, workers.get(&w));
        }
        if !all {
            // The page goes with the last worker: no descriptor of it stays
            // open in the primary between busy spells.
            if share.is_empty() {
                h.share = None;
            }
            return;
        }
        for w in members {
            if share.has(w) {
                continue;
            }
            let (Some(&id), Some(conns)) = (h.conn_servers.get(&w), conns_of(&w)) else {
                continue;
            };
            let Ok(copy) = listener.copy() else {
                continue;
            };
            if let Some((slot, tag, page)) = share.grant(w, id) {
                conns.listen(id, slot, tag, copy, page);
            }
        }
    }
}

/// `w` accepts no more for the handle of `share`: what it took counts as
/// handed, and it closes its copy of the socket.
pub(super) fn stop(share: &mut AcceptShare, w: u32, worker: Option<&Worker>) {
    let (Some((id, taken)), Some(worker)) = (share.revoke(w), worker) else {
        return;
    };
    worker.add_taken(taken);
    if let Some(conns) = worker.conns.as_ref().filter(|c| c.is_open()) {
        conns.unlisten(id);
    }
}
