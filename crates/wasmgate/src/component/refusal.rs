//! `wasi:http/outgoing-handler.handle`, wrapped so that a request wasi-http would refuse
//! before wasmgate's hook sees it is still reported.
//!
//! wasmtime-wasi-http 48's `handle` turns a scheme other than exactly `http`/`https`
//! (`ftp`, `file`, upper-case `HTTP`) into `HTTP-protocol-error`, and a request without
//! an authority into a URI error, without calling `send_request`: no stderr line, no
//! audit record. The wrapper checks for exactly those cases first, reports them as the
//! outbound client reports any invalid URL (one event, decision denied, kind
//! `invalid-request`) and returns `HTTP-request-URI-invalid`; every other request goes
//! to the crate's `handle` unchanged.

use super::ComponentState;
use super::error_code::from_http_error;
use crate::events::{Origin, RequestEvent};
use crate::outbound::{OutboundError, OutboundErrorKind};
use wasmgate_policy::RequestTarget;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler::Host as _;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Method, Scheme};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{RequestOptions, WasiHttpView};

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
            let state: &mut ComponentState = store.data_mut();
            if let Some(refused) = refusal(state.table.get(&request)?) {
                // `handle` owns both resources; the request is not going anywhere.
                state.table.delete(request)?;
                if let Some(options) = options {
                    state.table.delete(options)?;
                }
                let code = from_http_error(&super::to_wasi_error(&refused));
                let mut event =
                    RequestEvent::issued(Origin::WasiHttp, refused.method(), refused.url());
                event.error = Some(refused);
                state.hooks.client.events().emit(&event);
                return Ok((Err(code),));
            }
            // As the generated binding does: an error code goes to the guest, anything
            // else is a trap.
            match state.http().handle(request, options) {
                Ok(future) => Ok((Ok(future),)),
                Err(e) => Ok((Err(e.downcast()?),)),
            }
        },
    );
    linker.allow_shadowing(false);
    defined
}

/// The request as an invalid-request error if wasi-http's `handle` would refuse it
/// before calling the hook (mirrors `p2/http_impl.rs`), in the client's words.
pub(crate) fn refusal(req: &HostOutgoingRequest) -> Option<OutboundError> {
    let scheme = match &req.scheme {
        None => "https", // the crate's `default_scheme`
        Some(Scheme::Http) => "http",
        Some(Scheme::Https) => "https",
        Some(Scheme::Other(s)) => s.as_str(),
    };
    let authority = req.authority.as_deref().unwrap_or("");
    let path = req.path_with_query.as_deref();
    // `http::uri::Scheme` equals HTTP/HTTPS only for these exact bytes.
    let supported = matches!(scheme, "http" | "https");
    let mut uri = http::Uri::builder().scheme(scheme).authority(authority);
    if let Some(p) = path {
        uri = uri.path_and_query(p);
    }
    if supported && uri.build().is_ok() {
        return None;
    }
    let method = method_text(&req.method);
    let path = path.unwrap_or("/");
    let url = format!("{scheme}://{authority}{path}");
    let why = match RequestTarget::from_parts(&method, scheme, authority, path) {
        Err(e) => e.to_string(),
        // wasmgate's parser takes any case; wasi-http only lower case.
        Ok(_) if !supported => format!(
            "invalid request {url:?}: scheme {scheme:?} is not supported: wasi:http takes \
             \"http\" and \"https\" in lower case"
        ),
        Ok(_) => format!("invalid request {url:?}: not a valid URI"),
    };
    Some(OutboundError::other(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadows_the_name_wasi_http_registers() {
        let engine = crate::engine::new_engine().unwrap();
        let mut linker = Linker::<ComponentState>::new(&engine);
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).unwrap();
        // Without shadowing a redefinition fails, so the crate registered this name.
        let again = linker
            .instance(OUTGOING_HANDLER)
            .unwrap()
            .func_wrap("handle", |_, (): ()| Ok(()));
        assert!(
            again.is_err(),
            "{OUTGOING_HANDLER} is not the name wasi-http uses"
        );
        shadow_handle(&mut linker).unwrap();
    }
}
