//! The response side: byte counting, the size limit, the between-bytes timeout,
//! returning connections to the pool, and emitting the request's event.

use super::HyperBody;
use super::connect::Peer;
use super::error::{LimitHit, OutboundError, OutboundErrorKind};
use super::pool::{Pool, PoolKey};
use crate::events::{Decision, EventHub, RequestEvent};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::client::conn::http1;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;
use wasmgate_policy::Limit;

/// Error type of request and response bodies.
pub type BodyError = OutboundError;

/// A request body as the client takes it.
pub type OutboundBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BodyError>;

/// Names a request for errors raised inside a body.
#[derive(Clone)]
pub(crate) struct RequestLabel {
    pub(crate) method: Arc<str>,
    pub(crate) url: Arc<str>,
}

impl RequestLabel {
    fn limit(&self, hit: LimitHit) -> OutboundError {
        OutboundError::limited(&self.method, &self.url, hit)
    }
}

/// Everything needed to report a request once it is over. Reports exactly once: when
/// finished, or when dropped unfinished (cancelled by the guest or by the run's end).
pub(crate) struct EventRecord {
    pub(crate) hub: EventHub,
    pub(crate) event: RequestEvent,
    pub(crate) start: Instant,
    pub(crate) bytes_out: Arc<AtomicU64>,
    pub(crate) reported: bool,
    /// The request's HAR entry in the making, when the run records.
    pub(crate) har: Option<Box<crate::record::Draft>>,
    /// Counts the request out of its run's [`super::pending::Pending`] once reported
    /// (fields drop after `Drop::drop` has reported).
    pub(crate) _pending: super::pending::PendingGuard,
}

impl EventRecord {
    pub(crate) fn finish(mut self, decision: Decision, error: Option<OutboundError>) {
        self.report(decision, error);
    }

    fn report(&mut self, decision: Decision, error: Option<OutboundError>) {
        if std::mem::replace(&mut self.reported, true) {
            return;
        }
        self.event.decision = decision;
        self.event.duration = self.start.elapsed();
        self.event.bytes_out = self.bytes_out.load(Ordering::Relaxed);
        self.event.error = error;
        self.hub.emit(&self.event);
        if let Some(draft) = self.har.take() {
            // As the subscribers saw it (under `serve`, stamped with its incoming request).
            if self.event.incoming.is_none() {
                self.event.incoming = self.hub.incoming_label().map(str::to_string);
            }
            draft.finish(&self.event, self.start);
        }
    }
}

impl Drop for EventRecord {
    fn drop(&mut self) {
        if self.reported {
            return;
        }
        // By the guest, unless the run is ending (see `EventHub::end_run`).
        let cause = self.hub.cancellation();
        let cancelled = OutboundError::cancelled(&self.event.method, &self.event.url, cause);
        let decision = match self.event.rule {
            Some(_) => Decision::Allowed,
            None => Decision::Denied,
        };
        self.report(decision, Some(cancelled));
    }
}

/// An HTTP/1.1 connection to hand back to the pool when its response ends.
pub(crate) struct PoolReturn {
    pub(crate) pool: Arc<Pool>,
    pub(crate) key: PoolKey,
    pub(crate) sender: http1::SendRequest<HyperBody>,
    pub(crate) peer: Peer,
}

impl PoolReturn {
    fn give_back(self) {
        self.pool.put_h1(self.key, self.sender, self.peer);
    }
}

/// Where a response body comes from.
pub(crate) enum Source {
    /// The server.
    Net(hyper::body::Incoming),
    /// A replay file: the whole recorded body, handed on in one frame.
    Replay(Option<Bytes>),
}

