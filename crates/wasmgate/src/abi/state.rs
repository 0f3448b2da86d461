//! Per-guest ABI state: the handle table and the background task behind each request.

use super::codes::*;
use super::memory::CallError;
use crate::outbound::{GuestTimeouts, OutboundClient, OutboundError, ResponseBody};
use bytes::Bytes;
use http::{HeaderMap, Method};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};

/// Open handles per guest. Far more than the default 64 concurrent requests, small
/// enough that a guest leaking handles is stopped long before host memory suffers.
pub(crate) const MAX_HANDLES: usize = 1024;

/// Request body chunks the host buffers between the guest and the connection.
pub(crate) const BODY_BUFFER_CHUNKS: usize = 4;

/// Largest chunk taken from the guest in one piece.
pub(crate) const BODY_CHUNK: usize = 64 * 1024;

/// Response body frames buffered ahead of the guest's reads.
pub(crate) const FRAME_BUFFER: usize = 4;

/// Most redirects a guest may ask the host to follow.
pub(crate) const MAX_REDIRECTS: i64 = 20;

/// A request being put together.
pub(crate) struct Building {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) headers: HeaderMap,
    pub(crate) header_bytes: usize,
    pub(crate) timeouts: GuestTimeouts,
    pub(crate) follow: u32,
}

/// What the background task reports once the response head is there.
pub(crate) struct Head {
    pub(crate) status: u16,
    /// The HTTP version on the wire, for `response_version`.
    pub(crate) version: http::Version,
    pub(crate) headers: HeaderMap,
    pub(crate) frames: mpsc::Receiver<Result<Bytes, OutboundError>>,
}

pub(crate) enum HeadState {
    Waiting(oneshot::Receiver<Result<Head, OutboundError>>),
    Ready(Head),
    Failed(i32, String),
}

/// A sent request.
pub(crate) struct InFlight {
    pub(crate) body_tx: Option<mpsc::Sender<Bytes>>,
    /// Set by `body_finish`: the end of the body must be said explicitly, so a guest
    /// that closes a handle mid-body aborts the request instead of truncating it.
    pub(crate) finished: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) streaming: bool,
    pub(crate) head: HeadState,
    pub(crate) leftover: Bytes,
    pub(crate) body_failed: Option<(i32, String)>,
    pub(crate) eof: bool,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl InFlight {
    /// Moves a finished head out of its channel without waiting.
    pub(crate) fn refresh(&mut self) {
        if let HeadState::Waiting(rx) = &mut self.head {
            match rx.try_recv() {
                Ok(Ok(head)) => self.head = HeadState::Ready(head),
                Ok(Err(e)) => self.head = HeadState::Failed(code_of(&e), e.to_string()),
                Err(oneshot::error::TryRecvError::Empty) => {}
                Err(oneshot::error::TryRecvError::Closed) => {
                    self.head = HeadState::Failed(
                        ERR_INTERNAL,
                        "the request task ended unexpectedly".into(),
                    )
                }
            }
        }
    }

    /// The `poll` bits for this request.
    pub(crate) fn readiness(&mut self) -> u8 {
        self.refresh();
        let mut bits = 0;
        match &self.head {
            HeadState::Waiting(_) => {}
            HeadState::Failed(..) => bits |= READY_RESPONSE | READY_BODY | READY_WRITE,
            HeadState::Ready(head) => {
                bits |= READY_RESPONSE;
                if !self.leftover.is_empty()
                    || self.eof
                    || self.body_failed.is_some()
                    || !head.frames.is_empty()
                    || head.frames.is_closed()
                {
                    bits |= READY_BODY;
                }
            }
        }
        if let Some(tx) = &self.body_tx
            && (tx.capacity() > 0 || tx.is_closed())
        {
            bits |= READY_WRITE;
        }
        bits
    }
}

pub(crate) enum Slot {
    Building(Building),
    Sent(Box<InFlight>),
}

/// Everything the ABI keeps for one guest.
pub(crate) struct AbiState {
    pub(crate) client: OutboundClient,
    pub(crate) handles: BTreeMap<i32, Slot>,
    /// The guest's exported memory, once an ABI call has looked it up (a module's
    /// exports never change after instantiation).
    pub(crate) memory: Option<wasmtime::Memory>,
    next: i32,
    pub(crate) last_error: String,
    /// Set while the host runs guest code on behalf of an ABI call (the allocator during
    /// `fetch`); every ABI call made meanwhile fails with `ERR_REENTRANT`.
    pub(crate) in_callback: bool,
    /// Woken whenever any request makes progress, so `poll` can wait on all at once.
    pub(crate) notify: Arc<Notify>,
    /// Tasks of closed handles, aborted but perhaps not yet wound down.
    cancelled: Vec<tokio::task::JoinHandle<()>>,
}

/// A run that ends without `shutdown` (its `--timeout` fired, or the embedder dropped
/// it) still cancels its requests: a request task is not tied to the store, and would
/// otherwise go on, holding its connection, until the server answered.
impl Drop for AbiState {
    fn drop(&mut self) {
        for slot in self.handles.values() {
            if let Slot::Sent(s) = slot {
                s.task.abort();
            }
        }
        for task in &self.cancelled {
            task.abort();
        }
    }
}

