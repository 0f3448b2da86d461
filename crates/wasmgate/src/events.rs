//! Request events: one value per request decision, handed to every subscriber.
//!
//! The `-v` printer, the JSONL audit log (and later recording) are subscribers, so adding
//! one never touches the request path.

use crate::jsonl::JsonLines;
use crate::outbound::OutboundError;
use serde::Serialize;
use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whether the policy let a request leave the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Allowed by a rule; the request was (attempted to be) sent.
    Allowed,
    /// Refused by the policy (URL rules, address check or a limit) before it was sent.
    Denied,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allowed => "allowed",
            Decision::Denied => "denied",
        })
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// A component through `wasi:http/outgoing-handler`.
    WasiHttp,
    /// A core module through the wasmgate host ABI.
    HostAbi,
}

/// One request's decision and outcome, emitted once the request is over
/// (denied, failed, or its response body finished or dropped).
#[derive(Debug, Clone)]
pub struct RequestEvent {
    /// When the guest issued the request.
    pub started: SystemTime,
    /// Which guest interface issued it.
    pub origin: Origin,
    /// Request method as sent by the guest.
    pub method: String,
    /// Canonical request URL.
    pub url: String,
    /// Policy decision.
    pub decision: Decision,
    /// The allow rule that matched, if any.
    pub rule: Option<String>,
    /// The address the request was sent to, if a connection was used.
    pub addr: Option<SocketAddr>,
    /// Response status, if a response head arrived.
    pub status: Option<u16>,
    /// Response body bytes delivered to the guest.
    pub bytes_in: u64,
    /// Request body bytes sent.
    pub bytes_out: u64,
    /// From the request until the event was emitted.
    pub duration: Duration,
    /// What went wrong, if anything.
    pub error: Option<OutboundError>,
    /// Under `serve`: the incoming request whose handler issued it, as
    /// `METHOD PATH #N` (N counts the server's incoming requests from 1). `None` under `run`.
    pub incoming: Option<String>,
    /// The HTTP proxy it went through, as `host:port` (never its credentials).
    pub proxy: Option<String>,
    /// Names of the headers the host injected (docs/egress.md); never their values.
    pub injected: Vec<String>,
    /// Those of [`injected`](Self::injected) that replaced a header the guest had set.
    pub replaced: Vec<String>,
}

impl RequestEvent {
    /// A request as the guest issued it, before anything is decided: denied, nothing
    /// sent, nothing received. The request path fills in the rest as it goes.
    pub(crate) fn issued(origin: Origin, method: &str, url: &str) -> Self {
        Self {
            started: SystemTime::now(),
            origin,
            method: method.to_string(),
            url: url.to_string(),
            decision: Decision::Denied,
            rule: None,
            addr: None,
            status: None,
            bytes_in: 0,
            bytes_out: 0,
            duration: Duration::ZERO,
            error: None,
            incoming: None,
            proxy: None,
            injected: Vec::new(),
            replaced: Vec::new(),
        }
    }

    /// The event as one JSON object (the audit-log line format, see docs/audit-log.md).
    pub fn to_json(&self) -> serde_json::Value {
        let started_ms = self
            .started
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        serde_json::json!({
            "time_unix_ms": started_ms,
            "origin": self.origin,
            "method": self.method,
            "url": self.url,
            "decision": self.decision,
            "rule": self.rule,
            "addr": self.addr.map(|a| a.to_string()),
            "status": self.status,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            // Microsecond precision, printed as milliseconds without float noise.
            "duration_ms": self.duration.as_micros() as f64 / 1000.0,
            "error": self.error.as_ref().map(|e| e.to_string()),
            "error_kind": self.error.as_ref().map(|e| e.kind().as_str()),
            "incoming": self.incoming,
            "proxy": self.proxy,
            "injected": self.injected,
            "replaced": self.replaced,
        })
    }
}

/// A subscriber to request events. Called on the request path: keep it quick.
pub trait EventSink: Send + Sync {
    /// Receives one finished request.
    fn on_request(&self, event: &RequestEvent);

    /// Receives, once at the end of a run and only if there were any, how many requests
    /// were still open when the run ended. Each of them also came to
    /// [`on_request`](Self::on_request), with a [`Cancellation`] saying why.
    fn on_run_end(&self, _end: &RunEnd) {}
}

