//! JSON-lines files (the audit log of requests and the access log of `serve`): one
//! object per line, each written and flushed at once.

use std::io::Write;
use std::sync::Mutex;

/// A writer of JSON lines that never fails its caller: a log that cannot be written must
/// not take the guest or the server down, so the first failure is kept for the embedder
/// to report ([`JsonLines::write_error`]) and later lines are still attempted.
pub(crate) struct JsonLines<W: Write + Send> {
    pub(crate) out: Mutex<W>,
    failure: Mutex<Option<String>>,
}

impl<W: Write + Send> JsonLines<W> {
    pub(crate) fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
            failure: Mutex::new(None),
        }
    }

    /// Writes `value` and a newline, then flushes.
    pub(crate) fn write(&self, value: &serde_json::Value) {
        let line = format!("{value}\n");
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
            failure.get_or_insert_with(|| e.to_string());
        }
    }

    /// The first write error, if any line could not be written.
    pub(crate) fn write_error(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