impl AbiState {
    pub(crate) fn new(client: OutboundClient) -> Self {
        Self {
            client,
            handles: BTreeMap::new(),
            memory: None,
            next: 1,
            last_error: String::new(),
            in_callback: false,
            notify: Arc::new(Notify::new()),
            cancelled: Vec::new(),
        }
    }

    /// Closes a handle; a request still in flight is cancelled.
    pub(crate) fn close(&mut self, h: i32) -> bool {
        match self.handles.remove(&h) {
            Some(Slot::Sent(s)) => {
                s.task.abort();
                // Keep only tasks still winding down: a long-running guest closes
                // thousands of handles, and finished tasks must not pile up.
                self.cancelled.retain(|t| !t.is_finished());
                if !s.task.is_finished() {
                    self.cancelled.push(s.task);
                }
                true
            }
            Some(Slot::Building(_)) => true,
            None => false,
        }
    }

    /// Waits until the requests the guest closed have wound down, so they are reported
    /// as the guest's cancellations before the run's end cancels the rest.
    pub(crate) async fn settle_closed(&mut self) {
        for task in self.cancelled.drain(..) {
            let _ = task.await;
        }
    }

    /// Cancels everything still open and waits until every request task has wound
    /// down, so each request's event is reported before the run returns.
    pub(crate) async fn shutdown(&mut self) {
        let open: Vec<i32> = self.handles.keys().copied().collect();
        for h in open {
            self.close(h);
        }
        for task in self.cancelled.drain(..) {
            let _ = task.await;
        }
    }

    pub(crate) fn insert(&mut self, slot: Slot) -> Result<i32, CallError> {
        if self.handles.len() >= MAX_HANDLES {
            return Err((
                ERR_TOO_MANY_HANDLES,
                format!("request_new: {MAX_HANDLES} handles are open; close some first"),
            ));
        }
        if self.next == i32::MAX {
            return Err((
                ERR_TOO_MANY_HANDLES,
                "request_new: handle numbers are exhausted".into(),
            ));
        }
        let h = self.next;
        self.next += 1;
        self.handles.insert(h, slot);
        Ok(h)
    }

    pub(crate) fn building(&mut self, what: &str, h: i32) -> Result<&mut Building, CallError> {
        match self.handles.get_mut(&h) {
            Some(Slot::Building(b)) => Ok(b),
            Some(Slot::Sent(_)) => Err((
                ERR_WRONG_STATE,
                format!("{what}: request {h} was already sent"),
            )),
            None => Err(bad_handle(what, h)),
        }
    }

    pub(crate) fn sent(&mut self, what: &str, h: i32) -> Result<&mut InFlight, CallError> {
        match self.handles.get_mut(&h) {
            Some(Slot::Sent(s)) => Ok(s),
            Some(Slot::Building(_)) => Err((
                ERR_WRONG_STATE,
                format!("{what}: request {h} was not sent yet"),
            )),
            None => Err(bad_handle(what, h)),
        }
    }
}

pub(crate) fn bad_handle(what: &str, h: i32) -> CallError {
    (ERR_BAD_HANDLE, format!("{what}: {h} is not an open handle"))
}

/// Keeps a response body flowing into a small channel the guest reads from.
pub(crate) async fn pump(
    mut body: ResponseBody,
    frames: mpsc::Sender<Result<Bytes, OutboundError>>,
    notify: Arc<Notify>,
) {
    use http_body_util::BodyExt;
    loop {
        let item = match body.frame().await {
            None => break,
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if data.is_empty() => continue,
                Ok(data) => Ok(data),
                Err(_) => continue, // trailers are not part of ABI v1
            },
            Some(Err(e)) => Err(e),
        };
        let stop = item.is_err();
        if frames.send(item).await.is_err() {
            return; // the guest closed the handle
        }
        notify.notify_one();
        if stop {
            return;
        }
    }
    drop(frames);
    notify.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventHub;
    use crate::outbound::StaticResolver;
    use crate::tls::TlsConfig;

    fn sent(task: tokio::task::JoinHandle<()>) -> Slot {
        let (_tx, rx) = oneshot::channel();
        Slot::Sent(Box::new(InFlight {
            body_tx: None,
            finished: Default::default(),
            streaming: false,
            head: HeadState::Waiting(rx),
            leftover: Bytes::new(),
            body_failed: None,
            eof: false,
            task,
        }))
    }

    /// A guest that makes many requests must not accumulate their finished tasks.
    #[tokio::test]
    async fn closed_handles_do_not_pile_up() {
        let client = OutboundClient::new(
            Arc::new(wasmgate_policy::Policy::deny_all()),
            Arc::new(StaticResolver::new()),
            TlsConfig::new(&[] as &[&str]).unwrap(),
            EventHub::default(),
        );
        let mut abi = AbiState::new(client);
        for _ in 0..500 {
            let task = tokio::spawn(async {});
            while !task.is_finished() {
                tokio::task::yield_now().await;
            }
            let h = abi.insert(sent(task)).unwrap();
            assert!(abi.close(h));
        }
        assert!(
            abi.cancelled.len() <= 1,
            "{} tasks kept",
            abi.cancelled.len()
        );
        // Unfinished ones are kept until shutdown waits for them.
        let h = abi
            .insert(sent(tokio::spawn(std::future::pending())))
            .unwrap();
        abi.close(h);
        assert_eq!(abi.cancelled.len(), 1);
        abi.shutdown().await;
        assert!(abi.cancelled.is_empty());
    }
}
