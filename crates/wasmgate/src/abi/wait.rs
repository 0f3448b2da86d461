//! Timeouts of blocking calls (`0` = don't wait, `-1` = as long as needed, `n` = ms).

use super::CoreState;
use super::codes::ERR_INVALID_ARGUMENT;
use super::memory::CallError;
use std::time::Duration;
use tokio::time::Instant;
use wasmtime::Caller;

#[derive(Clone, Copy)]
pub(crate) enum Wait {
    Now,
    Until(Instant),
    Forever,
}

impl Wait {
    pub(crate) fn from_ms(what: &str, ms: i64) -> Result<Self, CallError> {
        match ms {
            0 => Ok(Wait::Now),
            -1 => Ok(Wait::Forever),
            n if n > 0 => Ok(Wait::Until(
                Instant::now() + Duration::from_millis(n as u64),
            )),
            n => Err((
                ERR_INVALID_ARGUMENT,
                format!(
                    "{what}: timeout {n} is invalid; use 0 (don't wait), -1 (wait) or a positive number of ms"
                ),
            )),
        }
    }
}

/// Waits until any request of this guest makes progress; false when the time is up.
pub(crate) async fn wait_for_progress(c: &mut Caller<'_, CoreState>, wait: Wait) -> bool {
    let notify = c.data().abi.notify.clone();
    match wait {
        Wait::Now => false,
        Wait::Forever => {
            notify.notified().await;
            true
        }
        Wait::Until(deadline) => tokio::time::timeout_at(deadline, notify.notified())
            .await
            .is_ok(),
    }
}
