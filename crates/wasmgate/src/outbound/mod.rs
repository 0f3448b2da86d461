//! The outbound client: the single place a guest request leaves the machine.
//!
//! policy check → resolve once (pinned) → address check → connect (pooled, TLS, h1/h2)
//! → limits (timeouts, sizes, concurrency, count) → one event per request.

mod body;
pub(crate) mod connect;
mod error;
mod exchange;
mod pending;
mod pool;
mod proxy;
mod replayed;
mod resolve;
mod upload;

pub use body::{BodyError, OutboundBody, ResponseBody};
pub use error::{LimitHit, OutboundError, OutboundErrorKind, ProxyFailure, TlsFailure};
pub use resolve::{Resolve, ResolveFuture, StaticResolver, SystemResolver};

use crate::egress::{Egress, ProxyRoute};
use crate::events::{Decision, EventHub, Origin, RequestEvent};
use crate::record::{Draft, Tape};
use crate::tls::TlsConfig;
use body::{EventRecord, RequestLabel, Source};
use connect::{ConnectError, HyperBody, Peer};
use exchange::Outgoing;
use pool::{Conn, Pool, PoolKey};
use resolve::DnsPins;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use upload::Upload;
use wasmgate_policy::{AllowRule, Host, Limit, Policy, RequestTarget, Scheme};

/// Timeouts a guest asked for on one request; each is capped by the policy's limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuestTimeouts {
    /// Connect (and TLS/HTTP handshake) timeout.
    pub connect: Option<Duration>,
    /// Time to the response head.
    pub first_byte: Option<Duration>,
    /// Longest gap between response body frames.
    pub between_bytes: Option<Duration>,
}

/// A request as both adapters hand it to the client.
pub struct OutboundRequest {
    /// Method, absolute URI (scheme + authority + path) and headers. Any `Host` header is
    /// replaced by the validated authority.
    pub request: http::Request<OutboundBody>,
    /// The guest's own timeouts.
    pub timeouts: GuestTimeouts,
    /// Which interface issued it.
    pub origin: Origin,
}

/// What [`OutboundClient::send`] returns: the response head with a streaming body.
pub type SendFuture = std::pin::Pin<
    Box<dyn Future<Output = Result<http::Response<ResponseBody>, OutboundError>> + Send + 'static>,
>;

/// Sends guest requests under one policy. Cheap to clone; one per run.
#[derive(Clone)]
pub struct OutboundClient {
    inner: Arc<Inner>,
}

struct Inner {
    policy: Arc<Policy>,
    /// The resolver behind `pins`, for clients made with [`OutboundClient::for_request`].
    resolver: Arc<dyn Resolve>,
    pins: DnsPins,
    tls: TlsConfig,
    pool: Arc<Pool>,
    events: EventHub,
    concurrency: Arc<Semaphore>,
    started: AtomicU64,
    pending: Arc<pending::Pending>,
    /// Where requests are recorded to and replayed from, if anywhere.
    tape: Tape,
    /// Proxy and injected headers (docs/egress.md).
    egress: Arc<Egress>,
}

impl OutboundClient {
    /// A client for one run: its own DNS pins, connection pool and request count.
    pub fn new(
        policy: Arc<Policy>,
        resolver: Arc<dyn Resolve>,
        tls: TlsConfig,
        events: EventHub,
    ) -> Self {
        Self::with_pool(
            policy,
            resolver,
            tls,
            Arc::default(),
            Arc::default(),
            events,
            Tape::default(),
        )
    }

    /// A client for one run with its proxy and injected headers, recording to and
    /// replaying from `tape`.
    pub(crate) fn with_settings(
        policy: Arc<Policy>,
        resolver: Arc<dyn Resolve>,
        tls: TlsConfig,
        egress: Arc<Egress>,
        events: EventHub,
        tape: Tape,
    ) -> Self {
        Self::with_pool(policy, resolver, tls, Arc::default(), egress, events, tape)
    }

