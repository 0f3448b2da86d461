//! What the user sees on stderr: request lines, denials with their fix, and error chains.

use std::io::Write;
use wasmgate::{Cancellation, Decision, EventSink, RequestEvent, RunEnd};

/// Prints denials and failures always, and one line per request with `-v`.
pub(crate) struct StderrReporter {
    pub(crate) verbose: bool,
}

impl EventSink for StderrReporter {
    fn on_request(&self, e: &RequestEvent) {
        // Requests the end of the run cancelled get one line for all (`on_run_end`);
        // each still has its own audit record.
        let cancellation = e.error.as_ref().and_then(|err| err.cancellation());
        if cancellation.is_some_and(Cancellation::at_run_end) {
            return;
        }
        let line = match (&e.error, self.verbose) {
            (Some(err), false) => format!("wasmgate: {err}"),
            (Some(err), true) => format!("wasmgate: {}", with_details(&err.to_string(), e)),
            (None, true) => format!(
                "wasmgate: {} {} {} -> {}, {} B in, {} B out, {} ms{}{}",
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
                    .unwrap_or_default(),
                egress_details(e)
            ),
            (None, false) => return,
        };
        // Under `serve`: which incoming request's handler made it.
        let line = match &e.incoming {
            Some(incoming) => line.replacen("wasmgate: ", &format!("wasmgate: [{incoming}] "), 1),
            None => line,
        };
        write_line(&line);
    }

    fn on_run_end(&self, end: &RunEnd) {
        write_line(&run_end_line(end));
    }
}

