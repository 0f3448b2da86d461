//! One incoming request: number it, check its limits, hand it to the handler, map a
//! handler fault to a status, and track the response until it is over.

use super::body::{BoxError, Exchange, LimitedIncoming, ServeBody, Tracked};
use super::limits::{CONCURRENCY_WAIT, RETRY_AFTER_SECS};
use super::listen::Peer;
use super::{Handler, Shared, fmt_duration};
use crate::serve::access_log::AccessRecord;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};
use wasmgate_policy::format_size;

/// What a handler hands back: the response head and its streaming body.
pub(crate) type HandlerResponse = Response<UnsyncBoxBody<Bytes, BoxError>>;

/// Why a handler produced no response: the status the client gets and the one log
/// line naming the cause. The client's body says only what kind of failure it was:
/// a trap message can carry the guest's internals.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub(crate) status: StatusCode,
    pub(crate) cause: String,
}

impl Fault {
    pub(crate) fn new(status: StatusCode, cause: impl Into<String>) -> Self {
        Self {
            status,
            cause: cause.into(),
        }
    }

    /// What the client reads.
    fn client_text(&self) -> String {
        let what = match self.status {
            StatusCode::GATEWAY_TIMEOUT => {
                "the handler did not finish within the server's request timeout"
            }
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than this server accepts",
            StatusCode::SERVICE_UNAVAILABLE => "the server is busy; retry shortly",
            StatusCode::BAD_REQUEST => "the request cannot be handled",
            _ => "the handler failed; the server's log says why",
        };
        format!("{} {what}\n", self.status)
    }
}

/// Serves one request; never fails (every failure is a response).
pub(crate) async fn handle(
    shared: Arc<Shared>,
    peer: Peer,
    req: hyper::Request<Incoming>,
) -> Response<ServeBody> {
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst) + 1;
    shared.metrics.started();
    let mut x = Exchange {
        shared: shared.clone(),
        record: AccessRecord {
            time: SystemTime::now(),
            id,
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            status: 0,
            bytes: 0,
            duration: Duration::ZERO,
            outbound: 0,
            error: None,
        },
        start: Instant::now(),
        outbound: Arc::default(),
        late_fault: Arc::default(),
        task: None,
        recorded: false,
    };
    let limit = shared.limits.max_incoming_body;
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared
        && len > limit
    {
        return refuse(x, too_large(len, limit));
    }
    // Wait briefly for a free handler slot; past that, tell the client at once.
    // A free slot is taken at once (no timer on the common path).
    let permit = match shared.gate.clone().try_acquire_owned() {
        Ok(permit) => Some(permit),
        Err(_) => tokio::time::timeout(CONCURRENCY_WAIT, shared.gate.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok),
    };
    let permit = match permit {
        Some(permit) => permit,
        None => {
            let fault = Fault::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "all {} handler slots stayed busy for {}; raise --max-concurrent-handlers",
                    shared.limits.max_concurrent_handlers,
                    fmt_duration(CONCURRENCY_WAIT)
                ),
            );
            return refuse(x, fault);
        }
    };
    let over = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let req = hyper::Request::from_parts(parts, LimitedIncoming::new(body, limit, over.clone()));
    let result = match &shared.handler {
        Handler::Component(h) => h.serve(&shared, req, permit, &mut x).await,
        Handler::Cgi(h) => h.serve(&shared, peer, req, permit, &mut x).await,
    };
    match result {
        Ok(response) => {
            x.record.status = response.status().as_u16();
            response.map(|body| Tracked::new(body, x))
        }
        // A handler that failed because its body was over the limit: that is the
        // client's 413, not the handler's 500.
        Err(_) if over.load(Ordering::SeqCst) => refuse(x, too_large_streamed(limit)),
        Err(fault) => refuse(x, fault),
    }
}

fn too_large(len: u64, limit: u64) -> Fault {
    Fault::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body of {} is over the --max-incoming-body of {}; raise --max-incoming-body",
            format_size(len),
            format_size(limit)
        ),
    )
}

fn too_large_streamed(limit: u64) -> Fault {
    Fault::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body grew over the --max-incoming-body of {}; raise --max-incoming-body",
            format_size(limit)
        ),
    )
}

/// A response for a fault, with the fault on the access record.
fn refuse(mut x: Exchange, fault: Fault) -> Response<ServeBody> {
    x.record.status = fault.status.as_u16();
    x.record.error = Some(fault.cause.clone());
    let text = fault.client_text();
    let mut response = Response::builder()
        .status(fault.status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8");
    if fault.status == StatusCode::SERVICE_UNAVAILABLE {
        response = response.header(http::header::RETRY_AFTER, RETRY_AFTER_SECS.to_string());
    }
    response
        .body(Tracked::text(text, x))
        .expect("valid response head")
}
