//! One request's exchange with the server: the connection it goes out on, and the single
//! resend a stale pooled connection may earn.
//!
//! # When a request is sent again
//!
//! A server may close an idle keep-alive connection without saying so (no
//! `Connection: close`), and the close can cross our next request on the wire. As
//! browsers and Go's `net/http` do, the request then goes out once more, on a **new**
//! connection, when all of these hold:
//!
//! 1. the failed attempt used a connection taken from the pool (reused). A connection
//!    dialled for this request that fails is never retried;
//! 2. it failed with an error (a timeout is never retried), and either hyper never took
//!    the request (it saw the connection closed first) or not one byte of a response
//!    had arrived on the connection since the request was handed to it;
//! 3. the whole request can be rebuilt: nothing of its body has left the guest's stream
//!    (no body, an empty one, or the guest had not written any yet), or the method is
//!    idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) and everything that left is in
//!    its replay copy (at most 64 KiB, see `upload`). A body that was written is never
//!    sent again for any other method (POST, PATCH, …).
//!
//! At most once per request. The second attempt keeps every guarantee of the first: the
//! same validated target and rule, the pinned addresses checked again, the connect timeout
//! on the new connection, one first-byte deadline for both attempts together, one
//! concurrency slot, one count against the request limit, one event.

use super::body::{EventRecord, PoolReturn, RequestLabel, Source};
use super::connect::HyperBody;
use super::error::{LimitHit, OutboundError, OutboundErrorKind};
use super::pool::{self, Conn, PoolKey};
use super::upload::Upload;
use super::{GuestTimeouts, OutboundClient, Stage, hyper_error};
use crate::egress::ProxyRoute;
use std::time::Duration;
use wasmgate_policy::{AllowRule, Limit, RequestTarget, Scheme};

/// What one request needs for its exchange.
pub(super) struct Exchange<'a> {
    pub(super) method: http::Method,
    pub(super) headers: http::HeaderMap,
    pub(super) upload: Upload,
    /// The body for the first attempt, when it is not the upload's first view (replay
    /// read part of it to match it).
    pub(super) first_body: Option<HyperBody>,
    pub(super) target: &'a RequestTarget,
    pub(super) rule: &'a AllowRule,
    pub(super) key: &'a PoolKey,
    /// `host[:port]` of the validated target, for `Host` or `:authority`.
    pub(super) authority: &'a str,
    /// The guest's path and query as `http` already parsed it, when its text is exactly
    /// the validated target's (then the request line reuses it instead of parsing the
    /// same text again).
    pub(super) path: Option<http::uri::PathAndQuery>,
    pub(super) label: &'a RequestLabel,
    /// The proxy this request goes through, if any.
    pub(super) proxy: Option<&'a ProxyRoute>,
    pub(super) connect_timeout: Duration,
    pub(super) first_byte: Duration,
}

/// The request's head and body as they leave for the network.
pub(super) struct Outgoing {
    pub(super) method: http::Method,
    pub(super) headers: http::HeaderMap,
    /// The guest's parsed path and query, when its text is exactly the validated one.
    pub(super) path: Option<http::uri::PathAndQuery>,
    /// `host[:port]` of the validated target.
    pub(super) authority: String,
    pub(super) upload: Upload,
    /// The body for the first attempt when replay already read part of it.
    pub(super) first_body: Option<HyperBody>,
    /// The proxy it goes through, if any.
    pub(super) proxy: Option<ProxyRoute>,
}

type Exchanged = (http::Response<hyper::body::Incoming>, Option<PoolReturn>);