    fn with_pool(
        policy: Arc<Policy>,
        resolver: Arc<dyn Resolve>,
        tls: TlsConfig,
        pool: Arc<Pool>,
        egress: Arc<Egress>,
        events: EventHub,
        tape: Tape,
    ) -> Self {
        let concurrency = Arc::new(Semaphore::new(policy.limits().max_concurrent_requests));
        Self {
            inner: Arc::new(Inner {
                policy,
                pins: DnsPins::new(resolver.clone()),
                resolver,
                tls,
                pool,
                events,
                concurrency,
                started: AtomicU64::new(0),
                pending: Arc::default(),
                tape,
                egress,
            }),
        }
    }

    /// A client for one incoming request of a server (`serve`): the same policy, TLS
    /// roots and **connection pool** as this one, so a handler that calls an API on every
    /// request reuses kept-alive connections instead of opening (and leaving in
    /// TIME-WAIT) one per request; everything a run counts is its own — request count
    /// and concurrency limits, DNS pins, pending set and events.
    ///
    /// Sharing the pool is safe across requests: a pooled connection is keyed by scheme,
    /// authority and the allow rule it was dialled under, and its address passed the
    /// policy's address check when it was dialled. DNS pins stay per request, so a name
    /// that moves is looked up again by the next request that needs a new connection.
    pub fn for_request(&self, events: EventHub) -> OutboundClient {
        let i = &self.inner;
        Self::with_pool(
            i.policy.clone(),
            i.resolver.clone(),
            i.tls.clone(),
            i.pool.clone(),
            i.egress.clone(),
            events,
            i.tape.clone(),
        )
    }

    /// Waits until every request this client started has been reported to the event
    /// subscribers, at most `max` (see `pending.rs`).
    pub(crate) async fn wait_reported(&self, max: Duration) {
        self.inner.pending.wait_idle(max).await;
    }

