//! `wasi:http/outgoing-handler.handle`, implemented by wasmgate instead of wasi-http.
//!
//! wasmtime-wasi-http 48's `handle` rebuilds every request before its hook sees it:
//! header map copied entry by entry through `http::request::Builder`, the URI assembled
//! and parsed, the body boxed twice, a no-op I/O future boxed, and two tasks spawned.
//! Doing the same work once here (the URI built once, the guest's header map moved, one
//! body box, the request handed straight to the [`OutboundClient`](crate::outbound::OutboundClient))
//! is a measurable share of a guest request's overhead (docs/benchmarks.md, "What
//! changed").
//!
//! Semantics are wasi-http's (`p2/http_impl.rs` of 48.0.8), in the same order of
//! checks, with two differences on purpose:
//! - a request wasi-http would refuse before its hook (scheme not exactly `http`/`https`,
//!   no valid URI) is reported like any invalid URL (see `refusal.rs`);
//! - the `request-options` resource is dropped from the table (wasi-http leaves it there
//!   until the store ends: one table entry per request that passed options).

use super::error_code::from_http_error;
use super::refusal::{RequestUri, request_uri};
use super::{ComponentState, guest_timeouts, outbound_request, to_wasi_error};
use crate::events::{Origin, RequestEvent};
use crate::outbound::GuestTimeouts;
use http_body_util::BodyExt;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::RequestOptions;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Method};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};

/// The interface name wasi-http 48 registers (see `error_code::HTTP_TYPES`).
pub(crate) const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

type HandleResult = Result<Resource<HostFutureIncomingResponse>, ErrorCode>;

/// Replaces `handle` in a linker that already has wasi-http's `outgoing-handler`.
pub(crate) fn shadow_handle(linker: &mut Linker<ComponentState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let defined = linker.instance(OUTGOING_HANDLER)?.func_wrap(
        "handle",
        |mut store,
         (request, options): (
            Resource<HostOutgoingRequest>,
            Option<Resource<RequestOptions>>,
        )|
         -> wasmtime::Result<(HandleResult,)> {
            Ok((handle(store.data_mut(), request, options)?,))
        },
    );
    linker.allow_shadowing(false);
    defined
}

/// `handle` proper. `Err` traps; `Ok(Err(code))` is the guest's error code.
fn handle(
    state: &mut ComponentState,
    request: Resource<HostOutgoingRequest>,
    options: Option<Resource<RequestOptions>>,
) -> wasmtime::Result<HandleResult> {
    // `handle` owns both resources.
    let timeouts = match options {
        Some(options) => guest_timeouts(&state.table.delete(options)?),
        None => GuestTimeouts::default(),
    };
    let req = state.table.delete(request)?;
    let uri = match request_uri(&req) {
        RequestUri::Valid(uri) => uri,
        RequestUri::Refused(refused) => {
            let code = from_http_error(&to_wasi_error(&refused));
            let mut event = RequestEvent::issued(Origin::WasiHttp, refused.method(), refused.url());
            event.error = Some(refused);
            state.hooks.client.events().emit(&event);
            return Ok(Err(code));
        }
    };
    // wasi-http validates `content-length` here too: a guest need not call
    // `outgoing-request.body` or `outgoing-body.finish`, which otherwise check it, and
    // the framing of what goes on the wire depends on it.
    let content_length = match content_length(&req.headers) {
        Ok(n) => n,
        Err(why) => return Ok(Err(ErrorCode::InternalError(Some(why)))),
    };
    if req.body.is_none() && content_length.is_some_and(|n| n != 0) {
        return Ok(Err(ErrorCode::HttpRequestBodySize(Some(0))));
    }
    let Some(method) = method(&req.method) else {
        return Ok(Err(ErrorCode::HttpRequestMethodInvalid));
    };
    // No `Host` header: the client sets `Host` (HTTP/1.1) or `:authority` (HTTP/2) from
    // the validated target itself.
    let mut head = http::Request::new(());
    *head.method_mut() = method;
    *head.uri_mut() = uri;
    *head.headers_mut() = req.headers.into();
    let (parts, ()) = head.into_parts();
    // Called here, not inside the task: the request is on record even if the guest
    // drops the future before the task first runs.
    let sent = state
        .hooks
        .client
        .send(outbound_request(parts, req.body, timeouts));
    let task = wasmtime_wasi::runtime::spawn(async move {
        let response = sent.await.map_err(|e| to_wasi_error(&e))?;
        let response = response.map(|b| b.map_err(|e| to_wasi_error(&e)).boxed_unsync());
        // wasi-http keeps an I/O task beside every response (aborted with the body). The
        // connection's I/O already runs in the client's own task, so this one has
        // nothing to do; it is spawned only once a response exists.
        let io = wasmtime_wasi::runtime::spawn(async {});
        Ok((response, io))
    });
    Ok(Ok(state
        .table
        .push(HostFutureIncomingResponse::Pending(task))?))
}

/// The request's one `content-length`, checked as wasi-http 48 checks it (RFC 9110:
/// `1*DIGIT`, exactly one value); `Err` is the reason, for `internal-error`.
fn content_length(headers: &http::HeaderMap) -> Result<Option<u64>, String> {
    let mut values = headers.get_all(http::header::CONTENT_LENGTH).iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("multiple `content-length` header values".into());
    }
    let text = v
        .to_str()
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
    match text.map(str::parse::<u64>) {
        Some(Ok(n)) => Ok(Some(n)),
        _ => Err(format!("invalid `content-length` header value: {v:?}")),
    }
}

/// The guest's method as `http::Method`; `None` when it is not a valid token.
fn method(m: &Method) -> Option<http::Method> {
    Some(match m {
        Method::Get => http::Method::GET,
        Method::Head => http::Method::HEAD,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
        Method::Connect => http::Method::CONNECT,
        Method::Options => http::Method::OPTIONS,
        Method::Trace => http::Method::TRACE,
        Method::Patch => http::Method::PATCH,
        Method::Other(m) => http::Method::from_bytes(m.as_bytes()).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadows_the_name_wasi_http_registers() {
        crate::component::assert_shadows(OUTGOING_HANDLER, "handle", shadow_handle);
    }

    #[test]
    fn content_length_is_checked_as_wasi_http_does() {
        // Values sent, and the length (`Some(None)`: none) or `None` for a refusal.
        type Case = (&'static [&'static str], Option<Option<u64>>);
        let cases: &[Case] = &[
            (&[], Some(None)),
            (&["0"], Some(Some(0))),
            (&["1024"], Some(Some(1024))),
            (&["+5"], None),
            (&[""], None),
            (&["5 "], None),
            (&["-1"], None),
            (&["0x10"], None),
            (&["99999999999999999999999"], None),
            (&["5", "5"], None),
        ];
        for (values, want) in cases {
            let mut headers = http::HeaderMap::new();
            for v in *values {
                headers.append(http::header::CONTENT_LENGTH, v.parse().unwrap());
            }
            let got = content_length(&headers).ok();
            assert_eq!(&got, want, "content-length {values:?}");
        }
    }

    #[test]
    fn methods_map_and_bad_tokens_are_refused() {
        assert_eq!(method(&Method::Patch), Some(http::Method::PATCH));
        assert_eq!(
            method(&Method::Other("PURGE".into())).unwrap().as_str(),
            "PURGE"
        );
        assert_eq!(method(&Method::Other("BAD METHOD".into())), None);
        assert_eq!(method(&Method::Other(String::new())), None);
    }
}
