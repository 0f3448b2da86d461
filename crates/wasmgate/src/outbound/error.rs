//! The one error type of the outbound path. Each adapter maps it to its guest's codes
//! (wasi:http `ErrorCode`, ABI status) and the CLI prints its `Display` as one human line.

use crate::events::Cancellation;
use std::fmt;
use std::time::Duration;
use wasmgate_policy::{AddressDenial, Denial, Limit, format_duration, format_size};

/// What kind of failure an [`OutboundError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboundErrorKind {
    /// The URL rules refused the request.
    Denied,
    /// The destination resolved only to addresses the policy refuses.
    AddressDenied,
    /// A limit (size, time, count, concurrency) was hit.
    Limit,
    /// The request itself was malformed (URL, method, header).
    InvalidRequest,
    /// Name resolution failed.
    Dns,
    /// The server refused or reset the TCP connection.
    ConnectionRefused,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The connection broke or the server spoke invalid HTTP.
    Protocol,
    /// A redirect chain was longer than the guest allowed.
    TooManyRedirects,
    /// The guest gave up on the request (closed its handle) before it completed.
    Cancelled,
    /// Replaying: the replay file has no entry (left) for this request.
    NotRecorded,
    /// The HTTP proxy could not be reached, refused the tunnel or wants credentials
    /// (see [`OutboundError::proxy_failure`]).
    Proxy,
}

impl OutboundErrorKind {
    /// Stable lower-case name used in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Denied => "denied",
            Self::AddressDenied => "address-denied",
            Self::Limit => "limit",
            Self::InvalidRequest => "invalid-request",
            Self::Dns => "dns",
            Self::ConnectionRefused => "connection-refused",
            Self::Tls => "tls",
            Self::Protocol => "protocol",
            Self::TooManyRedirects => "too-many-redirects",
            Self::Cancelled => "cancelled",
            Self::NotRecorded => "not-recorded",
            Self::Proxy => "proxy",
        }
    }
}

/// Why a TLS connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server's certificate is not trusted or does not match the name.
    Certificate,
    /// Anything else in the handshake.
    Protocol,
    /// The server refused the handshake with a TLS alert (its number, when it was
    /// read), e.g. for want of a client certificate (`certificate_required`, 116).
    Alert(Option<u8>),
}

/// Why a request through the HTTP proxy failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyFailure {
    /// The proxy's name did not resolve or nothing answered at its address.
    Unreachable,
    /// The proxy answered `CONNECT` with this status (not 2xx, not 407).
    Refused(u16),
    /// The proxy answered 407: credentials missing or not accepted.
    AuthRequired,
    /// The proxy closed the connection or did not speak HTTP.
    Protocol,
}

/// Which limit fired, with the configured value, so the message can name it and its flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitHit {
    /// The limit.
    pub limit: Limit,
    /// Its configured value, formatted ("10s", "1 MiB", "64").
    pub value: String,
    /// The same value as a number: bytes, milliseconds or a count.
    pub amount: u64,
}

