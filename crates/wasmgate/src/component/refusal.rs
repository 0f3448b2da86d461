//! Requests wasi-http would refuse before its hook: still reported.
//!
//! wasmtime-wasi-http 48's `handle` turns a scheme other than exactly `http`/`https`
//! (`ftp`, `file`, upper-case `HTTP`) into `HTTP-protocol-error`, and a request without
//! an authority into a URI error, without calling `send_request`: no stderr line, no
//! audit record. wasmgate's `handle` (handle.rs) checks for exactly those cases first,
//! reports them as the outbound client reports any invalid URL (one event, decision
//! denied, kind `invalid-request`) and returns `HTTP-request-URI-invalid`.

use crate::outbound::{OutboundError, OutboundErrorKind};
use wasmgate_policy::RequestTarget;
use wasmtime_wasi_http::p2::bindings::http::types::{Method, Scheme};
use wasmtime_wasi_http::p2::types::HostOutgoingRequest;

/// A guest request's URI, or why wasi-http would refuse it.
pub(crate) enum RequestUri {
    /// Scheme exactly `http`/`https` (none means `https`, the crate's `default_scheme`),
    /// with a valid authority and path: the URI the request goes out with.
    Valid(http::Uri),
    /// Refused before any policy decision, in the client's words.
    Refused(OutboundError),
}

/// The request's URI, built once, or the invalid-request error for a request
/// wasi-http's own `handle` would refuse before calling its hook (mirrors
/// `p2/http_impl.rs` of 48.0.8).
pub(crate) fn request_uri(req: &HostOutgoingRequest) -> RequestUri {
    let (scheme, text) = match &req.scheme {
        None | Some(Scheme::Https) => (Some(http::uri::Scheme::HTTPS), "https"),
        Some(Scheme::Http) => (Some(http::uri::Scheme::HTTP), "http"),
        // `http::uri::Scheme` equals HTTP/HTTPS only for these exact bytes.
        Some(Scheme::Other(s)) => match s.as_str() {
            "https" => (Some(http::uri::Scheme::HTTPS), "https"),
            "http" => (Some(http::uri::Scheme::HTTP), "http"),
            other => (None, other),
        },
    };
    let authority = req.authority.as_deref().unwrap_or("");
    let path = req.path_with_query.as_deref();
    if let Some(scheme) = scheme.clone() {
        let mut uri = http::Uri::builder().scheme(scheme).authority(authority);
        if let Some(p) = path {
            uri = uri.path_and_query(p);
        }
        if let Ok(uri) = uri.build() {
            return RequestUri::Valid(uri);
        }
    }
    let method = method_text(&req.method);
    let path = path.unwrap_or("/");
    let url = format!("{text}://{authority}{path}");
    let why = match RequestTarget::from_parts(&method, text, authority, path) {
        Err(e) => e.to_string(),
        // wasmgate's parser takes any case; wasi-http only lower case.
        Ok(_) if scheme.is_none() => format!(
            "invalid request {url:?}: scheme {text:?} is not supported: wasi:http takes \
             \"http\" and \"https\" in lower case"
        ),
        Ok(_) => format!("invalid request {url:?}: not a valid URI"),
    };
    RequestUri::Refused(OutboundError::other(
        OutboundErrorKind::InvalidRequest,
        &method,
        &url,
        why,
    ))
}

fn method_text(m: &Method) -> String {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(s) => s,
    }
    .to_string()
}
