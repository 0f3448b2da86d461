//! Requests of a run whose event has not been reported yet, so a run can wait for the
//! last of them before it returns: a request the guest dropped just before exiting is
//! reported when the runtime drops its task, which may be a moment after the guest's
//! last instruction. Without the wait its event (audit record, stderr line) could be lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// The count of unreported requests of one client.
#[derive(Default)]
pub(crate) struct Pending {
    count: AtomicUsize,
    idle: Notify,
}

/// Held by a request's event record; dropping it (after the report) counts it out.
pub(crate) struct PendingGuard(Arc<Pending>);

impl Pending {
    pub(crate) fn enter(self: &Arc<Self>) -> PendingGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        PendingGuard(self.clone())
    }

    /// Waits until every request has been reported, at most `max`.
    pub(crate) async fn wait_idle(&self, max: Duration) {
        let _ = tokio::time::timeout(max, async {
            loop {
                let notified = self.idle.notified();
                tokio::pin!(notified);
                // Registered before the check, so a report in between is not missed.
                notified.as_mut().enable();
                if self.count.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
