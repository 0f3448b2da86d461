//! One record per incoming request (`-v` lines, `--access-log` JSON lines), handed to
//! subscribers the way request events are.

use crate::jsonl::JsonLines;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One incoming request, recorded when its response is over (body sent, failed, or
/// the client went away).
#[derive(Debug, Clone)]
pub struct AccessRecord {
    /// When the request arrived.
    pub time: SystemTime,
    /// The server's number for it (from 1), as in [`crate::RequestEvent::incoming`].
    pub id: u64,
    /// Request method.
    pub method: String,
    /// Request path (without the query: queries can carry secrets).
    pub path: String,
    /// The status sent (or that was to be sent when the client left).
    pub status: u16,
    /// Response body bytes sent.
    pub bytes: u64,
    /// From arrival to the end of the response.
    pub duration: Duration,
    /// Outbound requests the handler made (allowed or not).
    pub outbound: u64,
    /// What went wrong, if anything: the fault behind a 5xx/413/503, a body that broke
    /// off, a client that disconnected. One line that names the cause.
    pub error: Option<String>,
}

impl AccessRecord {
    /// `METHOD PATH #N`: how the record and the request's outbound events name it.
    pub fn label(&self) -> String {
        format!("{} {} #{}", self.method, self.path, self.id)
    }

    /// The record as one JSON object (the `--access-log` line format, docs/serve.md).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "time_unix_ms": self.time.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64,
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "bytes": self.bytes,
            "duration_ms": self.duration.as_micros() as f64 / 1000.0,
            "outbound": self.outbound,
            "error": self.error,
        })
    }
}

/// A subscriber to access records. Called on the request path: keep it quick.
pub trait AccessSink: Send + Sync {
    /// Receives one finished incoming request.
    fn on_access(&self, record: &AccessRecord);
}

/// Writes one JSON object per incoming request (the `--access-log` file).
pub struct JsonlAccessLog<W: Write + Send>(JsonLines<W>);

impl<W: Write + Send> JsonlAccessLog<W> {
    /// Wraps a writer; each record is written and flushed as one line.
    pub fn new(out: W) -> Self {
        Self(JsonLines::new(out))
    }

    /// The first write error, if a line could not be written (a full disk must not take
    /// the server down).
    pub fn write_error(&self) -> Option<String> {
        self.0.write_error()
    }
}

impl<W: Write + Send> AccessSink for JsonlAccessLog<W> {
    fn on_access(&self, record: &AccessRecord) {
        self.0.write(&record.to_json());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lines_are_json_with_every_field() {
        let log = JsonlAccessLog::new(Vec::new());
        log.on_access(&AccessRecord {
            time: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000),
            id: 3,
            method: "POST".into(),
            path: "/a".into(),
            status: 504,
            bytes: 12,
            duration: Duration::from_micros(2500),
            outbound: 2,
            error: Some("timeout".into()),
        });
        let out = String::from_utf8(log.0.out.lock().unwrap().clone()).unwrap();
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["time_unix_ms"], 1_700_000_000_000u64);
        assert_eq!(v["status"], 504);
        assert_eq!(v["duration_ms"], 2.5);
        assert_eq!(v["outbound"], 2);
        assert_eq!(v["error"], "timeout");
        assert_eq!(out.lines().count(), 1);
    }
}
