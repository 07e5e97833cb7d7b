//! What a worker's channel has read for JS that JS has not taken yet.
//!
//! Node's primary reads a channel on its JS thread, so a worker that sends
//! faster than the primary's JS handles messages is held back by the socket:
//! the excess waits in the worker (its `process.send` queue), never in the
//! primary. Our reader runs on the I/O thread and would read on regardless,
//! piling the messages up in the primary. So the reader stops reading a
//! worker whose backlog is over `HIGH_WATER` and goes on once JS has taken it
//! down to `LOW_WATER`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Bytes of one worker's messages waiting for JS before its reader stops.
pub const HIGH_WATER: usize = 1024 * 1024;
/// Its reader goes on when JS has taken the backlog down to this.
pub const LOW_WATER: usize = HIGH_WATER / 4;

#[derive(Default)]
pub struct Backlog {
    bytes: AtomicUsize,
    drained: Notify,
}

impl Backlog {
    /// Count `bytes` read for JS until the returned credit is dropped (when
    /// JS takes the message, or when it is discarded).
    pub fn credit(self: &Arc<Self>, bytes: usize) -> Credit {
        self.bytes.fetch_add(bytes, Ordering::SeqCst);
        Credit {
            backlog: self.clone(),
            bytes,
        }
    }

    pub fn is_over(&self) -> bool {
        self.bytes.load(Ordering::SeqCst) > HIGH_WATER
    }

    /// Return once the backlog is at most `HIGH_WATER`; if it is over, wait
    /// until JS has taken it down to `LOW_WATER`.
    pub async fn wait_room(&self) {
        // A notification stored while nobody waited only costs one more
        // look; none is lost, as Notify keeps a permit for the next waiter.
        while self.is_over() {
            self.drained.notified().await;
        }
    }
}

/// Bytes of one message counted in its worker's backlog.
pub struct Credit {
    backlog: Arc<Backlog>,
    bytes: usize,
}

impl Drop for Credit {
    fn drop(&mut self) {
        let before = self.backlog.bytes.fetch_sub(self.bytes, Ordering::SeqCst);
        if before > LOW_WATER && before - self.bytes <= LOW_WATER {
            self.backlog.drained.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_reader_over_the_high_water_mark_waits_until_js_takes_enough() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let backlog = Arc::new(Backlog::default());
            let mut credits: Vec<Credit> = (0..5).map(|_| backlog.credit(HIGH_WATER / 4)).collect();
            assert!(backlog.is_over());
            let waiting = {
                let backlog = backlog.clone();
                tokio::spawn(async move { backlog.wait_room().await })
            };
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!waiting.is_finished(), "went on while over the mark");

            // Down to exactly the high-water mark: not low enough yet.
            credits.pop();
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!waiting.is_finished(), "went on above the low-water mark");

            // JS takes them from another thread, as take_events does.
            std::thread::spawn(move || drop(credits))
                .join()
                .expect("drop");
            tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .expect("the reader was not woken")
                .expect("task");
            assert!(!backlog.is_over());
        });
    }

    #[test]
    fn an_empty_backlog_never_waits() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let backlog = Arc::new(Backlog::default());
        drop(backlog.credit(HIGH_WATER));
        runtime.block_on(backlog.wait_room());
    }
}