impl LimitHit {
    pub(crate) fn time(limit: Limit, d: Duration) -> Self {
        Self {
            limit,
            value: format_duration(d),
            amount: d.as_millis() as u64,
        }
    }
    pub(crate) fn size(limit: Limit, n: u64) -> Self {
        Self {
            limit,
            value: format_size(n),
            amount: n,
        }
    }
    pub(crate) fn count(limit: Limit, n: u64) -> Self {
        Self {
            limit,
            value: n.to_string(),
            amount: n,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Detail {
    Denied(Denial),
    AddressDenied(AddressDenial),
    Limit(LimitHit),
    Tls(TlsFailure, String),
    Cancelled(Cancellation),
    Proxy(ProxyFailure, String),
    Message(String),
}

/// A request that could not be completed, with the request it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundError {
    kind: OutboundErrorKind,
    method: String,
    url: String,
    detail: Detail,
}

impl OutboundError {
    pub(crate) fn denied(method: &str, url: &str, denial: Denial) -> Self {
        Self::new(
            OutboundErrorKind::Denied,
            method,
            url,
            Detail::Denied(denial),
        )
    }
    pub(crate) fn address_denied(method: &str, url: &str, denial: AddressDenial) -> Self {
        Self::new(
            OutboundErrorKind::AddressDenied,
            method,
            url,
            Detail::AddressDenied(denial),
        )
    }
    pub(crate) fn limited(method: &str, url: &str, hit: LimitHit) -> Self {
        Self::new(OutboundErrorKind::Limit, method, url, Detail::Limit(hit))
    }
    pub(crate) fn tls(method: &str, url: &str, failure: TlsFailure, msg: String) -> Self {
        Self::new(
            OutboundErrorKind::Tls,
            method,
            url,
            Detail::Tls(failure, msg),
        )
    }
    pub(crate) fn proxy(method: &str, url: &str, failure: ProxyFailure, msg: String) -> Self {
        Self::new(
            OutboundErrorKind::Proxy,
            method,
            url,
            Detail::Proxy(failure, msg),
        )
    }
    pub(crate) fn cancelled(method: &str, url: &str, cause: Cancellation) -> Self {
        Self::new(
            OutboundErrorKind::Cancelled,
            method,
            url,
            Detail::Cancelled(cause),
        )
    }
    pub(crate) fn other(
        kind: OutboundErrorKind,
        method: &str,
        url: &str,
        msg: impl Into<String>,
    ) -> Self {
        Self::new(kind, method, url, Detail::Message(msg.into()))
    }
    fn new(kind: OutboundErrorKind, method: &str, url: &str, detail: Detail) -> Self {
        Self {
            kind,
            method: method.to_string(),
            url: url.to_string(),
            detail,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> OutboundErrorKind {
        self.kind
    }
    /// The request method.
    pub fn method(&self) -> &str {
        &self.method
    }
    /// The request URL (it may carry secrets in its query: redact before sharing).
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The policy denial, for [`OutboundErrorKind::Denied`].
    pub fn denial(&self) -> Option<&Denial> {
        match &self.detail {
            Detail::Denied(d) => Some(d),
            _ => None,
        }
    }
    /// The address denial, for [`OutboundErrorKind::AddressDenied`].
    pub fn address_denial(&self) -> Option<&AddressDenial> {
        match &self.detail {
            Detail::AddressDenied(d) => Some(d),
            _ => None,
        }
    }
    /// The limit that fired, for [`OutboundErrorKind::Limit`].
    pub fn limit(&self) -> Option<&LimitHit> {
        match &self.detail {
            Detail::Limit(l) => Some(l),
            _ => None,
        }
    }
    /// The TLS failure class, for [`OutboundErrorKind::Tls`].
    pub fn tls_failure(&self) -> Option<TlsFailure> {
        match &self.detail {
            Detail::Tls(t, _) => Some(*t),
            _ => None,
        }
    }
    /// Why the proxy failed, for [`OutboundErrorKind::Proxy`].
    pub fn proxy_failure(&self) -> Option<ProxyFailure> {
        match &self.detail {
            Detail::Proxy(p, _) => Some(*p),
            _ => None,
        }
    }
    /// Why it was cancelled, for [`OutboundErrorKind::Cancelled`].
    pub fn cancellation(&self) -> Option<Cancellation> {
        match &self.detail {
            Detail::Cancelled(c) => Some(*c),
            _ => None,
        }
    }
    /// True when the policy (rules, addresses or limits) stopped the request.
    pub fn is_policy(&self) -> bool {
        matches!(
            self.kind,
            OutboundErrorKind::Denied | OutboundErrorKind::AddressDenied | OutboundErrorKind::Limit
        )
    }
}

impl fmt::Display for OutboundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, u) = (&self.method, &self.url);
        match &self.detail {
            Detail::Denied(d) => {
                write!(f, "denied {m} {u}: {d}; to allow it, add: {}", d.suggestion)
            }
            Detail::AddressDenied(d) => {
                write!(f, "denied {m} {u}: {d}; to allow it, add: {}", d.suggestion)
            }
            Detail::Limit(l) => write!(
                f,
                "{m} {u} stopped: {} limit of {} reached; raise it with {} (or `{}` in the config file)",
                limit_name(l.limit),
                l.value,
                l.limit.flag(),
                l.limit.config_key()
            ),
            Detail::Tls(TlsFailure::Certificate, msg) => {
                write!(f, "{m} {u} failed: TLS certificate not accepted: {msg}")
            }
            Detail::Tls(TlsFailure::Protocol, msg) => {
                write!(f, "{m} {u} failed: TLS handshake failed: {msg}")
            }
            Detail::Tls(TlsFailure::Alert(_), msg) => {
                write!(f, "{m} {u} failed: TLS refused by the server: {msg}")
            }
            Detail::Cancelled(Cancellation::GuestExited) => {
                write!(f, "{m} {u} cancelled: still open when the guest exited")
            }
            Detail::Cancelled(Cancellation::TimedOut) => {
                write!(f, "{m} {u} cancelled: still open when --timeout fired")
            }
            Detail::Cancelled(_) => write!(
                f,
                "{m} {u} failed: cancelled by the guest before it completed"
            ),
            Detail::Proxy(_, msg) => write!(f, "{m} {u} failed: {msg}"),
            // Nothing was sent: a refusal, worded like the policy's.
            Detail::Message(msg) if self.kind == OutboundErrorKind::InvalidRequest => {
                write!(f, "denied {m} {u}: refused (invalid URL): {msg}")
            }
            Detail::Message(msg) if self.kind == OutboundErrorKind::NotRecorded => {
                write!(f, "{m} {u} not replayed: {msg}")
            }
            Detail::Message(msg) => write!(f, "{m} {u} failed: {msg}"),
        }
    }
}

impl std::error::Error for OutboundError {}

fn limit_name(l: Limit) -> &'static str {
    match l {
        Limit::ConnectTimeout => "connect timeout",
        Limit::FirstByteTimeout => "first-byte timeout",
        Limit::BetweenBytesTimeout => "between-bytes timeout",
        Limit::MaxRequestBody => "request body size",
        Limit::MaxResponseBody => "response body size",
        Limit::MaxConcurrentRequests => "concurrent request",
        Limit::MaxRequests => "requests-per-run",
    }
}