    /// The run's event hub.
    pub(crate) fn events(&self) -> &EventHub {
        &self.inner.events
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Checks, sends and returns the response head with a streaming body. Every outcome
    /// (denial, failure, completion) is reported to the event subscribers exactly once.
    ///
    /// The request is on record from this call on, not from the first poll of the
    /// future: a future dropped before it ever ran (the guest exited right after issuing
    /// the request) is still reported, as cancelled.
    ///
    /// The future is boxed here, once: it is large (the whole exchange's state), and the
    /// adapters move it on into tasks; moving it by value cost a measurable share of
    /// every request (callgrind: memcpy under `send_request`).
    pub fn send(&self, req: OutboundRequest) -> SendFuture {
        let start = Instant::now();
        let (parts, body) = req.request.into_parts();
        // The guest's own head and body, before the host adds anything to them.
        let har = (self.inner.tape.recorder.as_ref()).map(|r| Draft::new(r, &parts.headers));
        let body = match &har {
            Some(draft) => draft.tee(body),
            None => body,
        };
        let mut record = EventRecord {
            hub: self.inner.events.clone(),
            event: RequestEvent::issued(req.origin, parts.method.as_str(), &uri_text(&parts.uri)),
            start,
            bytes_out: Arc::new(AtomicU64::new(0)),
            reported: false,
            har,
            _pending: self.inner.pending.enter(),
        };
        let client = self.clone();
        Box::pin(async move {
            let mut stage = Stage::Checking;
            let result = client
                .send_inner(parts, body, req.timeouts, &mut record, &mut stage)
                .await;
            match result {
                Ok(Sent { response, finish }) => Ok(finish(response, record)),
                Err(e) => {
                    // Denied: the policy (or an unusable URL) stopped it before it left.
                    // Allowed: it passed the policy and then failed (DNS, connect, TLS,
                    // HTTP).
                    let refused = e.is_policy() || e.kind() == OutboundErrorKind::InvalidRequest;
                    let decision = match stage {
                        Stage::Checking if refused => Decision::Denied,
                        _ => Decision::Allowed,
                    };
                    record.finish(decision, Some(e.clone()));
                    Err(e)
                }
            }
        })
    }

    async fn send_inner(
        &self,
        mut parts: http::request::Parts,
        body: OutboundBody,
        timeouts: GuestTimeouts,
        record: &mut EventRecord,
        stage: &mut Stage,
    ) -> Result<Sent, OutboundError> {
        let inner = &self.inner;
        let limits = inner.policy.limits();
        let method = parts.method.as_str();
        // The body is wrapped before anything can refuse the request: dropping the
        // wrapper keeps the guest's body stream writable (drained), so a guest that
        // writes its body after sending the head (wstd does) sees the refusal, not a
        // reset connection.
        let wrap = |body, label| {
            let idempotent = parts.method.is_idempotent();
            let sent = record.bytes_out.clone();
            Upload::new(body, idempotent, sent, limits.max_request_body, label)
        };

        let scheme = parts.uri.scheme_str().unwrap_or("");
        let authority = parts.uri.authority().map_or("", |a| a.as_str());
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let target = match RequestTarget::from_parts(method, scheme, authority, path) {
            Ok(t) => t,
            Err(e) => {
                let raw = &record.event.url;
                let label = RequestLabel {
                    method: method.into(),
                    url: raw.as_str().into(),
                };
                drop(wrap(body, label));
                let kind = OutboundErrorKind::InvalidRequest;
                return Err(OutboundError::other(kind, method, raw, e.to_string()));
            }
        };
        let authority = target.authority();
        let url = target.url_with(&authority);
        let label = RequestLabel {
            method: method.into(),
            url: url.as_str().into(),
        };
        let mut upload = wrap(body, label.clone());
        record.event.url = url.clone();

        let n = inner.started.fetch_add(1, Ordering::Relaxed) + 1;
        if n > limits.max_requests {
            let hit = LimitHit::count(Limit::MaxRequests, limits.max_requests);
            return Err(OutboundError::limited(method, &url, hit));
        }

        let rule = inner
            .policy
            .check_request(&target)
            .map_err(|d| OutboundError::denied(method, &url, d))?;
        record.event.rule = Some(rule.as_str().to_string());

        // Injected only now, after the policy allowed the request: recorders that keep
        // the guest's own headers (taken at `send()` entry) never hold a secret, and a
        // denied request never carries one.
        inner
            .egress
            .inject(&target, &mut parts.headers, &mut record.event);

        if let Some(len) = content_length(&parts.headers)
            && len > limits.max_request_body
        {
            let hit = LimitHit::size(Limit::MaxRequestBody, limits.max_request_body);
            return Err(OutboundError::limited(method, &url, hit));
        }

        let connect_timeout = limits.effective_timeout(Limit::ConnectTimeout, timeouts.connect);
        let permit =
            tokio::time::timeout(connect_timeout, inner.concurrency.clone().acquire_owned())
                .await
                .map_err(|_| {
                    let hit = LimitHit::count(
                        Limit::MaxConcurrentRequests,
                        limits.max_concurrent_requests as u64,
                    );
                    OutboundError::limited(method, &url, hit)
                })?
                .map_err(|_| {
                    let kind = OutboundErrorKind::InvalidRequest;
                    OutboundError::other(kind, method, &url, "the client is shutting down")
                })?;

        // Replay: after the policy (a replay never grants what the rules deny), before
        // any lookup or connection.
        let mut first_body = None;
        let replayed = match &inner.tape.replay {
            Some(replay) => {
                self.answer_from_replay(replay, &url, &mut upload, &label, record, &mut first_body)
                    .await?
            }
            None => None,
        };
        let (response, pool_return) = match replayed {
            Some(response) => (response, None),
            None => {
                let path = (parts.uri.path_and_query())
                    .filter(|p| p.as_str() == target.path_and_query)
                    .cloned();
                let out = Outgoing {
                    method: parts.method.clone(),
                    headers: std::mem::take(&mut parts.headers),
                    path,
                    authority,
                    upload,
                    first_body,
                    proxy: inner.egress.route(&target),
                };
                if let Some(route) = &out.proxy {
                    record.event.proxy = Some(route.authority.to_string());
                }
                self.network(
                    out,
                    &target,
                    rule,
                    &label,
                    connect_timeout,
                    timeouts,
                    record,
                    stage,
                )
                .await?
            }
        };

        if let Some(len) = content_length(response.headers())
            && len > limits.max_response_body
        {
            let hit = LimitHit::size(Limit::MaxResponseBody, limits.max_response_body);
            return Err(OutboundError::limited(method, &url, hit));
        }

        let between = limits.effective_timeout(Limit::BetweenBytesTimeout, timeouts.between_bytes);
        let max_response = limits.max_response_body;
        Ok(Sent {
            response,
            finish: Box::new(move |response, mut record| {
                let status = response.status().as_u16();
                if let Some(draft) = &mut record.har {
                    draft.response_head(status, response.version(), response.headers());
                }
                response.map(|incoming| {
                    ResponseBody::new(
                        incoming,
                        label,
                        max_response,
                        between,
                        pool_return,
                        permit,
                        record,
                        status,
                    )
                })
            }),
        })
    }

    /// Opens a new connection to one of `addrs` (already checked by the policy); HTTP/2 connections are
    /// offered to the pool at once, since they serve many requests in parallel.
    async fn connect_fresh(
        &self,
        target: &RequestTarget,
        addrs: &[SocketAddr],
        label: &RequestLabel,
        key: &PoolKey,
        route: Option<&ProxyRoute>,
        timeout: Duration,
    ) -> Result<(Conn, Peer), OutboundError> {
        let (method, url) = (&*label.method, &*label.url);
        let tls = match target.scheme {
            Scheme::Https => Some((&self.inner.tls, &target.host, target.port)),
            Scheme::Http => None,
        };
        // https through a proxy: a CONNECT tunnel to the target; http: plain TCP to the
        // proxy, which gets the request in absolute form.
        let tunnel = route
            .filter(|_| target.scheme == Scheme::Https)
            .map(|route| proxy::Tunnel {
                target: format!("{}:{}", target.host, target.port),
                route,
            });
        let connecting = connect::connect(addrs, tunnel.as_ref(), tls);
        let (conn, peer) = tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| {
                let hit = LimitHit::time(Limit::ConnectTimeout, timeout);
                OutboundError::limited(method, url, hit)
            })?
            .map_err(|e| match (e, route) {
                (ConnectError::Refused(msg), Some(route)) => OutboundError::proxy(
                    method,
                    url,
                    ProxyFailure::Unreachable,
                    format!("cannot reach the proxy {}: {msg}", route.authority),
                ),
                (e, _) => connect_error(method, url, e),
            })?;
        if let Conn::H2(h2) = &conn {
            self.inner
                .pool
                .put_h2(key.clone(), h2.clone(), peer.clone());
        }
        Ok((conn, peer))
    }

