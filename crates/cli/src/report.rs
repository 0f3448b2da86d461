//! What the user sees on stderr: request lines, denials with their fix, and error chains.

use std::io::Write;
use wasmgate::{Decision, EventSink, RequestEvent};

/// Prints denials and failures always, and one line per request with `-v`.
pub(crate) struct StderrReporter {
    pub(crate) verbose: bool,
}

impl EventSink for StderrReporter {
    fn on_request(&self, e: &RequestEvent) {
        let line = match (&e.error, self.verbose) {
            (Some(err), _) => format!("wasmgate: {err}"),
            (None, true) => format!(
                "wasmgate: {} {} {} -> {}, {} B in, {} B out, {} ms{}",
                e.decision,
                e.method,
                e.url,
                e.status.map_or_else(|| "-".to_string(), |s| s.to_string()),
                e.bytes_in,
                e.bytes_out,
                e.duration.as_millis(),
                e.rule
                    .as_ref()
                    .map(|r| format!(" (rule {r})"))
                    .unwrap_or_default()
            ),
            (None, false) => return,
        };
        let line = if self.verbose && e.error.is_some() {
            let status = e
                .status
                .map(|s| format!(", status {s}"))
                .unwrap_or_default();
            let tag = match e.decision {
                Decision::Denied => "",
                Decision::Allowed => " (allowed, then failed)",
            };
            format!("{line}{tag}{status}, {} ms", e.duration.as_millis())
        } else {
            line
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// `error: <message>` then one `  caused by: …` line per source.
pub(crate) fn print_error(err: &(dyn std::error::Error + 'static)) {
    let mut out = std::io::stderr().lock();
    let _ = writeln!(out, "error: {err}");
    let mut source = err.source();
    while let Some(s) = source {
        let _ = writeln!(out, "  caused by: {s}");
        source = s.source();
    }
}