impl Source {
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self {
            Source::Net(inner) => Pin::new(inner).poll_frame(cx),
            Source::Replay(body) => Poll::Ready(body.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Source::Net(inner) => inner.is_end_stream(),
            Source::Replay(body) => body.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Source::Net(inner) => inner.size_hint(),
            Source::Replay(body) => {
                SizeHint::with_exact(body.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

/// The response body handed to adapters: streams frames from the server, enforces the
/// size limit and the between-bytes timeout, and reports the request when dropped.
pub struct ResponseBody {
    inner: Source,
    label: RequestLabel,
    max: u64,
    /// Body bytes handed on towards the guest (never more than `max`).
    received: u64,
    /// The limit error to raise after the part of a frame that fit was handed on.
    pending: Option<OutboundError>,
    between_bytes: Duration,
    /// When the head or the last frame arrived: the between-bytes deadline counts from it.
    last_frame: tokio::time::Instant,
    /// The between-bytes timer, made the first time the body has to wait: most bodies
    /// (a small response arrives with its head) never do, and making one per request
    /// (an allocation and a timer entry) showed in every request's cost.
    timer: Option<Pin<Box<Sleep>>>,
    done: bool,
    error: Option<OutboundError>,
    pool_return: Option<PoolReturn>,
    _permit: OwnedSemaphorePermit,
    /// Copies what the guest is handed, when the run records.
    tap: Option<Arc<crate::record::Tap>>,
    record: Option<EventRecord>,
}

impl ResponseBody {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        inner: Source,
        label: RequestLabel,
        max: u64,
        between_bytes: Duration,
        pool_return: Option<PoolReturn>,
        permit: OwnedSemaphorePermit,
        mut record: EventRecord,
        status: u16,
    ) -> Self {
        record.event.status = Some(status);
        let tap = record.har.as_ref().map(|d| d.response_tap());
        let mut body = Self {
            done: inner.is_end_stream(),
            inner,
            label,
            max,
            received: 0,
            pending: None,
            between_bytes,
            last_frame: tokio::time::Instant::now(),
            timer: None,
            error: None,
            pool_return,
            _permit: permit,
            tap,
            record: Some(record),
        };
        if body.done {
            body.finish_ok();
        }
        body
    }

    fn finish_ok(&mut self) {
        self.done = true;
        if let Some(p) = self.pool_return.take() {
            p.give_back();
        }
    }

    fn fail(&mut self, e: OutboundError) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.done = true;
        self.pool_return = None;
        self.error = Some(e.clone());
        Poll::Ready(Some(Err(e)))
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        if let Some(err) = this.pending.take() {
            return this.fail(err);
        }
        if this.done {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(None) => {
                this.finish_ok();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                let err = OutboundError::other(
                    OutboundErrorKind::Protocol,
                    &this.label.method,
                    &this.label.url,
                    format!("response body broken off: {e}"),
                );
                this.fail(err)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if this.received + len > this.max {
                        // Hand the guest what fits and fail on the next poll: `received`
                        // (the event's `bytes_in`) counts only bytes handed on.
                        let room = this.max - this.received;
                        let hit = LimitHit::size(Limit::MaxResponseBody, this.max);
                        let err = this.label.limit(hit);
                        if room == 0 {
                            return this.fail(err);
                        }
                        let part = data.slice(..room as usize);
                        if let Some(tap) = &this.tap {
                            tap.push(&part);
                        }
                        this.received = this.max;
                        this.pending = Some(err);
                        return Poll::Ready(Some(Ok(Frame::data(part))));
                    }
                    this.received += len;
                    if let Some(tap) = &this.tap {
                        tap.push(data);
                    }
                }
                this.last_frame = tokio::time::Instant::now();
                if let Some(timer) = &mut this.timer {
                    timer.as_mut().reset(this.last_frame + this.between_bytes);
                }
                if this.inner.is_end_stream() {
                    this.finish_ok();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                let deadline = this.last_frame + this.between_bytes;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                ready!(timer.as_mut().poll(cx));
                let hit = LimitHit::time(Limit::BetweenBytesTimeout, this.between_bytes);
                this.fail(this.label.limit(hit))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.event.bytes_in = self.received;
            let error = self.error.take();
            record.finish(Decision::Allowed, error);
        }
    }
}
