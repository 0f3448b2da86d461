//! Bodies in both directions, streamed: the incoming body under its size limit, and
//! the response body, which counts what was sent and writes the access record when it
//! is over (or cancels the handler when the client goes away first).

use super::Shared;
use super::access_log::AccessRecord;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

/// Errors of a response body, as hyper takes them.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response the server sends.
pub(crate) type ServeBody = Tracked;

/// The incoming request body, failing once more than `limit` bytes arrived (the
/// handler's read fails with `HTTP-request-body-size`; if it has not answered yet,
/// the client gets 413).
pub(crate) struct LimitedIncoming {
    inner: hyper::body::Incoming,
    read: u64,
    limit: u64,
    over: Arc<AtomicBool>,
}

impl LimitedIncoming {
    pub(crate) fn new(inner: hyper::body::Incoming, limit: u64, over: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            read: 0,
            limit,
            over,
        }
    }
}

impl Body for LimitedIncoming {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.read += data.len() as u64;
                    if this.read > this.limit {
                        this.over.store(true, Ordering::SeqCst);
                        return Poll::Ready(Some(Err(
                            wasmtime_wasi_http::Error::HttpRequestBodySize(Some(this.limit)),
                        )));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What is known of one incoming request until its response is over.
pub(crate) struct Exchange {
    pub(crate) shared: Arc<Shared>,
    pub(crate) record: AccessRecord,
    pub(crate) start: Instant,
    /// Outbound requests of the handler, counted by its event hub.
    pub(crate) outbound: Arc<AtomicU64>,
    /// A fault the handler's task hit after the response head went out (trap or
    /// timeout mid-body): set before the task lets go of the body.
    pub(crate) late_fault: Arc<Mutex<Option<String>>>,
    /// The handler's task, cancelled when the client goes away mid-response.
    pub(crate) task: Option<tokio::task::AbortHandle>,
    /// Whether the access record went out.
    pub(crate) recorded: bool,
}

/// The status recorded for a request whose client left before its answer (nginx's
/// 499; never sent, since nobody is there to read it).
pub(crate) const CLIENT_CLOSED: u16 = 499;

impl Drop for Exchange {
    /// Dropped unrecorded: hyper dropped the request's future because the client went
    /// away before the response head (the handler's instance is aborted with it).
    fn drop(&mut self) {
        if !self.recorded {
            self.record.status = CLIENT_CLOSED;
            self.record(
                0,
                Some(
                    "the client went away before the response head; the handler was cancelled"
                        .into(),
                ),
            );
        }
    }
}

impl Exchange {
    /// Ends the exchange: one access record to every sink and the metrics.
    fn finish(mut self, bytes: u64, error: Option<String>) {
        self.record(bytes, error);
    }

    fn record(&mut self, bytes: u64, error: Option<String>) {
        self.recorded = true;
        if let Some(task) = self.task.take()
            && error.is_some()
        {
            task.abort();
        }
        let late = self
            .late_fault
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.record.bytes = bytes;
        self.record.duration = self.start.elapsed();
        self.record.outbound = self.outbound.load(Ordering::SeqCst);
        if self.record.error.is_none() {
            self.record.error = late.or(error);
        }
        self.shared.metrics.finished(&self.record);
        for sink in &self.shared.access {
            sink.on_access(&self.record);
        }
    }
}

/// A response body that counts its bytes and records the exchange when it ends, fails
/// or is dropped unfinished (the client went away: the handler is cancelled).
pub(crate) struct Tracked {
    inner: UnsyncBoxBody<Bytes, BoxError>,
    sent: u64,
    exchange: Option<Exchange>,
}

impl Tracked {
    pub(crate) fn new(inner: UnsyncBoxBody<Bytes, BoxError>, exchange: Exchange) -> Self {
        Self {
            inner,
            sent: 0,
            exchange: Some(exchange),
        }
    }

    /// A complete body of `text`.
    pub(crate) fn text(text: String, exchange: Exchange) -> Self {
        let body = http_body_util::Full::new(Bytes::from(text))
            .map_err(|never| match never {})
            .boxed_unsync();
        Self::new(body, exchange)
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.sent += data.len() as u64;
                }
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(x) = this.exchange.take() {
                    x.finish(this.sent, Some(format!("the response body failed: {e}")));
                }
            }
            Poll::Ready(None) => {
                if let Some(x) = this.exchange.take() {
                    // A handler that failed mid-body (trap, timeout) lets its body end
                    // as if complete: fail it instead, so the client sees a cut-off
                    // response as one (no final chunk, a reset HTTP/2 stream).
                    let late = x
                        .late_fault
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone();
                    x.finish(this.sent, None);
                    if let Some(cause) = late {
                        return Poll::Ready(Some(Err(cause.into())));
                    }
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(x) = self.exchange.take() {
            // hyper drops a body it knows to be empty without polling it: that is a
            // complete response, not a client that left.
            if self.inner.is_end_stream() {
                x.finish(self.sent, None);
            } else {
                x.finish(
                    self.sent,
                    Some(
                        "the client went away before the response ended; the handler was cancelled"
                            .into(),
                    ),
                );
            }
        }
    }
}