/// ` (via proxy P, injected authorization, replacing the guest's x-api-key)`: header
/// names only, never values.
fn egress_details(e: &RequestEvent) -> String {
    let mut parts = Vec::new();
    if let Some(proxy) = &e.proxy {
        parts.push(format!("via proxy {proxy}"));
    }
    if !e.injected.is_empty() {
        parts.push(format!("injected {}", e.injected.join(", ")));
    }
    if !e.replaced.is_empty() {
        parts.push(format!("replacing the guest's {}", e.replaced.join(", ")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// One write per line, so it does not interleave with other writers.
fn write_line(line: &str) {
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{line}\n").as_bytes());
}

/// `wasmgate: 1000 requests were still open when the guest exited; they were cancelled`;
/// under `serve`, `wasmgate: [GET /x #3] 1 outbound request was still open when the
/// handler ended; it was closed (cancelled in flight, or its response body dropped
/// unread)`.
fn run_end_line(end: &RunEnd) -> String {
    let n = end.cancelled;
    let (one, many) = match &end.incoming {
        None => ("request was", "requests were"),
        Some(_) => ("outbound request was", "outbound requests were"),
    };
    let count = if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    };
    let it = if n == 1 { "it was" } else { "they were" };
    match (&end.incoming, end.cause) {
        (None, Cancellation::TimedOut) => {
            format!("wasmgate: {count} still open when --timeout fired; {it} cancelled")
        }
        (None, _) => format!("wasmgate: {count} still open when the guest exited; {it} cancelled"),
        (Some(incoming), cause) => {
            let when = if cause == Cancellation::TimedOut {
                "--request-timeout fired"
            } else {
                "the handler ended"
            };
            format!(
                "wasmgate: [{incoming}] {count} still open when {when}; {it} closed (cancelled in flight, or the response body dropped unread)"
            )
        }
    }
}

/// Adds `-v`'s details to a denial or failure message as ` (…)` before the
/// clause that suggests a flag, so the suggestion still ends the line and can
/// be pasted as it is: `… not /x (0 ms); to allow it, add: --allow 'GET http://h/x'`.
fn with_details(message: &str, e: &RequestEvent) -> String {
    let mut details = Vec::new();
    if e.decision == Decision::Allowed {
        details.push("allowed, then failed".to_string());
    }
    if let Some(status) = e.status {
        details.push(format!("status {status}"));
    }
    if let Some(proxy) = &e.proxy {
        details.push(format!("via proxy {proxy}"));
    }
    details.push(format!("{} ms", e.duration.as_millis()));
    let details = format!(" ({})", details.join(", "));
    let (body, fix) = split_fix(message);
    format!("{body}{details}{fix}")
}

/// Splits off the last `; …` clause when it names a flag (`; to allow it, add:
/// --allow …`, `; raise it with --max-requests …`). Suggested rules contain no
/// `"; "`: paths have no spaces, and methods and hosts no `;`.
fn split_fix(message: &str) -> (&str, &str) {
    match message.rfind("; ") {
        Some(at) if message[at..].contains(" --") => message.split_at(at),
        _ => (message, ""),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};
    use wasmgate::Origin;

    fn event(decision: Decision, status: Option<u16>) -> RequestEvent {
        RequestEvent {
            started: SystemTime::UNIX_EPOCH,
            origin: Origin::WasiHttp,
            method: "GET".into(),
            url: "http://h/x".into(),
            decision,
            rule: None,
            addr: None,
            status,
            bytes_in: 0,
            bytes_out: 0,
            duration: Duration::from_millis(7),
            error: None,
            incoming: None,
            proxy: None,
            injected: Vec::new(),
            replaced: Vec::new(),
        }
    }

    #[test]
    fn run_end_is_one_line_with_a_count() {
        let table: &[(Cancellation, u64, Option<&str>, &str)] = &[
            (
                Cancellation::GuestExited,
                1000,
                None,
                "wasmgate: 1000 requests were still open when the guest exited; they were cancelled",
            ),
            (
                Cancellation::TimedOut,
                1,
                None,
                "wasmgate: 1 request was still open when --timeout fired; it was cancelled",
            ),
            (
                Cancellation::GuestExited,
                1,
                Some("GET /x #3"),
                "wasmgate: [GET /x #3] 1 outbound request was still open when the handler ended; it was closed (cancelled in flight, or the response body dropped unread)",
            ),
            (
                Cancellation::TimedOut,
                2,
                Some("POST /y #9"),
                "wasmgate: [POST /y #9] 2 outbound requests were still open when --request-timeout fired; they were closed (cancelled in flight, or the response body dropped unread)",
            ),
        ];
        for (cause, cancelled, incoming, want) in table {
            let end = RunEnd {
                cause: *cause,
                cancelled: *cancelled,
                incoming: incoming.map(str::to_string),
            };
            assert_eq!(run_end_line(&end), *want);
        }
    }

    #[test]
    fn details_go_before_the_suggested_flag() {
        let denied = event(Decision::Denied, None);
        let failed = event(Decision::Allowed, Some(502));
        let table: &[(&str, &RequestEvent, &str)] = &[
            (
                "denied GET http://h/x: no rule; to allow it, add: --allow 'GET http://h/x'",
                &denied,
                "denied GET http://h/x: no rule (7 ms); to allow it, add: --allow 'GET http://h/x'",
            ),
            (
                "denied GET http://h/x: address 127.0.0.1 is loopback; to allow it, add: --allow-cidr 127.0.0.1/32",
                &denied,
                "denied GET http://h/x: address 127.0.0.1 is loopback (7 ms); to allow it, add: --allow-cidr 127.0.0.1/32",
            ),
            (
                "GET http://h/x stopped: limit reached; raise it with --first-byte-timeout (or `first_byte_timeout` in the config file)",
                &failed,
                "GET http://h/x stopped: limit reached (allowed, then failed, status 502, 7 ms); raise it with --first-byte-timeout (or `first_byte_timeout` in the config file)",
            ),
            (
                "GET http://h/x failed: refused; not a flag",
                &failed,
                "GET http://h/x failed: refused; not a flag (allowed, then failed, status 502, 7 ms)",
            ),
            (
                "GET http://h/x failed: refused",
                &denied,
                "GET http://h/x failed: refused (7 ms)",
            ),
        ];
        for (message, e, want) in table {
            assert_eq!(with_details(message, e), *want);
        }
    }
}
