//! Capturing one request while it runs: its head as the guest sent it, bounded copies of
//! both bodies as they stream, the response head; then, when the request is over, one
//! HAR entry built from all that and the request's event.

use super::Recorder;
use super::har::{
    Cache, Content, Entry, NameValue, PostData, Request, Response, Timings, WasmgateFields,
};
use crate::events::{Decision, Origin, RequestEvent};
use crate::outbound::{BodyError, OutboundBody};
use base64::Engine as _;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

/// A bounded copy of a body as it streams past: the first `cap` bytes, and the count of
/// all of them.
pub(crate) struct Tap {
    inner: Mutex<TapBuf>,
}

struct TapBuf {
    kept: Vec<u8>,
    total: u64,
    cap: usize,
}

impl Tap {
    pub(crate) fn new(cap: u64) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(TapBuf {
                kept: Vec::new(),
                total: 0,
                cap: usize::try_from(cap).unwrap_or(usize::MAX),
            }),
        })
    }

    /// Notes bytes that went past; keeps them while under the cap.
    pub(crate) fn push(&self, data: &[u8]) {
        let mut b = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        b.total += data.len() as u64;
        let room = b.cap.saturating_sub(b.kept.len());
        let take = room.min(data.len());
        b.kept.extend_from_slice(&data[..take]);
    }

    /// What was kept, and how many bytes went past in all.
    fn take(&self) -> (Vec<u8>, u64) {
        let mut b = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (std::mem::take(&mut b.kept), b.total)
    }
}

/// The guest's request body with a [`Tap`] on it. The tap sits on the guest's own
/// stream, so a body sent twice (a stale pooled connection) is copied once.
struct TeeBody {
    inner: OutboundBody,
    tap: Arc<Tap>,
}

impl Body for TeeBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let polled = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(frame)) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.tap.push(data);
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The response head as the guest received it.
struct ResponseHead {
    status: u16,
    version: &'static str,
    headers: Vec<NameValue>,
    mime: String,
    location: String,
}

/// One request's recording in progress; becomes an entry when the request is over.
pub(crate) struct Draft {
    recorder: Recorder,
    headers: Vec<NameValue>,
    mime: String,
    request_tap: Arc<Tap>,
    response_tap: Arc<Tap>,
    response: Option<ResponseHead>,
    /// When the response head arrived.
    head_at: Option<Instant>,
    /// How long opening a new connection took (none on a reused one).
    pub(crate) connect: Option<Duration>,
    /// The connection's number within the run.
    pub(crate) connection: Option<u64>,
    /// Answered from a replay file: not written again.
    pub(crate) replayed: bool,
}

impl Draft {
    /// Starts recording a request whose head the guest sent as `headers`: the guest's own
    /// headers, before the host adds or injects any.
    pub(crate) fn new(recorder: &Recorder, headers: &http::HeaderMap) -> Box<Self> {
        let cap = recorder.inner.options.max_body;
        Box::new(Self {
            recorder: recorder.clone(),
            headers: recorder.header_list(headers),
            mime: mime_of(headers),
            request_tap: Tap::new(cap),
            response_tap: Tap::new(cap),
            response: None,
            head_at: None,
            connect: None,
            connection: None,
            replayed: false,
        })
    }

    /// The guest's body, copied into the draft as it is read.
    pub(crate) fn tee(&self, body: OutboundBody) -> OutboundBody {
        TeeBody {
            inner: body,
            tap: self.request_tap.clone(),
        }
        .boxed_unsync()
    }

    /// The tap for the response body.
    pub(crate) fn response_tap(&self) -> Arc<Tap> {
        self.response_tap.clone()
    }

    /// Notes the response head when it arrives.
    pub(crate) fn response_head(
        &mut self,
        status: u16,
        version: http::Version,
        h: &http::HeaderMap,
    ) {
        self.head_at = Some(Instant::now());
        self.response = Some(ResponseHead {
            status,
            version: version_text(version),
            headers: self.recorder.header_list(h),
            mime: mime_of(h),
            location: h
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
        });
    }

    /// The request is over: writes its entry (unless it was replayed).
    pub(crate) fn finish(self, event: &RequestEvent, start: Instant) {
        if self.replayed {
            return;
        }
        let recorder = self.recorder.clone();
        recorder.write(&self.into_entry(event, start));
    }

