//! `wasi:http/types.http-error-code`, reimplemented so that body-read failures carry
//! their code.
//!
//! wasmtime-wasi-http 48 stores a response body's error as its embedder `Error` inside
//! the `io-error`, but its `http-error-code` only downcasts to the p2 `ErrorCode`, so a
//! guest whose body read hit `--max-response-body` or the between-bytes timeout read
//! `none`. This version finds the error wherever it is in the chain and maps it.

use crate::outbound::OutboundError;
use std::error::Error as StdError;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::IoError;
use wasmtime_wasi_http::Error;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{
    DnsErrorPayload, ErrorCode, FieldSizePayload, TlsAlertReceivedPayload,
};

/// The interface name `add_only_http_to_linker_async` registers (the newest 0.2.x that
/// wasmtime-wasi-http 48 implements); older 0.2.x imports resolve to it by semver, so
/// shadowing this one name covers them all.
pub(crate) const HTTP_TYPES: &str = "wasi:http/types@0.2.12";

/// Replaces `http-error-code` in a linker that already has wasi-http's `types`.
pub(crate) fn shadow_http_error_code<T: WasiHttpView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let defined = linker.instance(HTTP_TYPES)?.func_wrap(
        "http-error-code",
        |mut store, (err,): (Resource<IoError>,)| {
            let err = store.data_mut().http().table.get(&err)?;
            Ok((error_code(err),))
        },
    );
    // Any other redefinition stays an error.
    linker.allow_shadowing(false);
    defined
}

/// The `error-code` an `io-error` carries, if any layer of it is an HTTP error.
pub(crate) fn error_code(err: &IoError) -> Option<ErrorCode> {
    err.chain().find_map(|e: &(dyn StdError + 'static)| {
        if let Some(code) = e.downcast_ref::<ErrorCode>() {
            Some(code.clone())
        } else if let Some(e) = e.downcast_ref::<Error>() {
            Some(from_http_error(e))
        } else {
            e.downcast_ref::<OutboundError>()
                .map(|e| from_http_error(&super::to_wasi_error(e)))
        }
    })
}