/// Why a request was cancelled before it completed (error kind `cancelled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cancellation {
    /// The guest dropped (closed) the request while it was in flight.
    ByGuest,
    /// It was still open when the guest exited (returned, called `exit` or trapped).
    GuestExited,
    /// It was still open when the run's `--timeout` fired.
    TimedOut,
}

impl Cancellation {
    /// True for the cancellations the end of a run causes (not the guest's own).
    pub fn at_run_end(self) -> bool {
        self != Cancellation::ByGuest
    }
}

/// Requests still open when a run ended: reported once, with their number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    /// How the run ended: [`Cancellation::GuestExited`] or [`Cancellation::TimedOut`].
    pub cause: Cancellation,
    /// How many requests it cancelled. Under `serve`: how many the handler left open,
    /// whether still in flight (cancelled) or with a response body it never read to
    /// the end (closed unread), all reported after the handler ended.
    pub cancelled: u64,
    /// Under `serve`: the incoming request whose handler left them open, as
    /// `METHOD PATH #N` (as [`RequestEvent::incoming`]). `None` under `run`.
    pub incoming: Option<String>,
}

/// One run's end, as the requests still open then see it.
#[derive(Default)]
struct RunState {
    ending: Mutex<Option<Cancellation>>,
    cancelled_at_end: AtomicU64,
}

/// Fan-out of events to every subscriber.
#[derive(Clone, Default)]
pub struct EventHub {
    sinks: Vec<Arc<dyn EventSink>>,
    run: Arc<RunState>,
    /// Under `serve`: the incoming request this hub's events belong to.
    incoming: Option<Arc<IncomingTag>>,
}

/// The incoming request a `serve` hub stamps on its events, and how many it saw.
struct IncomingTag {
    label: String,
    count: Arc<AtomicU64>,
}

impl EventHub {
    /// Adds a subscriber.
    pub fn subscribe(&mut self, sink: Arc<dyn EventSink>) {
        self.sinks.push(sink);
    }

    /// Hands the event to every subscriber.
    pub fn emit(&self, event: &RequestEvent) {
        if let Some(tag) = &self.incoming
            && event.incoming.is_none()
        {
            tag.count.fetch_add(1, Ordering::Relaxed);
            let tagged = RequestEvent {
                incoming: Some(tag.label.clone()),
                ..event.clone()
            };
            for sink in &self.sinks {
                sink.on_request(&tagged);
            }
            return;
        }
        for sink in &self.sinks {
            sink.on_request(event);
        }
    }

    /// Under `serve`: the incoming request this hub's events are stamped with.
    pub(crate) fn incoming_label(&self) -> Option<&str> {
        self.incoming.as_ref().map(|tag| tag.label.as_str())
    }

    /// The same subscribers with a run end of its own, for one run.
    pub(crate) fn for_run(&self) -> EventHub {
        EventHub {
            sinks: self.sinks.clone(),
            run: Arc::default(),
            incoming: None,
        }
    }

    /// Under `serve`, once a handler's store is gone and its requests are reported:
    /// tells the subscribers how many outbound requests the handler left open (`open`,
    /// counted by the caller as the requests reported after the handler ended), if any.
    pub(crate) fn report_left_open(&self, open: u64) {
        if open == 0 {
            return;
        }
        let cause = self.run.ending.lock().unwrap_or_else(|p| p.into_inner());
        let end = RunEnd {
            cause: cause.unwrap_or(Cancellation::GuestExited),
            cancelled: open,
            incoming: self.incoming.as_ref().map(|t| t.label.clone()),
        };
        drop(cause);
        for sink in &self.sinks {
            sink.on_run_end(&end);
        }
    }

    /// For one incoming request of `serve`: a run of its own whose events carry
    /// `label` ([`RequestEvent::incoming`]) and are counted in `count`.
    pub(crate) fn for_incoming(&self, label: String, count: Arc<AtomicU64>) -> EventHub {
        EventHub {
            sinks: self.sinks.clone(),
            run: Arc::default(),
            incoming: Some(Arc::new(IncomingTag { label, count })),
        }
    }

    /// The run is ending by `cause`: requests dropped unfinished from now on were
    /// cancelled by it, not by the guest. The first cause set stays.
    pub(crate) fn end_run(&self, cause: Cancellation) {
        let mut ending = self.run.ending.lock().unwrap_or_else(|p| p.into_inner());
        ending.get_or_insert(cause);
    }

