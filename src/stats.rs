//! Per-worker connection counters, shared between the I/O thread (which
//! counts) and the JS thread (which reads them through `connectionStats()`).
//! Counting is a relaxed atomic add: no lock on the connection path.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One worker's counters.
#[derive(Debug, Default)]
pub struct WorkerCounters {
    /// Connections the primary handed to the worker and the worker accepted.
    handed: AtomicU64,
    /// Of those, how many the worker has reported closed (a running total).
    closed: AtomicU64,
    /// Whether the worker's agent reports closes at all.
    reporting: AtomicBool,
}

impl WorkerCounters {
    pub fn add_handed(&self) {
        self.handed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn handed(&self) -> u64 {
        self.handed.load(Ordering::Relaxed)
    }

    /// The worker's running total of closed connections.
    pub fn report_closed(&self, total: u64) {
        self.closed.store(total, Ordering::Relaxed);
        self.reporting.store(true, Ordering::Relaxed);
    }

    pub fn is_reporting(&self) -> bool {
        self.reporting.load(Ordering::Relaxed)
    }

    /// Handed and not yet closed; `None` when the worker does not report.
    pub fn open(&self) -> Option<u64> {
        self.is_reporting().then(|| {
            self.handed()
                .saturating_sub(self.closed.load(Ordering::Relaxed))
        })
    }
}

/// One row of `connectionStats()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub worker: u32,
    pub handed: u64,
    pub open: Option<u64>,
}

/// The counters of every worker whose channel is open, by worker id.
#[derive(Clone, Default)]
pub struct ConnectionStats {
    workers: Arc<Mutex<BTreeMap<u32, Arc<WorkerCounters>>>>,
}

impl ConnectionStats {
    /// Fresh counters for a worker whose channel just opened.
    pub fn register(&self, worker: u32) -> Arc<WorkerCounters> {
        let counters = Arc::new(WorkerCounters::default());
        if let Ok(mut workers) = self.workers.lock() {
            workers.insert(worker, counters.clone());
        }
        counters
    }

    /// The worker's channel closed: it no longer appears.
    pub fn remove(&self, worker: u32) {
        if let Ok(mut workers) = self.workers.lock() {
            workers.remove(&worker);
        }
    }

    /// Every live worker's counters, by id.
    pub fn snapshot(&self) -> Vec<Snapshot> {
        let Ok(workers) = self.workers.lock() else {
            return Vec::new();
        };
        workers
            .iter()
            .map(|(&worker, c)| Snapshot {
                worker,
                handed: c.handed(),
                open: c.open(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_is_unknown_until_the_worker_reports() {
        let stats = ConnectionStats::default();
        let w = stats.register(3);
        w.add_handed();
        w.add_handed();
        assert_eq!(
            stats.snapshot(),
            vec![Snapshot {
                worker: 3,
                handed: 2,
                open: None
            }]
        );
        w.report_closed(1);
        assert_eq!(stats.snapshot()[0].open, Some(1));
        // A worker that counts more closes than it was handed never shows
        // a negative number.
        w.report_closed(5);
        assert_eq!(stats.snapshot()[0].open, Some(0));
        stats.remove(3);
        assert!(stats.snapshot().is_empty());
    }
}
