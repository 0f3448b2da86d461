//! The guest's request body on its way out: counted, capped, and shared between the
//! attempts of one request, so a second attempt can have the whole body when the first
//! failed (see `exchange` for when that happens): untouched if nothing of it left yet, or,
//! for an idempotent method, replayed from a bounded copy of what already went out.

use super::HyperBody;
use super::body::{BodyError, OutboundBody, RequestLabel};
use super::error::{LimitHit, OutboundError, OutboundErrorKind};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};
use wasmgate_policy::Limit;

/// Body bytes of an idempotent request kept so it can be sent again. Covers the small
/// bodies (JSON, forms) such requests usually carry; a larger upload keeps no copy, so each
/// in-flight request holds at most this much extra memory.
const REPLAY_MAX: u64 = 64 * 1024;

/// One request's body. Each attempt gets its own [`HyperBody`] view of it; only the
/// newest view may read, so a superseded attempt can never take a frame meant for the next.
pub(crate) struct Upload {
    shared: Arc<Mutex<Shared>>,
    sent: Arc<AtomicU64>,
    label: RequestLabel,
}

struct Shared {
    /// The guest's body; `None` only while a drain task owns it.
    body: Option<OutboundBody>,
    /// The guest's body reached its end (or failed, or hit the size limit).
    ended: bool,
    /// Something of the body left: a data frame with bytes, trailers, or an error.
    /// From then on the request cannot be rebuilt, so it is never sent again.
    consumed: bool,
    /// For an idempotent method, a copy of every data frame that left, while it stays
    /// within [`REPLAY_MAX`] and the body had neither trailers nor an error; else `None`.
    copy: Option<Vec<Bytes>>,
    copied: u64,
    /// Which attempt may read.
    attempt: u32,
    max: u64,
}

impl Upload {
    /// Wraps the guest's body; `sent` counts its bytes (once, however many attempts).
    /// An idempotent request keeps a copy of what it sends, up to [`REPLAY_MAX`].
    pub(crate) fn new(
        body: OutboundBody,
        idempotent: bool,
        sent: Arc<AtomicU64>,
        max: u64,
        label: RequestLabel,
    ) -> Self {
        let ended = body.is_end_stream();
        Self {
            shared: Arc::new(Mutex::new(Shared {
                body: Some(body),
                ended,
                consumed: false,
                copy: idempotent.then(Vec::new),
                copied: 0,
                attempt: 0,
                max,
            })),
            sent,
            label,
        }
    }

    /// The body for the first attempt.
    pub(crate) fn first(&self) -> HyperBody {
        self.view(0, VecDeque::new())
    }

    /// The whole body once more for a new attempt: if nothing of it has left yet (it is
    /// empty, or the guest has not written any, or the last attempt never read it), or if
    /// what left is all in the copy. `None` when it cannot be rebuilt. The previous
    /// attempt's view stops working.
    pub(crate) fn again(&self) -> Option<HyperBody> {
        let mut shared = lock(&self.shared);
        let replay = match (&shared.copy, shared.consumed) {
            (_, false) => VecDeque::new(),
            (Some(copy), true) => copy.iter().cloned().collect(),
            (None, true) => return None,
        };
        shared.attempt += 1;
        let attempt = shared.attempt;
        drop(shared);
        Some(self.view(attempt, replay))
    }