/// wasi-http's embedder error as a p2 code: the inverse of the crate's
/// `From<ErrorCode> for Error`, and what its private `error_to_p2` does with the
/// default hooks (wasmgate's adapter only produces the plain variants).
pub(crate) fn from_http_error(e: &Error) -> ErrorCode {
    let field = |field_name: &Option<String>, field_size: &Option<u32>| FieldSizePayload {
        field_name: field_name.clone(),
        field_size: *field_size,
    };
    match e {
        Error::Hyper(err) => err
            .source()
            .and_then(|c| c.downcast_ref::<ErrorCode>())
            .cloned()
            .unwrap_or(ErrorCode::HttpProtocolError),
        Error::Connect(_) => ErrorCode::ConnectionRefused,
        Error::Tls(_) => ErrorCode::TlsProtocolError,
        Error::HttpRequestBodySize(n) => ErrorCode::HttpRequestBodySize(*n),
        Error::DnsTimeout => ErrorCode::DnsTimeout,
        Error::DnsError { rcode, info_code } => ErrorCode::DnsError(DnsErrorPayload {
            rcode: rcode.clone(),
            info_code: *info_code,
        }),
        Error::DestinationNotFound => ErrorCode::DestinationNotFound,
        Error::DestinationUnavailable => ErrorCode::DestinationUnavailable,
        Error::DestinationIpProhibited => ErrorCode::DestinationIpProhibited,
        Error::DestinationIpUnroutable => ErrorCode::DestinationIpUnroutable,
        Error::ConnectionRefused => ErrorCode::ConnectionRefused,
        Error::ConnectionTerminated => ErrorCode::ConnectionTerminated,
        Error::ConnectionTimeout => ErrorCode::ConnectionTimeout,
        Error::ConnectionReadTimeout => ErrorCode::ConnectionReadTimeout,
        Error::ConnectionWriteTimeout => ErrorCode::ConnectionWriteTimeout,
        Error::ConnectionLimitReached => ErrorCode::ConnectionLimitReached,
        Error::TlsProtocolError => ErrorCode::TlsProtocolError,
        Error::TlsCertificateError => ErrorCode::TlsCertificateError,
        Error::TlsAlertReceived {
            alert_id,
            alert_message,
        } => ErrorCode::TlsAlertReceived(TlsAlertReceivedPayload {
            alert_id: *alert_id,
            alert_message: alert_message.clone(),
        }),
        Error::HttpRequestDenied => ErrorCode::HttpRequestDenied,
        Error::HttpRequestLengthRequired => ErrorCode::HttpRequestLengthRequired,
        Error::HttpRequestMethodInvalid => ErrorCode::HttpRequestMethodInvalid,
        Error::HttpRequestUriInvalid => ErrorCode::HttpRequestUriInvalid,
        Error::HttpRequestUriTooLong => ErrorCode::HttpRequestUriTooLong,
        Error::HttpRequestHeaderSectionSize(n) => ErrorCode::HttpRequestHeaderSectionSize(*n),
        Error::HttpRequestHeaderSize {
            field_name,
            field_size,
        } => ErrorCode::HttpRequestHeaderSize(Some(field(field_name, field_size))),
        Error::HttpRequestTrailerSectionSize(n) => ErrorCode::HttpRequestTrailerSectionSize(*n),
        Error::HttpRequestTrailerSize {
            field_name,
            field_size,
        } => ErrorCode::HttpRequestTrailerSize(field(field_name, field_size)),
        Error::HttpResponseIncomplete => ErrorCode::HttpResponseIncomplete,
        Error::HttpResponseHeaderSectionSize(n) => ErrorCode::HttpResponseHeaderSectionSize(*n),
        Error::HttpResponseHeaderSize {
            field_name,
            field_size,
        } => ErrorCode::HttpResponseHeaderSize(field(field_name, field_size)),
        Error::HttpResponseBodySize(n) => ErrorCode::HttpResponseBodySize(*n),
        Error::HttpResponseTrailerSectionSize(n) => ErrorCode::HttpResponseTrailerSectionSize(*n),
        Error::HttpResponseTrailerSize {
            field_name,
            field_size,
        } => ErrorCode::HttpResponseTrailerSize(field(field_name, field_size)),
        Error::HttpResponseTransferCoding(c) => ErrorCode::HttpResponseTransferCoding(c.clone()),
        Error::HttpResponseContentCoding(c) => ErrorCode::HttpResponseContentCoding(c.clone()),
        Error::HttpResponseTimeout => ErrorCode::HttpResponseTimeout,
        Error::HttpUpgradeFailed => ErrorCode::HttpUpgradeFailed,
        Error::HttpProtocolError => ErrorCode::HttpProtocolError,
        Error::LoopDetected => ErrorCode::LoopDetected,
        Error::ConfigurationError => ErrorCode::ConfigurationError,
        Error::InternalError(m) => ErrorCode::InternalError(m.clone()),
        // `Error` is non_exhaustive; anything newer still reaches the guest as text.
        other => ErrorCode::InternalError(Some(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::ComponentState;

    fn codes() -> Vec<ErrorCode> {
        let field = || FieldSizePayload {
            field_name: Some("x-big".into()),
            field_size: Some(9000),
        };
        vec![
            ErrorCode::DnsTimeout,
            ErrorCode::DnsError(DnsErrorPayload {
                rcode: Some("NXDOMAIN".into()),
                info_code: Some(3),
            }),
            ErrorCode::DestinationNotFound,
            ErrorCode::DestinationUnavailable,
            ErrorCode::DestinationIpProhibited,
            ErrorCode::DestinationIpUnroutable,
            ErrorCode::ConnectionRefused,
            ErrorCode::ConnectionTerminated,
            ErrorCode::ConnectionTimeout,
            ErrorCode::ConnectionReadTimeout,
            ErrorCode::ConnectionWriteTimeout,
            ErrorCode::ConnectionLimitReached,
            ErrorCode::TlsProtocolError,
            ErrorCode::TlsCertificateError,
            ErrorCode::TlsAlertReceived(TlsAlertReceivedPayload {
                alert_id: Some(42),
                alert_message: Some("bad certificate".into()),
            }),
            ErrorCode::HttpRequestDenied,
            ErrorCode::HttpRequestLengthRequired,
            ErrorCode::HttpRequestBodySize(Some(1024)),
            ErrorCode::HttpRequestMethodInvalid,
            ErrorCode::HttpRequestUriInvalid,
            ErrorCode::HttpRequestUriTooLong,
            ErrorCode::HttpRequestHeaderSectionSize(Some(8192)),
            ErrorCode::HttpRequestHeaderSize(Some(field())),
            ErrorCode::HttpRequestTrailerSectionSize(None),
            ErrorCode::HttpRequestTrailerSize(field()),
            ErrorCode::HttpResponseIncomplete,
            ErrorCode::HttpResponseHeaderSectionSize(Some(8192)),
            // Not HttpResponseHeaderSize: the crate's `From<ErrorCode>` turns it into
            // the *request* variant, so it cannot round-trip (checked directly below).
            ErrorCode::HttpResponseBodySize(Some(1_048_576)),
            ErrorCode::HttpResponseTrailerSectionSize(Some(1)),
            ErrorCode::HttpResponseTrailerSize(field()),
            ErrorCode::HttpResponseTransferCoding(Some("gzip".into())),
            ErrorCode::HttpResponseContentCoding(None),
            ErrorCode::HttpResponseTimeout,
            ErrorCode::HttpUpgradeFailed,
            ErrorCode::HttpProtocolError,
            ErrorCode::LoopDetected,
            ErrorCode::ConfigurationError,
            ErrorCode::InternalError(Some("boom".into())),
        ]
    }

    #[test]
    fn every_code_survives_the_trip_through_the_embedder_error() {
        for code in codes() {
            let back = from_http_error(&Error::from(code.clone()));
            assert_eq!(format!("{back:?}"), format!("{code:?}"));
        }
        let e = Error::HttpResponseHeaderSize {
            field_name: None,
            field_size: Some(7),
        };
        assert!(matches!(
            from_http_error(&e),
            ErrorCode::HttpResponseHeaderSize(FieldSizePayload {
                field_size: Some(7),
                ..
            })
        ));
    }

    #[test]
    fn found_at_any_layer_of_the_io_error() {
        // As the body stream stores it: the embedder error, converted directly.
        let err: IoError = Error::HttpResponseBodySize(Some(1024)).into();
        assert!(matches!(
            error_code(&err),
            Some(ErrorCode::HttpResponseBodySize(Some(1024)))
        ));
        let err = IoError::from(Error::ConnectionReadTimeout).context("reading the body");
        assert!(matches!(
            error_code(&err),
            Some(ErrorCode::ConnectionReadTimeout)
        ));
        let err: IoError = ErrorCode::HttpProtocolError.into();
        assert!(matches!(
            error_code(&err),
            Some(ErrorCode::HttpProtocolError)
        ));
        let err = wasmtime::format_err!("not an HTTP error");
        assert!(error_code(&err).is_none());
    }

    #[test]
    fn shadows_the_name_wasi_http_registers() {
        crate::component::assert_shadows(
            HTTP_TYPES,
            "http-error-code",
            shadow_http_error_code::<ComponentState>,
        );
    }
}
