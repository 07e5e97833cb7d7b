//! What the engine keeps of one worker, after Node's `worker.js`: its
//! channels and its connection counters.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use crate::channel::Channel;
use crate::conn_channel::ConnChannel;

pub(crate) struct Worker {
    pub(crate) channel: Rc<Channel>,
    /// Its connection channel, once its agent asked for one.
    pub(crate) conns: Option<Rc<ConnChannel>>,
    /// Connections the primary handed over and the worker took.
    handed: Cell<u64>,
    /// Of those, how many the worker's agent says it has closed (a running
    /// total), once it reports at all.
    closed: Cell<Option<u64>>,
    /// Connections handed over Node's protocol and not yet answered.
    newconns: Cell<usize>,
    /// Already reported as sitting on a handed connection.
    pub(crate) reported_unresponsive: Cell<bool>,
    /// The handle key of each server id it registered, kept while it lives:
    /// a connection it returns may come after its server left the handle.
    server_keys: RefCell<HashMap<u32, Rc<str>>>,
}

impl Worker {
    pub(crate) fn new(channel: Rc<Channel>) -> Self {
        Worker {
            channel,
            conns: None,
            handed: Cell::new(0),
            closed: Cell::new(None),
            newconns: Cell::new(0),
            reported_unresponsive: Cell::new(false),
            server_keys: RefCell::new(HashMap::new()),
        }
    }

    pub(crate) fn remember_server(&self, id: u32, key: Rc<str>) {
        self.server_keys.borrow_mut().insert(id, key);
    }

    pub(crate) fn server_key(&self, id: u32) -> Option<Rc<str>> {
        self.server_keys.borrow().get(&id).cloned()
    }

    /// Connections it accepted itself, counted as handed once it stops.
    pub(crate) fn add_taken(&self, n: u64) {
        self.handed.set(self.handed.get() + n);
    }

    /// One it accepted itself and counted, then gave back.
    pub(crate) fn remove_taken(&self, n: u64) {
        self.handed.set(self.handed.get().saturating_sub(n));
    }

    pub(crate) fn add_handed(&self) {
        self.handed.set(self.handed.get() + 1);
    }

    pub(crate) fn handed(&self) -> u64 {
        self.handed.get()
    }

    pub(crate) fn report_closed(&self, total: u64) {
        self.closed.set(Some(total));
    }

    /// Handed and not yet closed; `None` when the worker does not report.
    pub(crate) fn open(&self) -> Option<u64> {
        self.open_with(0)
    }

    /// The same, with `taken` accepted by itself and not yet counted.
    pub(crate) fn open_with(&self, taken: u64) -> Option<u64> {
        let closed = self.closed.get()?;
        Some((self.handed.get() + taken).saturating_sub(closed))
    }

    /// Connections it holds unanswered over Node's protocol.
    pub(crate) fn newconns(&self) -> usize {
        self.newconns.get()
    }

    /// One more (`sent`) or one fewer of them.
    pub(crate) fn count_newconn(&self, sent: bool) {
        let n = self.newconns.get();
        self.newconns
            .set(if sent { n + 1 } else { n.saturating_sub(1) });
    }

    /// Connections it holds unanswered on its connection channel.
    pub(crate) fn outstanding(&self) -> usize {
        self.conns.as_ref().map_or(0, |c| c.outstanding())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::framing::Mode;
    use crate::channel::tests::{socket_pair, Recorder};
    use crate::channel::ChannelEvents;
    use std::rc::Weak;

    #[test]
    fn open_is_unknown_until_the_worker_reports() {
        let (ours, _theirs) = socket_pair();
        let recorder: Rc<dyn ChannelEvents> = Rc::new(Recorder::default());
        let weak: Weak<dyn ChannelEvents> = Rc::downgrade(&recorder);
        let channel = Channel::open(None, 3, ours, Mode::Json, 1024, weak).expect("open");
        let w = Worker::new(channel);
        w.add_handed();
        w.add_handed();
        assert_eq!((w.handed(), w.open()), (2, None));
        w.report_closed(1);
        assert_eq!(w.open(), Some(1));
        // A worker that counts more closes than it was handed never shows a
        // negative number.
        w.report_closed(5);
        assert_eq!(w.open(), Some(0));
    }
}
