//! Components (wasip2): WASI plus `wasi:http`, whose outgoing requests go through the
//! [`OutboundClient`] via the `WasiHttpHooks::send_request` hook (no fork of wasi-http).

mod error_code;
mod handle;
mod refusal;

pub(crate) use error_code::shadow_http_error_code;
pub(crate) use handle::shadow_handle;

use crate::events::Origin;
use crate::outbound::{
    GuestTimeouts, LimitHit, OutboundBody, OutboundClient, OutboundError, OutboundErrorKind,
    OutboundRequest, ProxyFailure, TlsFailure,
};
use http_body_util::BodyExt;
use wasmgate_policy::Limit;
use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

/// Store state of a component run.
pub(crate) struct ComponentState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) hooks: PolicyHooks,
    pub(crate) limits: StoreLimits,
}

impl WasiView for ComponentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for ComponentState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// The hooks that route every `wasi:http` request through the policy-enforcing client.
/// Forbidden request headers stay Wasmtime's documented list (`Connection`,
/// `Keep-Alive`, `Proxy-*`, `Transfer-Encoding`, `Upgrade`, `Host`, `HTTP2-Settings`).
pub(crate) struct PolicyHooks {
    pub(crate) client: OutboundClient,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for PolicyHooks {
    /// The client sets `Host` (HTTP/1.1) or `:authority` (HTTP/2) from the validated
    /// target itself, so wasi-http must not add one.
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        io: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        // Not reached from guests (wasmgate's own `handle` calls the client directly,
        // see component/handle.rs); kept so that nothing wasi-http might call sends a
        // request around the policy.
        let (parts, body) = request.into_parts();
        let timeouts = options.as_ref().map(guest_timeouts).unwrap_or_default();
        let sent = self
            .client
            .send(outbound_request(parts, Some(body), timeouts));
        Box::new(async move {
            let response = sent.await.map_err(|e| to_wasi_error(&e))?;
            let response = response.map(|b| b.map_err(|e| to_wasi_error(&e)).boxed_unsync());
            // The connection's I/O runs in the client's own task; hand back wasi-http's
            // own no-op rather than allocating another.
            Ok((response, io))
        })
    }
}

/// The timeouts a guest set in `request-options`.
pub(crate) fn guest_timeouts(o: &RequestOptions) -> GuestTimeouts {
    GuestTimeouts {
        connect: o.connect_timeout,
        first_byte: o.first_byte_timeout,
        between_bytes: o.between_bytes_timeout,
    }
}

/// A guest's request as the client takes it: one box around the body, whose failure
/// names the request.
pub(crate) fn outbound_request(
    parts: http::request::Parts,
    body: Option<WasiBody>,
    timeouts: GuestTimeouts,
) -> OutboundRequest {
    let body: OutboundBody = match body {
        Some(body) => {
            // Cheap clones (shared bytes), formatted only if the body fails.
            let (method, uri) = (parts.method.clone(), parts.uri.clone());
            body.map_err(move |e| {
                OutboundError::other(
                    OutboundErrorKind::Protocol,
                    method.as_str(),
                    &uri.to_string(),
                    format!("the guest's request body failed: {e}"),
                )
            })
            .boxed_unsync()
        }
        None => http_body_util::Empty::new()
            .map_err(|never| match never {})
            .boxed_unsync(),
    };
    OutboundRequest {
        request: http::Request::from_parts(parts, body),
        timeouts,
        origin: Origin::WasiHttp,
    }
}

/// The `wasi:http` error code a guest sees for each outbound failure.
pub(crate) fn to_wasi_error(e: &OutboundError) -> HttpError {
    match e.kind() {
        OutboundErrorKind::Denied => HttpError::HttpRequestDenied,
        OutboundErrorKind::AddressDenied => HttpError::DestinationIpProhibited,
        OutboundErrorKind::Limit => match e.limit() {
            Some(LimitHit { limit, amount, .. }) => match limit {
                Limit::ConnectTimeout => HttpError::ConnectionTimeout,
                Limit::FirstByteTimeout => HttpError::HttpResponseTimeout,
                Limit::BetweenBytesTimeout => HttpError::ConnectionReadTimeout,
                Limit::MaxRequestBody => HttpError::HttpRequestBodySize(Some(*amount)),
                Limit::MaxResponseBody => HttpError::HttpResponseBodySize(Some(*amount)),
                Limit::MaxConcurrentRequests | Limit::MaxRequests => {
                    HttpError::ConnectionLimitReached
                }
            },
            None => HttpError::InternalError(Some(e.to_string())),
        },
        OutboundErrorKind::InvalidRequest => HttpError::HttpRequestUriInvalid,
        OutboundErrorKind::Dns => HttpError::DnsError {
            rcode: Some(e.to_string()),
            info_code: None,
        },
        OutboundErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
        OutboundErrorKind::Tls => match e.tls_failure() {
            Some(TlsFailure::Certificate) => HttpError::TlsCertificateError,
            Some(TlsFailure::Alert(id)) => HttpError::TlsAlertReceived {
                alert_id: id,
                alert_message: Some(e.to_string()),
            },
            _ => HttpError::TlsProtocolError,
        },
        OutboundErrorKind::Protocol => HttpError::HttpProtocolError,
        OutboundErrorKind::TooManyRedirects => HttpError::LoopDetected,
        OutboundErrorKind::Cancelled => HttpError::InternalError(Some(e.to_string())),
        // No code fits a replay without the request; the text names it and the fix.
        OutboundErrorKind::NotRecorded => HttpError::InternalError(Some(e.to_string())),
        // The proxy stands in for the destination: it was unreachable or refused us.
        OutboundErrorKind::Proxy => match e.proxy_failure() {
            Some(ProxyFailure::Protocol) => HttpError::HttpProtocolError,
            _ => HttpError::ConnectionRefused,
        },
    }
}

/// For the shadowing modules' tests: `interface`'s function `func` is one wasi-http
/// registers (a second definition fails without shadowing), and `shadow` replaces it.
#[cfg(test)]
pub(crate) fn assert_shadows(
    interface: &str,
    func: &str,
    shadow: fn(&mut wasmtime::component::Linker<ComponentState>) -> wasmtime::Result<()>,
) {
    let engine = crate::engine::new_engine().unwrap();
    let mut linker = wasmtime::component::Linker::<ComponentState>::new(&engine);
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).unwrap();
    let again = linker
        .instance(interface)
        .unwrap()
        .func_wrap(func, |_, (): ()| Ok(()));
    assert!(
        again.is_err(),
        "{interface} {func} is not a name wasi-http registers"
    );
    shadow(&mut linker).unwrap();
}