    /// Resolves (once per run) and keeps only the addresses the policy lets this rule dial.
    async fn allowed_addrs(
        &self,
        target: &RequestTarget,
        rule: &AllowRule,
        label: &RequestLabel,
        timeout: Duration,
    ) -> Result<Vec<SocketAddr>, OutboundError> {
        let (method, url) = (&*label.method, &*label.url);
        let ips: Vec<IpAddr> = match &target.host {
            Host::Ip(ip) => vec![*ip],
            Host::Name(name) => {
                let found = tokio::time::timeout(timeout, self.inner.pins.lookup(name))
                    .await
                    .map_err(|_| {
                        OutboundError::other(
                            OutboundErrorKind::Dns,
                            method,
                            url,
                            format!("DNS lookup of {name} timed out"),
                        )
                    })?;
                found
                    .map_err(|(_, msg)| {
                        OutboundError::other(
                            OutboundErrorKind::Dns,
                            method,
                            url,
                            format!("DNS lookup of {name} failed: {msg}"),
                        )
                    })?
                    .to_vec()
            }
        };
        let mut first_denial = None;
        let mut allowed = Vec::new();
        for ip in ips {
            match self.inner.policy.check_address(rule, ip) {
                Ok(()) => allowed.push(SocketAddr::new(ip, target.port)),
                Err(d) => {
                    first_denial.get_or_insert(d);
                }
            }
        }
        match (allowed.is_empty(), first_denial) {
            (true, Some(d)) => Err(OutboundError::address_denied(method, url, d)),
            _ => Ok(allowed),
        }
    }
}