    fn view(&self, attempt: u32, replay: VecDeque<Bytes>) -> HyperBody {
        Attempt {
            shared: self.shared.clone(),
            attempt,
            replay,
            sent: self.sent.clone(),
            label: self.label.clone(),
            done: false,
        }
        .boxed_unsync()
    }
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One attempt's view of the body, as hyper reads it.
struct Attempt {
    shared: Arc<Mutex<Shared>>,
    attempt: u32,
    /// Frames an earlier attempt sent, to send again before reading on (already counted).
    replay: VecDeque<Bytes>,
    sent: Arc<AtomicU64>,
    label: RequestLabel,
    done: bool,
}

impl Body for Attempt {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let mut shared = lock(&this.shared);
        if shared.attempt != this.attempt {
            // Only reachable if hyper polls a connection it already failed.
            this.done = true;
            return Poll::Ready(Some(Err(OutboundError::other(
                OutboundErrorKind::Protocol,
                &this.label.method,
                &this.label.url,
                "the request body moved to a new connection",
            ))));
        }
        if let Some(data) = this.replay.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        let shared = &mut *shared;
        let (Some(body), false) = (shared.body.as_mut(), shared.ended) else {
            this.done = true;
            return Poll::Ready(None);
        };
        let polled = ready!(Pin::new(body).poll_frame(cx));
        match polled {
            None => {
                shared.ended = true;
                this.done = true;
                Poll::Ready(None)
            }
            Some(Err(e)) => {
                shared.ended = true;
                shared.consumed = true;
                shared.copy = None;
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Some(Ok(frame)) => {
                let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                if len > 0 || frame.is_trailers() {
                    shared.consumed = true;
                    shared.copied += len;
                    let fits = shared.copied <= REPLAY_MAX;
                    match (frame.data_ref(), &mut shared.copy) {
                        (Some(data), Some(copy)) if fits => copy.push(data.clone()),
                        _ => shared.copy = None,
                    }
                }
                let total = this.sent.fetch_add(len, Ordering::Relaxed) + len;
                if total > shared.max {
                    shared.ended = true;
                    shared.copy = None;
                    this.done = true;
                    let hit = LimitHit::size(Limit::MaxRequestBody, shared.max);
                    let (m, u) = (&this.label.method, &this.label.url);
                    return Poll::Ready(Some(Err(OutboundError::limited(m, u, hit))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        if self.done {
            return true;
        }
        if !self.replay.is_empty() {
            return false;
        }
        let shared = lock(&self.shared);
        shared.ended || shared.body.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let shared = lock(&self.shared);
        let replay: u64 = self.replay.iter().map(|d| d.len() as u64).sum();
        match &shared.body {
            Some(b) if !shared.ended && replay == 0 => b.size_hint(),
            // What is left of a partly read body is not always reported exactly.
            Some(_) if !shared.ended => SizeHint::default(),
            _ => SizeHint::with_exact(replay),
        }
    }
}

/// When the last attempt and the request itself have let go of a body the guest has not
/// finished writing (the response came first, the request was refused, or it failed), the
/// rest is drained in the background so the guest's late writes and `finish` still
/// succeed instead of seeing a reset.
impl Drop for Shared {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let (Some(mut body), Ok(rt)) = (self.body.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let max = self.max;
        rt.spawn(async move {
            // Bounded by the request-body limit: a guest cannot make the host read forever.
            let mut drained = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(d) = frame.data_ref() {
                    drained += d.len() as u64;
                    if drained > max {
                        break;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Empty, Full};

    fn label() -> RequestLabel {
        RequestLabel {
            method: "PUT".into(),
            url: "http://h/".into(),
        }
    }

    fn upload(body: OutboundBody, idempotent: bool) -> (Upload, Arc<AtomicU64>) {
        let sent = Arc::new(AtomicU64::new(0));
        (
            Upload::new(body, idempotent, sent.clone(), 1 << 20, label()),
            sent,
        )
    }

    fn full(n: usize) -> OutboundBody {
        Full::new(Bytes::from(vec![b'x'; n]))
            .map_err(|never| match never {})
            .boxed_unsync()
    }

    async fn read(body: HyperBody) -> Result<Vec<u8>, BodyError> {
        Ok(body.collect().await?.to_bytes().to_vec())
    }

    #[tokio::test]
    async fn an_untouched_or_empty_body_can_always_go_again() {
        let empty = Empty::new().map_err(|never| match never {}).boxed_unsync();
        for (body, idempotent) in [(empty, false), (full(5), false)] {
            let (up, sent) = upload(body, idempotent);
            let first = up.first();
            let again = up.again().expect("nothing has left yet");
            drop(first);
            let len = read(again).await.unwrap().len() as u64;
            assert_eq!(sent.load(Ordering::SeqCst), len);
        }
    }

    #[tokio::test]
    async fn a_written_body_goes_again_only_from_the_copy() {
        // Not idempotent: no copy, no second attempt.
        let (up, _) = upload(full(10), false);
        assert_eq!(read(up.first()).await.unwrap().len(), 10);
        assert!(up.again().is_none());

        // Idempotent and small: the same bytes again, counted once.
        let (up, sent) = upload(full(10), true);
        assert_eq!(read(up.first()).await.unwrap().len(), 10);
        let again = up.again().expect("replayed from the copy");
        assert_eq!(again.size_hint().exact(), Some(10));
        assert_eq!(read(again).await.unwrap(), vec![b'x'; 10]);
        assert_eq!(sent.load(Ordering::SeqCst), 10);

        // Idempotent but past the copy limit.
        let (up, _) = upload(full(REPLAY_MAX as usize + 1), true);
        read(up.first()).await.unwrap();
        assert!(up.again().is_none());
    }

    #[tokio::test]
    async fn a_superseded_attempt_reads_nothing() {
        let (up, sent) = upload(full(3), false);
        let old = up.first();
        let new = up.again().unwrap();
        assert!(read(old).await.is_err());
        assert_eq!(read(new).await.unwrap().len(), 3);
        assert_eq!(sent.load(Ordering::SeqCst), 3);
    }
}
