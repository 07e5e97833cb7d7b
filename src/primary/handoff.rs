//! How connections reach workers, after `distribute` and `handoff` of
//! Node's `round_robin_handle.js`: the scheduler picks a worker, and the
//! connection goes over its connection channel (in one batch per worker) or
//! as Node's `newconn` message; an answered one is settled (taken: our copy
//! closes; refused: another worker gets it).

use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{InFlight, State};
use crate::channel::writer::Outgoing;
use crate::conn_channel::Handed;
use crate::contract::CONN_CHANNEL_WINDOW;
use crate::protocol;
use crate::round_robin_handle::Accepted;

impl State {
    /// The handle map's own copy of `key`.
    pub(super) fn key(&self, key: &str) -> Option<Rc<str>> {
        self.handles.get_key_value(key).map(|(k, _)| k.clone())
    }

    /// `worker` leaves the handle `key`: it gets no more connections, and
    /// what it was handed over its IPC channel and did not answer goes to
    /// the others.
    pub(super) fn leave(&mut self, key: &Rc<str>, worker: u32) {
        let Some(h) = self.handles.get_mut(key) else {
            return;
        };
        h.sched.remove(worker);
        h.conn_servers.remove(&worker);
        let seqs: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.worker == worker && &f.key == key)
            .map(|(&seq, _)| seq)
            .collect();
        for seq in seqs {
            if let Some(f) = self.in_flight.remove(&seq) {
                h.sched.push(f.conn, Some(worker));
                if let Some(w) = self.workers.get(&worker) {
                    w.count_newconn(false);
                }
            }
        }
        self.share(key);
    }

    /// Hand out every connection of `key` that can go now: over the
    /// connection channel to workers that have one for this server, in one
    /// batch per worker; as a `newconn` message to the others.
    pub(super) fn pump(&mut self, key: &Rc<str>) {
        let mut batches: HashMap<u32, Vec<(u32, Handed)>> = HashMap::new();
        loop {
            let State {
                handles, workers, ..
            } = &mut *self;
            let Some(h) = handles.get_mut(key) else {
                break;
            };
            let window = h.newconn_window();
            let loads = |w: u32| {
                let worker = workers.get(&w)?;
                Some(worker.open()? + (worker.outstanding() + worker.newconns()) as u64)
            };
            let Some((worker, conn)) = h.sched.next(&loads) else {
                break;
            };
            let Some(w) = workers.get(&worker) else {
                // The worker vanished without its channel closing first:
                // drop it from the handle and give the connection to
                // someone else.
                h.sched.remove(worker);
                h.sched.push(conn, None);
                continue;
            };
            let conns = w.conns.as_ref().filter(|c| c.is_open());
            match (h.conn_servers.get(&worker), conns) {
                (Some(&id), Some(conns)) => {
                    let batch = batches.entry(worker).or_default();
                    batch.push((
                        id,
                        Handed {
                            key: key.clone(),
                            conn,
                            sent: Instant::now(),
                        },
                    ));
                    if conns.outstanding() + batch.len() < CONN_CHANNEL_WINDOW {
                        h.sched.ready(worker);
                    }
                }
                _ => {
                    self.send_newconn(key, worker, conn);
                    let room = self
                        .workers
                        .get(&worker)
                        .is_some_and(|w| w.newconns() < window);
                    if let Some(h) = self.handles.get_mut(key).filter(|_| room) {
                        h.sched.ready(worker);
                    }
                }
            }
        }
        for (worker, batch) in batches {
            if let Some(conns) = self.workers.get(&worker).and_then(|w| w.conns.clone()) {
                conns.hand(batch);
            }
        }
    }

    /// Node's way: `{ act: 'newconn', key }` with the descriptor, over the
    /// IPC channel; the worker answers `accepted`.
    pub(super) fn send_newconn(&mut self, key: &Rc<str>, worker: u32, conn: Accepted) {
        let Some(w) = self.workers.get(&worker) else {
            return;
        };
        let seq = self.seq;
        self.seq += 1;
        let bytes = protocol::newconn_frame(w.channel.mode(), key, seq);
        w.channel.send(Outgoing::newconn(bytes, conn.fd.clone()));
        w.count_newconn(true);
        self.in_flight.insert(
            seq,
            InFlight {
                key: key.clone(),
                worker,
                conn,
                sent: Instant::now(),
            },
        );
    }

    /// A connection `worker` answered: taken (our copy closes as it drops)
    /// or refused (another worker gets it).
    pub(super) fn settle(&mut self, key: &Rc<str>, worker: u32, conn: Accepted, taken: bool) {
        if taken {
            if let Some(w) = self.workers.get(&worker) {
                w.add_handed();
            }
            return;
        }
        if let Some(h) = self.handles.get_mut(key) {
            h.sched.push(conn, Some(worker));
        }
    }

    /// Workers holding a handed connection for longer than `timeout`, each
    /// reported once.
    pub(super) fn stuck_workers(&self, timeout: Duration) -> Vec<u32> {
        let over = |sent: Instant| sent.elapsed() > timeout;
        let mut stuck: Vec<u32> = self
            .in_flight
            .values()
            .filter(|f| over(f.sent))
            .map(|f| f.worker)
            .chain(self.workers.iter().filter_map(|(&id, w)| {
                let oldest = w.conns.as_ref()?.oldest()?;
                over(oldest).then_some(id)
            }))
            .collect();
        stuck.sort_unstable();
        stuck.dedup();
        stuck.retain(|w| match self.workers.get(w) {
            Some(worker) => !worker.reported_unresponsive.replace(true),
            None => false,
        });
        stuck
    }
}