enum Stage {
    /// Policy checks; a failure here means the request never left.
    Checking,
    /// Connecting or exchanging; a failure here is an allowed request that failed.
    Sending,
}

type Finish =
    Box<dyn FnOnce(http::Response<Source>, EventRecord) -> http::Response<ResponseBody> + Send>;

struct Sent {
    response: http::Response<Source>,
    finish: Finish,
}

/// `uri` as its `Display` writes it (scheme, authority, path, query), in one allocation:
/// this runs for every request, and formatting cost several.
fn uri_text(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str();
    let authority = uri.authority().map_or("", |a| a.as_str());
    let query = uri.query();
    let len = scheme.map_or(0, |s| s.len() + 3)
        + authority.len()
        + uri.path().len()
        + query.map_or(0, |q| q.len() + 1);
    let mut s = String::with_capacity(len);
    if let Some(scheme) = scheme {
        s.push_str(scheme);
        s.push_str("://");
    }
    s.push_str(authority);
    s.push_str(uri.path());
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn connect_error(method: &str, url: &str, e: ConnectError) -> OutboundError {
    match e {
        ConnectError::Refused(msg) => {
            OutboundError::other(OutboundErrorKind::ConnectionRefused, method, url, msg)
        }
        ConnectError::Tls(failure, msg) => OutboundError::tls(method, url, failure, msg),
        ConnectError::Handshake(msg) => OutboundError::other(
            OutboundErrorKind::Protocol,
            method,
            url,
            format!("HTTP handshake failed: {msg}"),
        ),
        ConnectError::Proxy(failure, msg) => OutboundError::proxy(method, url, failure, msg),
    }
}

/// A body error of ours (a limit) travels through hyper as the error's source. Any other
/// error is described with its causes: hyper's own text is just "connection error" for a
/// reset connection. A TLS error among the causes (a TLS 1.3 server refusing a client
/// certificate after the handshake) is described by the destination's TLS settings.
fn hyper_error(
    method: &str,
    url: &str,
    e: hyper::Error,
    tls: Option<(&TlsConfig, &Host, u16, bool)>,
) -> OutboundError {
    use std::error::Error as _;
    if let Some((tls, host, port, asked_then_closed)) = tls
        && let Some((failure, msg)) = tls.describe_later(host, port, asked_then_closed, &e)
    {
        return OutboundError::tls(method, url, failure, msg);
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(ours) = err.downcast_ref::<OutboundError>() {
            return ours.clone();
        }
        text = format!("{text}: {err}");
        source = err.source();
    }
    OutboundError::other(OutboundErrorKind::Protocol, method, url, text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn uri_text_is_what_display_writes() {
        for text in [
            "http://example.com",
            "http://example.com/",
            "https://127.0.0.1:8443/a/b?c=d&e",
            "http://[::1]:80/x?",
            "ftp://h/p",
            "/relative?q",
            "*",
            "example.com:443",
        ] {
            let uri: http::Uri = text.parse().unwrap();
            assert_eq!(super::uri_text(&uri), uri.to_string(), "{text}");
        }
    }
}
