//! Through an HTTP proxy: resolving and dialling the proxy, and the `CONNECT` exchange
//! that opens a tunnel to an https target (TLS to the target then runs inside it, with
//! the target's name, exactly as on a direct connection). http targets need no tunnel:
//! their requests go to the proxy in absolute form (see `exchange::build_request`).
//!
//! `CONNECT` is written and its answer parsed here rather than with hyper-util's
//! `Tunnel`, which reports neither the status a proxy refused with nor its reason, and
//! rather than with hyper's client, whose upgraded stream is not the `TcpStream` the TLS
//! set-up takes.

use super::connect::ConnectError;
use super::error::{OutboundError, ProxyFailure};
use super::{OutboundClient, RequestLabel};
use crate::egress::ProxyRoute;
use http::HeaderValue;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wasmgate_policy::{AllowRule, Host, RequestTarget};

/// Largest response head a proxy may answer `CONNECT` with. Real ones send a status
/// line and a few headers; the cap bounds what a misbehaving one can make us buffer.
const MAX_CONNECT_RESPONSE_HEAD: usize = 16 * 1024;

/// Most headers parsed in that head (httparse needs a fixed table).
const MAX_CONNECT_RESPONSE_HEADERS: usize = 64;

/// A tunnel to open through the proxy, once TCP to it is up.
pub(crate) struct Tunnel<'a> {
    /// `host:port` of the target, always with the port.
    pub(crate) target: String,
    pub(crate) route: &'a ProxyRoute,
}

impl OutboundClient {
    /// The proxy's addresses. The proxy is the operator's choice, not the guest's, so
    /// its address is not put to the policy's address check. The target's is, when the
    /// target is an IP literal; a target name is resolved by the proxy, out of reach of
    /// the check (docs/egress.md, "Address checks").
    pub(super) async fn proxy_addrs(
        &self,
        target: &RequestTarget,
        rule: &AllowRule,
        route: &ProxyRoute,
        label: &RequestLabel,
        timeout: Duration,
    ) -> Result<Vec<SocketAddr>, OutboundError> {
        let (method, url) = (&*label.method, &*label.url);
        if let Host::Ip(ip) = target.host {
            self.inner
                .policy
                .check_address(rule, ip)
                .map_err(|d| OutboundError::address_denied(method, url, d))?;
        }
        let unreachable = |why: String| {
            OutboundError::proxy(
                method,
                url,
                ProxyFailure::Unreachable,
                format!("cannot reach the proxy {}: {why}", route.authority),
            )
        };
        let ips = match &route.host {
            Host::Ip(ip) => vec![*ip],
            Host::Name(name) => tokio::time::timeout(timeout, self.inner.pins.lookup(name))
                .await
                .map_err(|_| unreachable(format!("DNS lookup of {name} timed out")))?
                .map_err(|(_, msg)| unreachable(format!("DNS lookup of {name} failed: {msg}")))?
                .to_vec(),
        };
        Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, route.port))
            .collect())
    }
}

/// Asks the proxy on `stream` for a tunnel; on success the stream carries the target's
/// bytes from the next one on.
pub(crate) async fn open_tunnel(
    stream: &mut TcpStream,
    tunnel: &Tunnel<'_>,
) -> Result<(), ConnectError> {
    let proxy = &tunnel.route.authority;
    let target = &tunnel.target;
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(auth) = &tunnel.route.auth {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let io_failed = |e: std::io::Error| {
        ConnectError::Proxy(
            ProxyFailure::Protocol,
            format!("the proxy {proxy} closed the connection during CONNECT {target}: {e}"),
        )
    };
    stream.write_all(&request).await.map_err(io_failed)?;

    let mut buf = Vec::with_capacity(1024);
    loop {
        if buf.len() >= MAX_CONNECT_RESPONSE_HEAD {
            return Err(ConnectError::Proxy(
                ProxyFailure::Protocol,
                format!(
                    "the proxy {proxy} answered CONNECT {target} with a head over {MAX_CONNECT_RESPONSE_HEAD} bytes"
                ),
            ));
        }
        let mut chunk = [0u8; 1024];
        let room = (MAX_CONNECT_RESPONSE_HEAD - buf.len()).min(chunk.len());
        let n = stream.read(&mut chunk[..room]).await.map_err(io_failed)?;
        if n == 0 {
            return Err(ConnectError::Proxy(
                ProxyFailure::Protocol,
                format!(
                    "the proxy {proxy} closed the connection before answering CONNECT {target}"
                ),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_CONNECT_RESPONSE_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let parsed = response.parse(&buf).map_err(|e| {
            ConnectError::Proxy(
                ProxyFailure::Protocol,
                format!("the proxy {proxy} answered CONNECT {target} with invalid HTTP: {e}"),
            )
        })?;
        let httparse::Status::Complete(head_len) = parsed else {
            continue;
        };
        let status = response.code.unwrap_or(0);
        let reason = response.reason.unwrap_or("").trim();
        let quoted = if reason.is_empty() {
            format!("{status}")
        } else {
            format!("{status} {reason}")
        };
        return match status {
            200..=299 if head_len == buf.len() => Ok(()),
            // The client speaks first in TLS: anything after the head is not the target's.
            200..=299 => Err(ConnectError::Proxy(
                ProxyFailure::Protocol,
                format!("the proxy {proxy} sent data after accepting CONNECT {target}"),
            )),
            407 => Err(ConnectError::Proxy(
                ProxyFailure::AuthRequired,
                auth_required(
                    proxy,
                    tunnel.route.auth.as_ref(),
                    &format!("CONNECT {target}"),
                ),
            )),
            _ => Err(ConnectError::Proxy(
                ProxyFailure::Refused(status),
                format!("the proxy {proxy} refused CONNECT {target}: {quoted}"),
            )),
        };
    }
}

/// The message for a proxy's 407, with the fix that was not already applied.
pub(crate) fn auth_required(proxy: &str, auth: Option<&HeaderValue>, what: &str) -> String {
    match auth {
        None => format!(
            "the proxy {proxy} requires authentication (407) for {what}; give its credentials in the proxy URL: --proxy http://USER:PASSWORD@{proxy}"
        ),
        Some(_) => format!(
            "the proxy {proxy} did not accept the credentials in the proxy URL (407) for {what}; check USER:PASSWORD in --proxy (or HTTPS_PROXY/HTTP_PROXY with --proxy-from-env)"
        ),
    }
}

/// A plain-http request the proxy answered with 407 is still a response; the guest
/// gets it. This turns it into the same error a tunnel's 407 is, so both say which
/// setting to fix.
pub(super) fn http_auth_required(method: &str, url: &str, route: &ProxyRoute) -> OutboundError {
    OutboundError::proxy(
        method,
        url,
        ProxyFailure::AuthRequired,
        auth_required(
            &route.authority,
            route.auth.as_ref(),
            &format!("{method} {url}"),
        ),
    )
}