impl OutboundClient {
    /// Sends the request on a connection (pooled or new).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn network(
        &self,
        out: Outgoing,
        target: &RequestTarget,
        rule: &AllowRule,
        label: &RequestLabel,
        connect_timeout: Duration,
        timeouts: GuestTimeouts,
        record: &mut EventRecord,
        stage: &mut Stage,
    ) -> Result<(http::Response<Source>, Option<PoolReturn>), OutboundError> {
        let limits = self.inner.policy.limits();
        let key = PoolKey {
            scheme: match target.scheme {
                Scheme::Http => "http",
                Scheme::Https => "https",
            },
            authority: out.authority,
            rule: pool::RuleId::of(rule),
            proxied: out.proxy.is_some(),
        };
        let first_byte = limits.effective_timeout(Limit::FirstByteTimeout, timeouts.first_byte);
        let exchange = Exchange {
            method: out.method,
            headers: out.headers,
            upload: out.upload,
            first_body: out.first_body,
            target,
            rule,
            key: &key,
            authority: &key.authority,
            path: out.path,
            label,
            proxy: out.proxy.as_ref(),
            connect_timeout,
            first_byte,
        };
        let (response, pool_return) = self.exchange(exchange, record, stage).await?;
        if let Some(route) = &out.proxy
            && target.scheme == Scheme::Http
            && response.status() == http::StatusCode::PROXY_AUTHENTICATION_REQUIRED
        {
            // Only a proxy answers 407; the guest gets the error that names the fix.
            record.event.status = Some(407);
            return Err(super::proxy::http_auth_required(
                &label.method,
                &label.url,
                route,
            ));
        }
        Ok((response.map(Source::Net), pool_return))
    }

    /// Sends on a pooled connection if there is one, else on a new one; resends once
    /// under the rule in this module's documentation.
    pub(super) async fn exchange(
        &self,
        ex: Exchange<'_>,
        record: &mut EventRecord,
        stage: &mut Stage,
    ) -> Result<Exchanged, OutboundError> {
        let (method, url) = (&*ex.label.method, &*ex.label.url);
        let mut pooled = self.inner.pool.checkout(ex.key).await;
        let mut body = Some(match ex.first_body {
            Some(body) => body,
            None => ex.upload.first(),
        });
        let mut deadline = None;
        loop {
            let (conn, peer, reused) = match pooled.take() {
                Some((conn, peer)) => (conn, peer, true),
                None => {
                    // Boxed: lookup and connect (TLS handshake included) are large futures
                    // that most requests, riding a pooled connection, never run; inline
                    // they would make every request's future that large to create and move.
                    let addrs = match ex.proxy {
                        Some(route) => {
                            Box::pin(self.proxy_addrs(
                                ex.target,
                                ex.rule,
                                route,
                                ex.label,
                                ex.connect_timeout,
                            ))
                            .await?
                        }
                        None => {
                            Box::pin(self.allowed_addrs(
                                ex.target,
                                ex.rule,
                                ex.label,
                                ex.connect_timeout,
                            ))
                            .await?
                        }
                    };
                    // Past the policy: from here a failure is an allowed request that failed.
                    *stage = Stage::Sending;
                    let dialled = std::time::Instant::now();
                    let (conn, peer) = Box::pin(self.connect_fresh(
                        ex.target,
                        &addrs,
                        ex.label,
                        ex.key,
                        ex.proxy,
                        ex.connect_timeout,
                    ))
                    .await?;
                    if let Some(draft) = &mut record.har {
                        draft.connect = Some(dialled.elapsed());
                    }
                    (conn, peer, false)
                }
            };
            *stage = Stage::Sending;
            record.event.addr = Some(peer.addr);
            if let Some(draft) = &mut record.har {
                draft.connection = Some(peer.id);
            }
            let h2 = matches!(conn, Conn::H2(_));
            let request = build_request(
                ex.method.clone(),
                ex.headers.clone(),
                body.take().expect("a body for each attempt"),
                ex.target,
                ex.authority,
                ex.path.clone(),
                h2,
                ex.proxy,
            )
            .map_err(|e| {
                OutboundError::other(
                    OutboundErrorKind::InvalidRequest,
                    method,
                    url,
                    e.to_string(),
                )
            })?;
            // Time to the response head, counted from the first attempt.
            let deadline = *deadline.get_or_insert_with(|| deadline_after(ex.first_byte));
            let received = peer.received();
            let sent = tokio::time::timeout_at(deadline, send_on(conn, request))
                .await
                .map_err(|_| {
                    let hit = LimitHit::time(Limit::FirstByteTimeout, ex.first_byte);
                    OutboundError::limited(method, url, hit)
                })?;
            let (fail, unsent) = match sent {
                Ok((response, h1)) => {
                    let back = h1.map(|sender| PoolReturn {
                        pool: self.inner.pool.clone(),
                        key: ex.key.clone(),
                        sender,
                        peer,
                    });
                    return Ok((response, back));
                }
                Err(SendFail::Unsent(request, e)) => {
                    drop(request);
                    (e, true)
                }
                Err(SendFail::Failed(e)) => (e, false),
            };
            let no_response = unsent || peer.received() == received;
            if reused
                && no_response
                && let Some(again) = ex.upload.again()
            {
                tracing::debug!(
                    "{method} {url}: the reused connection to {} failed before any response \
                     ({fail}); sending it again on a new connection",
                    peer.addr
                );
                body = Some(again);
                continue;
            }
            let tls = (ex.target.scheme == wasmgate_policy::Scheme::Https).then_some((
                &self.inner.tls,
                &ex.target.host,
                ex.target.port,
                peer.client_cert_asked && no_response,
            ));
            return Err(hyper_error(method, url, fail, tls));
        }
    }
}