    /// Why a request dropped unfinished now was cancelled (counting run-end ones).
    pub(crate) fn cancellation(&self) -> Cancellation {
        let ending = *self.run.ending.lock().unwrap_or_else(|p| p.into_inner());
        match ending {
            Some(cause) => {
                self.run.cancelled_at_end.fetch_add(1, Ordering::SeqCst);
                cause
            }
            None => Cancellation::ByGuest,
        }
    }

    /// Once the run's requests are all reported: tells the subscribers how many the
    /// end of the run cancelled, if any.
    pub(crate) fn report_run_end(&self) {
        let Some(cause) = *self.run.ending.lock().unwrap_or_else(|p| p.into_inner()) else {
            return;
        };
        let cancelled = self.run.cancelled_at_end.load(Ordering::SeqCst);
        if cancelled == 0 {
            return;
        }
        let end = RunEnd {
            cause,
            cancelled,
            incoming: self.incoming.as_ref().map(|t| t.label.clone()),
        };
        for sink in &self.sinks {
            sink.on_run_end(&end);
        }
    }
}

/// Writes one JSON object per request to a writer (the `--audit-log` file).
pub struct JsonlAuditLog<W: Write + Send>(JsonLines<W>);

impl<W: Write + Send> JsonlAuditLog<W> {
    /// Wraps a writer; each event is written and flushed as one line.
    pub fn new(out: W) -> Self {
        Self(JsonLines::new(out))
    }

    /// The first write error, if any line could not be written: an incomplete audit
    /// log must not go unnoticed.
    pub fn write_error(&self) -> Option<String> {
        self.0.write_error()
    }
}

impl<W: Write + Send> EventSink for JsonlAuditLog<W> {
    fn on_request(&self, event: &RequestEvent) {
        self.0.write(&event.to_json());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> RequestEvent {
        RequestEvent {
            started: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            origin: Origin::WasiHttp,
            method: "GET".into(),
            url: "http://127.0.0.1:8080/x".into(),
            decision: Decision::Allowed,
            rule: Some("http://127.0.0.1:8080".into()),
            addr: Some("127.0.0.1:8080".parse().unwrap()),
            status: Some(200),
            bytes_in: 5,
            bytes_out: 0,
            duration: Duration::from_micros(1234),
            error: None,
            incoming: None,
            proxy: None,
            injected: Vec::new(),
            replaced: Vec::new(),
        }
    }

    #[test]
    fn audit_lines_are_json_objects_with_every_field() {
        let log = JsonlAuditLog::new(Vec::new());
        log.on_request(&event());
        log.on_request(&event());
        let out = String::from_utf8(log.0.out.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["time_unix_ms"], 1_700_000_000_123u64);
        assert_eq!(v["origin"], "wasi-http");
        assert_eq!(v["decision"], "allowed");
        assert_eq!(v["addr"], "127.0.0.1:8080");
        assert_eq!(v["duration_ms"], 1.234);
        assert!(v["error"].is_null());
        assert!(v["incoming"].is_null());
        assert!(log.write_error().is_none());
    }

    #[test]
    fn a_serve_hub_stamps_and_counts_its_incoming_request() {
        struct Keep(Mutex<Vec<RequestEvent>>);
        impl EventSink for Keep {
            fn on_request(&self, e: &RequestEvent) {
                self.0.lock().unwrap().push(e.clone());
            }
        }
        let keep = Arc::new(Keep(Mutex::new(Vec::new())));
        let mut hub = EventHub::default();
        hub.subscribe(keep.clone());
        let count = Arc::new(AtomicU64::new(0));
        let tagged = hub.for_incoming("GET /a #7".into(), count.clone());
        tagged.emit(&event());
        tagged.emit(&event());
        hub.for_run().emit(&event());
        let seen = keep.0.lock().unwrap();
        assert_eq!(seen[0].incoming.as_deref(), Some("GET /a #7"));
        assert_eq!(seen[0].to_json()["incoming"], "GET /a #7");
        assert_eq!(seen[2].incoming, None);
        assert_eq!(count.load(Ordering::Relaxed), 2);
    }

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("no space left on device"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_audit_log_is_reported_not_fatal() {
        let log = JsonlAuditLog::new(Full);
        log.on_request(&event());
        assert_eq!(
            log.write_error().as_deref(),
            Some("no space left on device")
        );
    }
}
