//! Limits per incoming request, each a named default with the reason for its value.

use std::time::Duration;

/// Longest a handler may take for one request, from its instance's creation to the
/// end of its response body. 30 s: the outbound first-byte timeout is 30 s too, so a
/// handler waiting once on a slow upstream still answers, and it is below the 60 s
/// idle timeout of common load balancers (AWS ALB, nginx), which would otherwise cut
/// the client off first with an error of their own.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Handler instances alive at once. 64: each can hold up to `--max-memory` of guest
/// memory and one outbound pool's connections; most handlers wait on I/O, so 64 keeps
/// a few cores busy without letting a burst exhaust memory. The same default as
/// `--max-concurrent-requests`.
pub const DEFAULT_MAX_CONCURRENT_HANDLERS: usize = 64;

/// How long a request waits for a free handler slot before it gets 503. 100 ms: long
/// enough to absorb a burst while other handlers finish (a fast handler answers in
/// well under a millisecond), short enough that an overloaded server tells the client
/// and its load balancer at once instead of queueing them into timeouts.
pub const CONCURRENCY_WAIT: Duration = Duration::from_millis(100);

/// `Retry-After` of a 503 for a full server, in seconds: the shortest value the header
/// can say; the overload is usually gone in a fraction of that.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Longest a finished handler waits for the outbound requests it left open (e.g. a
/// response body it never read) to be reported as cancelled, so the one summary line
/// counts them all. 2 s, as `run` waits at its end: they are dropped with the handler's
/// store, and their events arrive within milliseconds unless the machine is stalled.
/// Only a handler that left requests open waits at all.
pub(crate) const OPEN_OUTBOUND_REPORT_MAX: Duration = Duration::from_secs(2);

/// Largest incoming request body. 10 MiB: API payloads and form posts fit; larger
/// uploads are something an operator opts into, since the handler's memory has to
/// hold what it reads. A `content-length` over it gets 413 before any guest runs.
pub const DEFAULT_MAX_INCOMING_BODY: u64 = 10 * 1024 * 1024;

/// Largest request head (request line and headers). 64 KiB: twice what nginx accepts
/// by default (4 × 8 KiB buffers), enough for large cookies and JWTs; HTTP/1.1 heads
/// over it get 431 from hyper, HTTP/2 ones are refused by the header-list limit.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 64 * 1024;

/// Longest wait for in-flight requests after SIGINT/SIGTERM. 25 s: below Kubernetes'
/// default 30 s termination grace period, so the process exits 0 on its own before
/// the kubelet's SIGKILL.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(25);

/// Longest time a client may take to send a request head (slowloris): 10 s is ample
/// for any real client and keeps idle half-open connections from piling up.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest TLS handshake, for the same reason as [`HEADER_READ_TIMEOUT`].
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits of one server (`wasmgate serve` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// `--request-timeout`: see [`DEFAULT_REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
    /// `--max-concurrent-handlers`: see [`DEFAULT_MAX_CONCURRENT_HANDLERS`] (at least 1).
    pub max_concurrent_handlers: usize,
    /// `--max-incoming-body`: see [`DEFAULT_MAX_INCOMING_BODY`].
    pub max_incoming_body: u64,
    /// `--max-header-size`: see [`DEFAULT_MAX_HEADER_SIZE`].
    pub max_header_size: usize,
    /// `--shutdown-timeout`: see [`DEFAULT_SHUTDOWN_TIMEOUT`].
    pub shutdown_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_handlers: DEFAULT_MAX_CONCURRENT_HANDLERS,
            max_incoming_body: DEFAULT_MAX_INCOMING_BODY,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}
