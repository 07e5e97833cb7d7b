//! The workers the primary knows, by id, and what Rust needs of each: its
//! channel, its serialization mode, and whether it is leaving on purpose.

use std::collections::HashMap;
use std::sync::Arc;

use crate::channel::framing::Mode;
use crate::channel::Channel;
use crate::stats::WorkerCounters;

pub struct WorkerEntry {
    pub channel: Channel,
    pub mode: Mode,
    /// Set by `worker.disconnect()` or the worker's `exitedAfterDisconnect`
    /// message; a leaving worker gets no new server handles.
    pub exited_after_disconnect: bool,
    /// Already reported as sitting on a handed connection.
    pub reported_unresponsive: bool,
    /// Connections handed and closed, shared with `connectionStats()`.
    pub counters: Arc<WorkerCounters>,
}

#[derive(Default)]
pub struct Registry {
    workers: HashMap<u32, WorkerEntry>,
}

impl Registry {
    pub fn insert(&mut self, id: u32, entry: WorkerEntry) {
        self.workers.insert(id, entry);
    }

    pub fn get(&self, id: u32) -> Option<&WorkerEntry> {
        self.workers.get(&id)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut WorkerEntry> {
        self.workers.get_mut(&id)
    }

    pub fn remove(&mut self, id: u32) -> Option<WorkerEntry> {
        self.workers.remove(&id)
    }

    pub fn len(&self) -> usize {
        self.workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    pub fn ids(&self) -> Vec<u32> {
        self.workers.keys().copied().collect()
    }
}
