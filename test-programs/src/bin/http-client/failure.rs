//! How a request failed, as the contract's `error: …` lines name it.

use super::*;

/// Why a request failed; `Display` gives the text after `error: `.
pub(crate) enum Failure {
    /// A `wasi:http` error-code, shown in Rust Debug form without the
    /// `ErrorCode::` prefix, e.g. `HttpResponseBodySize(Some(1048576))`.
    Http(ErrorCode),
    /// A stream error that carried no `wasi:http` error-code.
    Stream(String),
    /// A header rejected by `fields.append`.
    Header(String),
    /// Anything else (a resource method returning a unit error).
    Other(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Http(code) => f.write_str(&error_code_name(code)),
            Failure::Stream(s) => write!(f, "stream: {s}"),
            Failure::Header(s) => write!(f, "header: {s}"),
            Failure::Other(s) => f.write_str(s),
        }
    }
}

pub(crate) fn error_code_name(code: &ErrorCode) -> String {
    let s = format!("{code:?}");
    match s.strip_prefix("ErrorCode::") {
        Some(stripped) => stripped.to_string(),
        None => s,
    }
}

pub(crate) fn stream_failure(e: StreamError) -> Failure {
    match e {
        StreamError::LastOperationFailed(err) => match http_error_code(&err) {
            Some(code) => Failure::Http(code),
            None => Failure::Stream(format!("LastOperationFailed({})", err.to_debug_string())),
        },
        StreamError::Closed => Failure::Stream("Closed".to_string()),
    }
}

pub(crate) fn other(msg: &str) -> Failure {
    Failure::Other(msg.to_string())
}

// ---------------------------------------------------------------------------
// HTTP
pub(crate) fn header_failure(e: wasip2::http::types::HeaderError) -> Failure {
    let s = format!("{e:?}");
    Failure::Header(match s.strip_prefix("HeaderError::") {
        Some(stripped) => stripped.to_string(),
        None => s,
    })
}