    fn into_entry(self, event: &RequestEvent, start: Instant) -> Entry {
        let total = ms(event.duration);
        let connect = self.connect.map(ms);
        let wait = self
            .head_at
            .map(|h| ms(h.saturating_duration_since(start)))
            .unwrap_or(total);
        let wait = (wait - connect.unwrap_or(0.0)).max(0.0);
        let receive = (total - wait - connect.unwrap_or(0.0)).max(0.0);
        let (req_kept, req_total) = self.request_tap.take();
        let post_data = (req_total > 0).then(|| {
            let truncated = (req_kept.len() as u64) < req_total;
            let (text, encoding) = encode(req_kept, truncated);
            PostData {
                mime_type: self.mime.clone(),
                text,
                params: Vec::new(),
                encoding,
                truncated,
            }
        });
        let query_string = event
            .url
            .split_once('?')
            .map(|(_, q)| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(name, value)| NameValue {
                        name: name.into_owned(),
                        value: value.into_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (resp_kept, resp_total) = self.response_tap.take();
        let version = self.response.as_ref().map_or("", |r| r.version);
        let response = match self.response {
            Some(head) => {
                let truncated = (resp_kept.len() as u64) < resp_total;
                let (text, encoding) = encode(resp_kept, truncated);
                Response {
                    status: head.status,
                    status_text: status_text(head.status),
                    http_version: head.version.into(),
                    cookies: Vec::new(),
                    headers: head.headers,
                    content: Content {
                        size: resp_total as i64,
                        mime_type: head.mime,
                        text: Some(text),
                        encoding,
                        comment: truncated.then(|| {
                            format!(
                                "truncated: the first {} of {resp_total} bytes are kept \
                                 (--record-max-body)",
                                self.recorder.inner.options.max_body
                            )
                        }),
                        truncated,
                    },
                    redirect_url: head.location,
                    headers_size: -1,
                    body_size: event.bytes_in as i64,
                    error: event.error.as_ref().map(|e| e.to_string()),
                }
            }
            // Denied or failed before a response: status 0, as browsers record a request
            // that got no response.
            None => Response {
                status: 0,
                status_text: String::new(),
                http_version: String::new(),
                cookies: Vec::new(),
                headers: Vec::new(),
                content: Content {
                    size: 0,
                    mime_type: "x-unknown".into(),
                    text: None,
                    encoding: None,
                    comment: None,
                    truncated: false,
                },
                redirect_url: String::new(),
                headers_size: -1,
                body_size: -1,
                error: event.error.as_ref().map(|e| e.to_string()),
            },
        };
        Entry {
            started_date_time: rfc3339(event.started),
            time: total,
            request: Request {
                method: event.method.clone(),
                url: event.url.clone(),
                http_version: if version.is_empty() {
                    "HTTP/1.1".into()
                } else {
                    version.into()
                },
                cookies: Vec::new(),
                headers: self.headers,
                query_string,
                post_data,
                headers_size: -1,
                body_size: event.bytes_out as i64,
            },
            response,
            cache: Cache {},
            timings: Timings {
                blocked: -1.0,
                dns: -1.0,
                connect: connect.unwrap_or(-1.0),
                send: 0.0,
                wait,
                receive,
                ssl: -1.0,
            },
            server_ip_address: event.addr.map(|a| a.ip().to_string()),
            connection: self.connection.map(|c| c.to_string()),
            wasmgate: Some(WasmgateFields {
                decision: match event.decision {
                    Decision::Allowed => "allowed",
                    Decision::Denied => "denied",
                }
                .into(),
                rule: event.rule.clone(),
                error_kind: event.error.as_ref().map(|e| e.kind().as_str().to_string()),
                origin: match event.origin {
                    Origin::WasiHttp => "wasi-http",
                    Origin::HostAbi => "host-abi",
                }
                .into(),
                incoming: event.incoming.clone(),
            }),
        }
    }
}

/// Milliseconds with microsecond precision.
fn ms(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

fn rfc3339(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn version_text(v: http::Version) -> &'static str {
    match v {
        http::Version::HTTP_2 => "HTTP/2",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

fn status_text(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or_default()
        .to_string()
}

fn mime_of(h: &http::HeaderMap) -> String {
    h.get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Text as text, anything else as base64. A text body cut at the cap in the middle of a
/// character stays text, without the partial character.
pub(crate) fn encode(bytes: Vec<u8>, truncated: bool) -> (String, Option<String>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let utf8 = e.utf8_error();
            let mut bytes = e.into_bytes();
            if truncated && utf8.error_len().is_none() {
                bytes.truncate(utf8.valid_up_to());
                return (String::from_utf8(bytes).unwrap_or_default(), None);
            }
            let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
            (b64, Some("base64".into()))
        }
    }
}

/// The bytes of a recorded body.
pub(crate) fn decode(text: &str, encoding: Option<&str>) -> Result<Vec<u8>, String> {
    match encoding {
        None | Some("") => Ok(text.as_bytes().to_vec()),
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("invalid base64 body: {e}")),
        Some(other) => Err(format!(
            "unknown body encoding {other:?}; expected none (text) or \"base64\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tap_keeps_the_cap_and_counts_everything() {
        let tap = Tap::new(5);
        tap.push(b"abc");
        tap.push(b"defgh");
        assert_eq!(tap.take(), (b"abcde".to_vec(), 8));
    }

    #[test]
    fn text_stays_text_and_binary_becomes_base64() {
        assert_eq!(encode(b"hi".to_vec(), false), ("hi".into(), None));
        let (b64, enc) = encode(vec![0xff, 0, 1], false);
        assert_eq!(enc.as_deref(), Some("base64"));
        assert_eq!(decode(&b64, enc.as_deref()).unwrap(), vec![0xff, 0, 1]);
        // "é" cut in half by the cap: the text without it.
        assert_eq!(encode(vec![b'a', 0xc3], true), ("a".into(), None));
        assert!(decode("x", Some("gzip")).unwrap_err().contains("gzip"));
    }
}
