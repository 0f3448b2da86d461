//! Keep-alive connection pool: HTTP/1.1 connections are reused one exchange at a time,
//! an HTTP/2 connection is shared by every request to its destination.

use super::connect::{HyperBody, Peer};
use hyper::client::conn::{http1, http2};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Idle HTTP/1.1 connections kept per destination. Enough for a guest's usual burst of
/// parallel requests to one API, small enough that a run never hoards sockets.
const MAX_IDLE_PER_DESTINATION: usize = 32;

/// An idle connection older than this is closed rather than reused: servers commonly
/// drop idle keep-alive connections after 60–120 s, and a reused dead socket costs an error.
const IDLE_TIMEOUT: Duration = Duration::from_secs(55);

/// How long a checkout waits for a returned connection to finish its previous exchange.
/// A connection comes back only after its response body ended, so this is normally
/// immediate; a connection still busy after this is skipped.
const READY_WAIT: Duration = Duration::from_millis(500);

/// An established connection.
pub(crate) enum Conn {
    H1(http1::SendRequest<HyperBody>),
    H2(http2::SendRequest<HyperBody>),
}

/// Connections are shared only between requests with the same scheme, host, port and
/// allow rule, because the rule decides which addresses may be dialled, and only
/// between requests that both go through the proxy or both go direct.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub(crate) scheme: &'static str,
    /// `host[:port]` as [`wasmgate_policy::RequestTarget::authority`] writes it (the
    /// port only when not the scheme's default, so one spelling per destination).
    pub(crate) authority: String,
    pub(crate) rule: RuleId,
    /// Through the proxy (a tunnel, or absolute-form requests to it), not direct.
    pub(crate) proxied: bool,
}

/// Which allow rule of the client's policy a connection was dialled under: the rule's
/// address. A client's policy is shared (`Arc`) and never changes, so its rules neither
/// move nor are freed while the client (and so its pool) lives; comparing addresses
/// replaces copying the rule's text into every request's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RuleId(usize);

impl RuleId {
    pub(crate) fn of(rule: &wasmgate_policy::AllowRule) -> Self {
        RuleId(std::ptr::from_ref(rule) as usize)
    }
}

#[derive(Default)]
struct Entry {
    h2: Option<(http2::SendRequest<HyperBody>, Peer)>,
    idle_h1: Vec<(http1::SendRequest<HyperBody>, Peer, Instant)>,
}

#[derive(Default)]
pub(crate) struct Pool {
    entries: Mutex<HashMap<PoolKey, Entry>>,
}

impl Pool {
    /// A live connection for `key`, if one is idle (HTTP/1.1) or shareable (HTTP/2).
    /// Connections hyper already knows are closed (the server's FIN or GOAWAY was read) are
    /// dropped here, not handed out; one whose close is still in flight is caught by the
    /// resend rule in `exchange`.
    pub(crate) async fn checkout(&self, key: &PoolKey) -> Option<(Conn, Peer)> {
        loop {
            let (mut sender, peer) = {
                let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                let entry = entries.get_mut(key)?;
                if let Some((h2, peer)) = &entry.h2 {
                    if !h2.is_closed() {
                        return Some((Conn::H2(h2.clone()), peer.clone()));
                    }
                    entry.h2 = None;
                }
                let now = Instant::now();
                entry
                    .idle_h1
                    .retain(|(s, _, since)| !s.is_closed() && now - *since < IDLE_TIMEOUT);
                let (s, peer, _) = entry.idle_h1.pop()?;
                (s, peer)
            };
            if sender.is_ready() {
                return Some((Conn::H1(sender), peer));
            }
            if let Ok(Ok(())) = tokio::time::timeout(READY_WAIT, sender.ready()).await {
                return Some((Conn::H1(sender), peer));
            }
        }
    }

    /// Returns an HTTP/1.1 connection whose exchange has ended.
    pub(crate) fn put_h1(&self, key: PoolKey, sender: http1::SendRequest<HyperBody>, peer: Peer) {
        if sender.is_closed() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(key).or_default();
        if entry.idle_h1.len() < MAX_IDLE_PER_DESTINATION {
            entry.idle_h1.push((sender, peer, Instant::now()));
        }
    }

    /// Shares an HTTP/2 connection with later requests.
    pub(crate) fn put_h2(&self, key: PoolKey, sender: http2::SendRequest<HyperBody>, peer: Peer) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.entry(key).or_default().h2 = Some((sender, peer));
    }
}