/// Stands in for "no deadline" when a timeout is too long to add to the clock (an
/// embedder may configure `Duration::MAX`): thirty years.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

fn deadline_after(d: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(d).unwrap_or(now + FAR_FUTURE)
}

/// Why an exchange failed: before hyper took the request (nothing was written), or after.
enum SendFail {
    Unsent(Box<http::Request<HyperBody>>, hyper::Error),
    Failed(hyper::Error),
}

type H1Sender = hyper::client::conn::http1::SendRequest<HyperBody>;

/// Sends on one connection; an HTTP/1.1 sender comes back for the pool.
async fn send_on(
    conn: Conn,
    request: http::Request<HyperBody>,
) -> Result<(http::Response<hyper::body::Incoming>, Option<H1Sender>), SendFail> {
    fn fail(mut e: hyper::client::conn::TrySendError<http::Request<HyperBody>>) -> SendFail {
        match e.take_message() {
            Some(request) => SendFail::Unsent(Box::new(request), e.into_error()),
            None => SendFail::Failed(e.into_error()),
        }
    }
    match conn {
        Conn::H1(mut sender) => {
            if let Err(e) = sender.ready().await {
                return Err(SendFail::Unsent(Box::new(request), e));
            }
            let response = sender.try_send_request(request).await.map_err(fail)?;
            Ok((response, Some(sender)))
        }
        Conn::H2(mut sender) => {
            if let Err(e) = sender.ready().await {
                return Err(SendFail::Unsent(Box::new(request), e));
            }
            let response = sender.try_send_request(request).await.map_err(fail)?;
            Ok((response, None))
        }
    }
}

/// Rebuilds the request for the wire. HTTP/1.1 gets origin-form and a `Host` taken from
/// the validated target; HTTP/2 gets the absolute URI (hyper turns it into `:authority`)
/// and no `Host` header, which HTTP/2 servers reject. A plain-http request to a proxy
/// gets the absolute URI too (hyper's HTTP/1.1 writer puts a URI with a scheme on the
/// request line as it is: absolute form), a `Host` and the proxy's credentials.
#[allow(clippy::too_many_arguments)]
fn build_request(
    method: http::Method,
    mut headers: http::HeaderMap,
    body: HyperBody,
    target: &RequestTarget,
    authority: &str,
    path: Option<http::uri::PathAndQuery>,
    h2: bool,
    proxy: Option<&ProxyRoute>,
) -> Result<http::Request<HyperBody>, http::Error> {
    headers.remove(http::header::HOST);
    if proxy.is_some() {
        // Never the guest's: only the host speaks to the proxy.
        headers.remove(http::header::PROXY_AUTHORIZATION);
    }
    let absolute_to_proxy =
        proxy.is_some() && !h2 && target.scheme == wasmgate_policy::Scheme::Http;
    let uri = if absolute_to_proxy {
        headers.insert(http::header::HOST, http::HeaderValue::from_str(authority)?);
        if let Some(auth) = proxy.and_then(|p| p.auth.clone()) {
            headers.insert(http::header::PROXY_AUTHORIZATION, auth);
        }
        http::Uri::builder()
            .scheme(target.scheme.as_str())
            .authority(authority)
            .path_and_query(target.path_and_query.as_str())
            .build()?
    } else if h2 {
        http::Uri::builder()
            .scheme(target.scheme.as_str())
            .authority(authority)
            .path_and_query(target.path_and_query.as_str())
            .build()?
    } else {
        headers.insert(http::header::HOST, http::HeaderValue::from_str(authority)?);
        match path {
            // The same text the policy matched, already parsed.
            Some(path) => http::Uri::from(path),
            None => http::Uri::builder()
                .path_and_query(target.path_and_query.as_str())
                .build()?,
        }
    };
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri)
        .version(if h2 {
            http::Version::HTTP_2
        } else {
            http::Version::HTTP_11
        })
        .body(body)?;
    *req.headers_mut() = headers;
    Ok(req)
}
