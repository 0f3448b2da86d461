//! Status codes, options and flags of the host ABI (docs/abi.md, "Status codes").

use crate::outbound::{OutboundError, OutboundErrorKind, ProxyFailure, TlsFailure};
use wasmgate_policy::Limit;

pub(crate) const ERR_BAD_HANDLE: i32 = -1;
pub(crate) const ERR_BAD_POINTER: i32 = -2;
pub(crate) const ERR_BAD_UTF8: i32 = -3;
pub(crate) const ERR_BAD_METHOD: i32 = -4;
pub(crate) const ERR_BAD_URL: i32 = -5;
pub(crate) const ERR_BAD_HEADER: i32 = -6;
pub(crate) const ERR_FORBIDDEN_HEADER: i32 = -7;
pub(crate) const ERR_TOO_MANY_HANDLES: i32 = -8;
pub(crate) const ERR_WRONG_STATE: i32 = -9;
pub(crate) const ERR_NOT_READY: i32 = -10;
pub(crate) const ERR_INVALID_ARGUMENT: i32 = -11;
pub(crate) const ERR_NOT_FOUND: i32 = -12;
pub(crate) const ERR_NO_ALLOCATOR: i32 = -13;
pub(crate) const ERR_BAD_ALLOCATOR: i32 = -14;
pub(crate) const ERR_REENTRANT: i32 = -15;
pub(crate) const ERR_DENIED: i32 = -20;
pub(crate) const ERR_DESTINATION_IP_PROHIBITED: i32 = -21;
pub(crate) const ERR_DNS: i32 = -22;
pub(crate) const ERR_CONNECTION_REFUSED: i32 = -23;
pub(crate) const ERR_CONNECTION_TIMEOUT: i32 = -24;
pub(crate) const ERR_TLS_PROTOCOL: i32 = -25;
pub(crate) const ERR_TLS_CERTIFICATE: i32 = -26;
pub(crate) const ERR_REQUEST_BODY_SIZE: i32 = -27;
pub(crate) const ERR_RESPONSE_BODY_SIZE: i32 = -28;
pub(crate) const ERR_RESPONSE_TIMEOUT: i32 = -29;
pub(crate) const ERR_READ_TIMEOUT: i32 = -30;
pub(crate) const ERR_LIMIT_REACHED: i32 = -31;
pub(crate) const ERR_PROTOCOL: i32 = -32;
pub(crate) const ERR_INTERNAL: i32 = -33;
pub(crate) const ERR_TOO_MANY_REDIRECTS: i32 = -34;
pub(crate) const ERR_NOT_RECORDED: i32 = -35;

pub(crate) const OPT_CONNECT_TIMEOUT_MS: i32 = 1;
pub(crate) const OPT_FIRST_BYTE_TIMEOUT_MS: i32 = 2;
pub(crate) const OPT_BETWEEN_BYTES_TIMEOUT_MS: i32 = 3;
pub(crate) const OPT_FOLLOW_REDIRECTS: i32 = 4;

pub(crate) const SEND_BODY_STREAM: i32 = 1;

pub(crate) const READY_RESPONSE: u8 = 1;
pub(crate) const READY_BODY: u8 = 2;
pub(crate) const READY_WRITE: u8 = 4;
pub(crate) const READY_INVALID: u8 = 128;

/// The ABI code a guest sees for an outbound failure (mirrors the wasi:http mapping).
pub(crate) fn code_of(e: &OutboundError) -> i32 {
    match e.kind() {
        OutboundErrorKind::Denied => ERR_DENIED,
        OutboundErrorKind::AddressDenied => ERR_DESTINATION_IP_PROHIBITED,
        OutboundErrorKind::Limit => match e.limit().map(|l| l.limit) {
            Some(Limit::ConnectTimeout) => ERR_CONNECTION_TIMEOUT,
            Some(Limit::FirstByteTimeout) => ERR_RESPONSE_TIMEOUT,
            Some(Limit::BetweenBytesTimeout) => ERR_READ_TIMEOUT,
            Some(Limit::MaxRequestBody) => ERR_REQUEST_BODY_SIZE,
            Some(Limit::MaxResponseBody) => ERR_RESPONSE_BODY_SIZE,
            Some(Limit::MaxConcurrentRequests | Limit::MaxRequests) => ERR_LIMIT_REACHED,
            None => ERR_INTERNAL,
        },
        OutboundErrorKind::InvalidRequest => ERR_BAD_URL,
        OutboundErrorKind::Dns => ERR_DNS,
        OutboundErrorKind::ConnectionRefused => ERR_CONNECTION_REFUSED,
        OutboundErrorKind::Tls => match e.tls_failure() {
            Some(TlsFailure::Certificate) => ERR_TLS_CERTIFICATE,
            _ => ERR_TLS_PROTOCOL,
        },
        OutboundErrorKind::Protocol => ERR_PROTOCOL,
        OutboundErrorKind::TooManyRedirects => ERR_TOO_MANY_REDIRECTS,
        OutboundErrorKind::Cancelled => ERR_INTERNAL,
        OutboundErrorKind::NotRecorded => ERR_NOT_RECORDED,
        // The proxy stands in for the destination: it was unreachable or refused us.
        OutboundErrorKind::Proxy => match e.proxy_failure() {
            Some(ProxyFailure::Protocol) => ERR_PROTOCOL,
            _ => ERR_CONNECTION_REFUSED,
        },
    }
}
