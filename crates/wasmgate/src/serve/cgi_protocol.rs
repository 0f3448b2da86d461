//! CGI/1.1 ([RFC 3875]) for `wasmgate serve`'s core-module handlers: the request as
//! meta-variables ([`meta_variables`]) and the handler's response head read back from
//! its stdout ([`ResponseHead::parse`]).
//!
//! Pure: `http` types and std only, no Wasm and no I/O, so every rule here is
//! table-tested on its own (`cgi_protocol/tests.rs`).
//!
//! Written so that mainline Go's `net/http/cgi` child (`cgi.Serve(handler)`) gets a
//! request it accepts (GOROOT/src/net/http/cgi/child.go):
//! - `REQUEST_METHOD` must be set and `SERVER_PROTOCOL` must parse with
//!   `http.ParseHTTPVersion`, which takes `HTTP/X.Y` only: HTTP/2 is `HTTP/2.0`, never
//!   `HTTP/2`.
//! - The URL comes from `REQUEST_URI` (not in RFC 3875; Apache and nginx set it), joined
//!   to `HTTP_HOST`; only without `REQUEST_URI` does Go fall back to
//!   `SCRIPT_NAME + PATH_INFO + "?" + QUERY_STRING`. So `REQUEST_URI` is the raw
//!   origin-form target, and `HTTP_HOST` is taken from the URI's authority when there is
//!   no `Host` header (HTTP/2 sends `:authority` instead).
//! - Go reads the body from stdin **only when `CONTENT_LENGTH` > 0** (a `LimitReader`
//!   of that many bytes). A request without `Content-Length` (chunked, or HTTP/2
//!   without the header) has no `CONTENT_LENGTH` here, and a Go handler sees an empty
//!   body: the server must give such a body a length first (buffer it under its body
//!   limit and set the `Content-Length` header in `parts`) or refuse it (411).
//! - Every `HTTP_*` variable becomes a header (`_` → `-`), so `CONTENT_TYPE` is not
//!   also passed as `HTTP_CONTENT_TYPE` (Go would see the header twice).
//! - Go writes `Status: CODE TEXT\r\n`, then always a `Content-Type` (sniffed if the
//!   handler set none), then the other headers, CRLF line ends.
//!
//! [RFC 3875]: https://www.rfc-editor.org/rfc/rfc3875

use std::fmt;
use std::net::SocketAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, Uri, Version};

#[cfg(test)]
mod tests;

/// Largest response head (header lines and the blank line ending them) a handler may
/// write before its body. Real heads are a few hundred bytes; 64 KiB leaves room for
/// many cookies while keeping a handler that never ends its head (or writes a body with
/// no head at all) from making the server buffer its output without end. Servers cap
/// request heads alike (nginx 32 KiB by default, hyper about 400 KiB, Apache's
/// per-line limit 8 KiB).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Longest part of a handler's output quoted in an error message: enough to recognise
/// the line, not a copy of a runaway one.
const MAX_QUOTED: usize = 200;

/// `SERVER_SOFTWARE`.
pub const SERVER_SOFTWARE: &str = concat!("wasmgate/", env!("CARGO_PKG_VERSION"));

/// Request headers that describe the connection between the client and wasmgate rather
/// than the request (RFC 9110 §7.6.1), plus `Proxy`: none is passed as `HTTP_*`.
/// `Proxy` is httpoxy (CVE-2016-5385): as `HTTP_PROXY` a client would set the proxy of
/// every CGI program that reads that variable for its own outbound requests. The
/// framing headers (`Transfer-Encoding`, `Trailer`, `TE`) were consumed by the server;
/// passing them on would describe a framing the handler never sees on stdin.
const UNPASSED_REQUEST_HEADERS: &[&str] = &[
    "proxy",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Response headers a handler may not set: they belong to the connection, which the
/// server owns (and HTTP/2 forbids them outright, RFC 9113 §8.2.2). They are
/// **dropped** and listed in [`ResponseHead::dropped`] (for a log line), not
/// rejected: CGI programs and Go handlers commonly set `Connection: close` or
/// `Keep-Alive`, and answering 500 for that would break them for no gain.
const HOP_BY_HOP_RESPONSE_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The CGI meta-variables (RFC 3875 §4.1) for one request, to be the handler's whole
/// environment (the host's environment is never added; the server may add the user's
/// `--env` variables).
///
/// - `remote`/`local`: the client's and wasmgate's socket addresses (`REMOTE_ADDR`,
///   `REMOTE_PORT`, `SERVER_PORT`).
/// - `server_name`: `SERVER_NAME`, the name the server is known by.
/// - `tls`: the request came over TLS (`HTTPS=on`).
/// - `script_name`: `SCRIPT_NAME`, the path the handler is mounted at: `""` for the
///   whole server, or a path such as `/app`. When the request path starts with it at a
///   segment boundary, `PATH_INFO` is the rest; otherwise `PATH_INFO` is the whole path.
///
/// `PATH_INFO` is percent-decoded (§4.1.5) with [`decode_path_lossy`]; a server that
/// wants to refuse paths that do not decode cleanly checks [`decode_path`] first.
/// `QUERY_STRING` and `REQUEST_URI` are raw. `CONTENT_LENGTH` and `CONTENT_TYPE` come
/// from those headers and are set only when present (see the module docs for bodies
/// without a length).
///
/// Request headers become `HTTP_<NAME>` (upper case, `-` → `_`), repeated headers joined
/// with `", "` (`Cookie` with `"; "`, RFC 9113 §8.2.3), except:
/// - `Content-Length`, `Content-Type`: already `CONTENT_LENGTH`/`CONTENT_TYPE`;
/// - `Proxy` and connection headers: see `UNPASSED_REQUEST_HEADERS`;
/// - any header whose name has a character other than ASCII letters, digits and `-`:
///   after `-` → `_` folding, `X-Forwarded_For` would arrive as the same
///   `HTTP_X_FORWARDED_FOR` as `X-Forwarded-For`, letting a client forge a header a
///   proxy in front of wasmgate set (or removed). Apache 2.4 and nginx drop such headers
///   by default too (`underscores_in_headers off`). Names of letters, digits and `-`
///   fold one-to-one, so no two passed headers can collide.
///
/// `HTTP_HOST` is the `Host` header, or the URI's authority when there is none (HTTP/2).
/// Header values that are not UTF-8 (obs-text) are passed with U+FFFD in place of the
/// invalid bytes: a WASI environment is UTF-8 strings.
pub fn meta_variables(
    parts: &http::request::Parts,
    remote: SocketAddr,
    local: SocketAddr,
    server_name: &str,
    tls: bool,
    script_name: &str,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = Vec::with_capacity(20 + parts.headers.keys_len());
    let mut set = |name: &str, value: String| vars.push((name.to_string(), value));

    set("GATEWAY_INTERFACE", "CGI/1.1".into());
    set("SERVER_SOFTWARE", SERVER_SOFTWARE.into());
    set("SERVER_PROTOCOL", server_protocol(parts.version).into());
    set("SERVER_NAME", server_name.into());
    set("SERVER_PORT", local.port().to_string());
    set("REQUEST_METHOD", parts.method.as_str().into());
    set("SCRIPT_NAME", script_name.into());
    set(
        "PATH_INFO",
        decode_path_lossy(path_info(parts.uri.path(), script_name)),
    );
    set("QUERY_STRING", parts.uri.query().unwrap_or("").into());
    set("REQUEST_URI", request_uri(&parts.uri).into());
    if let Some(v) = joined(&parts.headers, &header::CONTENT_LENGTH) {
        set("CONTENT_LENGTH", v);
    }
    if let Some(v) = joined(&parts.headers, &header::CONTENT_TYPE) {
        set("CONTENT_TYPE", v);
    }
    set("REMOTE_ADDR", remote.ip().to_string());
    set("REMOTE_PORT", remote.port().to_string());
    if tls {
        set("HTTPS", "on".into());
    }
    let host = match parts.headers.get(header::HOST) {
        // One Host only (RFC 9112 §3.2: more than one is a 400, which hyper answers).
        Some(h) => Some(lossy(h)),
        None => parts.uri.authority().map(|a| a.as_str().to_string()),
    };
    if let Some(host) = host {
        set("HTTP_HOST", host);
    }

    for name in parts.headers.keys() {
        let n = name.as_str();
        if *name == header::HOST
            || *name == header::CONTENT_LENGTH
            || *name == header::CONTENT_TYPE
            || UNPASSED_REQUEST_HEADERS.contains(&n)
            || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            continue;
        }
        if let Some(value) = joined(&parts.headers, name) {
            let var = format!("HTTP_{}", n.to_ascii_uppercase().replace('-', "_"));
            set(&var, value);
        }
    }
    vars
}

/// `SERVER_PROTOCOL`: `HTTP/major.minor`, the form RFC 3875 §4.1.16 and Go's
/// `http.ParseHTTPVersion` expect (`HTTP/2.0`, not `HTTP/2`).
fn server_protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The request target in origin form (`/path?query`), also for HTTP/2 and
/// absolute-form requests, whose URI carries a scheme and authority.
fn request_uri(uri: &Uri) -> &str {
    match uri.path_and_query() {
        Some(pq) if !pq.as_str().is_empty() => pq.as_str(),
        _ => "/",
    }
}

/// The part of `path` after `script_name`, when `path` starts with it at a segment
/// boundary; otherwise all of `path`.
fn path_info<'a>(path: &'a str, script_name: &str) -> &'a str {
    let script_name = script_name.trim_end_matches('/');
    match path.strip_prefix(script_name) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    }
}

/// All values of header `name`, joined with `", "` (`"; "` for `Cookie`), lossily
/// decoded as UTF-8; `None` when the header is absent.
fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let sep = if *name == header::COOKIE { "; " } else { ", " };
    let mut out: Option<String> = None;
    for v in headers.get_all(name) {
        match &mut out {
            None => out = Some(lossy(v)),
            Some(s) => {
                s.push_str(sep);
                s.push_str(&lossy(v));
            }
        }
    }
    out
}

fn lossy(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

/// Percent-decodes a URI path for `PATH_INFO` (RFC 3875 §4.1.5: "not URL-encoded").
/// Refuses what cannot be an environment variable's value or is not text: `%00` (a
/// NUL ends a C string: the handler would see a shorter path than the one checked) and
/// bytes that do not decode to UTF-8. A `%` not followed by two hex digits is kept as
/// it is. `%2F` becomes `/`: a handler that must tell an encoded slash from a slash
/// reads `REQUEST_URI`.
pub fn decode_path(raw: &str) -> Result<String, CgiError> {
    let bytes = percent_decode(raw, false);
    if bytes.contains(&0) {
        return Err(CgiError::InvalidPath {
            path: quote(raw.as_bytes()),
            reason: "%00 decodes to NUL",
        });
    }
    String::from_utf8(bytes).map_err(|_| CgiError::InvalidPath {
        path: quote(raw.as_bytes()),
        reason: "it does not decode to UTF-8",
    })
}

/// [`decode_path`] that never fails: `%00` stays `%00` and bytes that are not UTF-8
/// become U+FFFD.
pub fn decode_path_lossy(raw: &str) -> String {
    String::from_utf8_lossy(&percent_decode(raw, true)).into_owned()
}

fn percent_decode(raw: &str, keep_nul: bool) -> Vec<u8> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
            && !(keep_nul && h == 0 && l == 0)
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// A handler's CGI response head (RFC 3875 §6), ready to become an HTTP response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// From `Status:`; else 302 for a client redirect (`Location:` without `Status:`);
    /// else 200. The reason phrase is not kept (hyper writes the canonical one, HTTP/2
    /// has none).
    pub status: StatusCode,
    /// Every other header in the handler's order, `Location` included; without
    /// `Status`, `Content-Length` and the dropped connection headers.
    pub headers: HeaderMap,
    /// The handler's `Content-Length`, if it gave one. Not in `headers`: the server
    /// decides whether to send it, and must then hold the body to it.
    pub content_length: Option<u64>,
    /// Connection headers the handler set and the parser dropped (see
    /// `HOP_BY_HOP_RESPONSE_HEADERS`), once each, for a log line.
    pub dropped: Vec<HeaderName>,
}

impl ResponseHead {
    /// Parses the head at the start of `buf`, the handler's stdout so far.
    ///
    /// `Ok(Some((head, n)))`: the head ended (a blank line, LF or CRLF) within the first
    /// `n` bytes; the body starts at `buf[n..]`. `Ok(None)`: no blank line yet and
    /// nothing wrong so far: call again with more bytes (at the end of the output, use
    /// [`parse_final`](Self::parse_final)). An error as soon as a complete line is bad,
    /// so a handler writing a body without a head fails at its first line, not at the
    /// limit. Each call starts over from `buf[0]` (a head is at most
    /// [`MAX_HEAD_BYTES`]).
    ///
    /// Accepted: `Name: value` lines (spaces and tabs around the value trimmed);
    /// `Status: CODE [REASON]` with CODE in 200..=599 (a CGI answer is final: no 1xx);
    /// `Location:` (an absolute path without `Status:` is an RFC 3875 local redirect,
    /// which wasmgate does not do: [`CgiError::LocalRedirect`]; anything else without
    /// `Status:` is a client redirect, 302); `Content-Length:` (digits). At most one
    /// each of `Status`, `Location`, `Content-Type` and `Content-Length`. Refused: a
    /// line without `:`, whitespace before the `:` or in the name, an obsolete line
    /// folding (a line starting with space or tab), CR, NUL or other control bytes in a
    /// value, an empty head, a head longer than [`MAX_HEAD_BYTES`].
    pub fn parse(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, CgiError> {
        let window = &buf[..buf.len().min(MAX_HEAD_BYTES)];
        let mut head = HeadBuilder::default();
        let mut pos = 0;
        loop {
            let Some(nl) = window[pos..].iter().position(|&b| b == b'\n') else {
                if buf.len() >= MAX_HEAD_BYTES {
                    return Err(CgiError::HeadTooLarge {
                        limit: MAX_HEAD_BYTES,
                    });
                }
                return Ok(None);
            };
            let mut line = &window[pos..pos + nl];
            pos += nl + 1;
            if let Some(l) = line.strip_suffix(b"\r") {
                line = l;
            }
            if line.is_empty() {
                return head.finish().map(|h| Some((h, pos)));
            }
            head.line(line)?;
        }
    }

    /// [`parse`](Self::parse) of a handler's complete output: a head that has not
    /// ended is [`CgiError::Incomplete`].
    pub fn parse_final(buf: &[u8]) -> Result<(ResponseHead, usize), CgiError> {
        Self::parse(buf)?.ok_or(CgiError::Incomplete {
            received: buf.len(),
        })
    }
}

#[derive(Default)]
struct HeadBuilder {
    lines: usize,
    status: Option<StatusCode>,
    location: Option<HeaderValue>,
    content_length: Option<u64>,
    headers: HeaderMap,
    dropped: Vec<HeaderName>,
}

impl HeadBuilder {
    fn line(&mut self, line: &[u8]) -> Result<(), CgiError> {
        self.lines += 1;
        if matches!(line.first(), Some(b' ' | b'\t')) {
            return Err(CgiError::ObsFold { line: quote(line) });
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(CgiError::MalformedLine { line: quote(line) });
        };
        let raw_name = &line[..colon];
        // `HeaderName` accepts tokens only: no spaces ("Status : 200" is refused, as
        // RFC 9112 §5.1 requires of servers), no control bytes, not empty.
        let name = HeaderName::from_bytes(raw_name).map_err(|_| CgiError::InvalidName {
            name: quote(raw_name),
        })?;
        let raw_value = trim_ows(&line[colon + 1..]);
        // Refuses CR, LF, NUL and the other controls but tab; allows obs-text.
        let value = HeaderValue::from_bytes(raw_value).map_err(|_| CgiError::InvalidValue {
            name: name.to_string(),
            value: quote(raw_value),
        })?;
        let n = name.as_str();
        if n == "status" {
            if self.status.is_some() {
                return Err(CgiError::Duplicate { name: "Status" });
            }
            self.status = Some(parse_status(raw_value)?);
        } else if name == header::LOCATION {
            if self.location.is_some() {
                return Err(CgiError::Duplicate { name: "Location" });
            }
            self.location = Some(value);
        } else if name == header::CONTENT_LENGTH {
            if self.content_length.is_some() {
                return Err(CgiError::Duplicate {
                    name: "Content-Length",
                });
            }
            self.content_length = Some(parse_content_length(raw_value)?);
        } else if HOP_BY_HOP_RESPONSE_HEADERS.contains(&n) {
            if !self.dropped.contains(&name) {
                self.dropped.push(name);
            }
        } else {
            if name == header::CONTENT_TYPE && self.headers.contains_key(&name) {
                return Err(CgiError::Duplicate {
                    name: "Content-Type",
                });
            }
            self.headers.append(name, value);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<ResponseHead, CgiError> {
        if self.lines == 0 {
            return Err(CgiError::NoHeaders);
        }
        let status = match (self.status, &self.location) {
            (Some(s), _) => s,
            (None, Some(loc)) if is_local_path(loc.as_bytes()) => {
                return Err(CgiError::LocalRedirect {
                    location: quote(loc.as_bytes()),
                });
            }
            (None, Some(_)) => StatusCode::FOUND,
            (None, None) => StatusCode::OK,
        };
        if let Some(loc) = self.location {
            self.headers.insert(header::LOCATION, loc);
        }
        Ok(ResponseHead {
            status,
            headers: self.headers,
            content_length: self.content_length,
            dropped: self.dropped,
        })
    }
}

/// An RFC 3875 §6.2.2 local redirect: an absolute path (`/x`), not a network-path
/// reference (`//host/x`).
fn is_local_path(loc: &[u8]) -> bool {
    loc.starts_with(b"/") && !loc.starts_with(b"//")
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// `Status: CODE [REASON]`: exactly three digits, 200..=599, then nothing or a space or
/// tab and any reason (already checked as a header value).
fn parse_status(v: &[u8]) -> Result<StatusCode, CgiError> {
    let bad = || CgiError::InvalidStatus { value: quote(v) };
    let (code, rest) = v.split_at_checked(3).ok_or_else(bad)?;
    if !code.iter().all(u8::is_ascii_digit) || !matches!(rest.first(), None | Some(b' ' | b'\t')) {
        return Err(bad());
    }
    let n = u16::from(code[0] - b'0') * 100
        + u16::from(code[1] - b'0') * 10
        + u16::from(code[2] - b'0');
    if !(200..=599).contains(&n) {
        return Err(bad());
    }
    StatusCode::from_u16(n).map_err(|_| bad())
}

/// `Content-Length`: one or more digits (no sign, no list), fitting a u64.
fn parse_content_length(v: &[u8]) -> Result<u64, CgiError> {
    let bad = || CgiError::InvalidContentLength { value: quote(v) };
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)
}

/// `bytes` in double quotes with non-printable bytes escaped (`\r`, `\x00`); past
/// [`MAX_QUOTED`] bytes, the quoted start, an ellipsis and the whole length.
fn quote(bytes: &[u8]) -> String {
    if bytes.len() <= MAX_QUOTED {
        format!("\"{}\"", bytes.escape_ascii())
    } else {
        format!(
            "\"{}\"… ({} bytes)",
            bytes[..MAX_QUOTED].escape_ascii(),
            bytes.len()
        )
    }
}

/// What was wrong with a handler's CGI response head or a request path. Quoted input is
/// already escaped and cut to a bounded length, ready for a log line; the client gets a
/// plain 500 (or 502), never this text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CgiError {
    /// No blank line within the first `limit` bytes of output.
    HeadTooLarge { limit: usize },
    /// The output ended before the blank line ending the head.
    Incomplete { received: usize },
    /// The head was empty: the output started with a blank line.
    NoHeaders,
    /// A line without a `:`.
    MalformedLine { line: String },
    /// A line starting with a space or tab (obsolete line folding, RFC 9112 §5.2).
    ObsFold { line: String },
    /// A header name that is not an HTTP token (empty, spaces, control bytes, …).
    InvalidName { name: String },
    /// A header value with a control byte (CR, NUL, …).
    InvalidValue { name: String, value: String },
    /// A `Status` that is not `CODE [REASON]` with CODE in 200..=599.
    InvalidStatus { value: String },
    /// A `Content-Length` that is not a number.
    InvalidContentLength { value: String },
    /// A header that may appear once appeared twice.
    Duplicate { name: &'static str },
    /// `Location: /path` without `Status`: an RFC 3875 local redirect, which wasmgate
    /// does not do.
    LocalRedirect { location: String },
    /// A request path that cannot be `PATH_INFO` ([`decode_path`]).
    InvalidPath { path: String, reason: &'static str },
}

impl fmt::Display for CgiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CgiError::HeadTooLarge { limit } => write!(
                f,
                "CGI response head is larger than {limit} bytes (no blank line ends it)"
            ),
            CgiError::Incomplete { received } => write!(
                f,
                "CGI output ended after {received} bytes, before the blank line that ends the response head"
            ),
            CgiError::NoHeaders => write!(
                f,
                "CGI response head is empty: the output starts with a blank line (expected at least Content-Type or Status)"
            ),
            CgiError::MalformedLine { line } => write!(
                f,
                "CGI response head: line without a colon: {line} (expected NAME: VALUE)"
            ),
            CgiError::ObsFold { line } => write!(
                f,
                "CGI response head: line starts with whitespace (obsolete line folding is refused): {line}"
            ),
            CgiError::InvalidName { name } => {
                write!(f, "CGI response head: invalid header name {name}")
            }
            CgiError::InvalidValue { name, value } => write!(
                f,
                "CGI response head: invalid value of header {name}: {value} (control characters such as CR, LF and NUL are refused)"
            ),
            CgiError::InvalidStatus { value } => write!(
                f,
                "CGI response head: invalid Status {value} (expected a code 200..=599 and an optional reason, e.g. \"404 Not Found\")"
            ),
            CgiError::InvalidContentLength { value } => write!(
                f,
                "CGI response head: invalid Content-Length {value} (expected a number of bytes)"
            ),
            CgiError::Duplicate { name } => {
                write!(f, "CGI response head: more than one {name} header")
            }
            CgiError::LocalRedirect { location } => write!(
                f,
                "CGI local redirect to {location} is not supported (send Status: 302 with the Location, or an absolute URL)"
            ),
            CgiError::InvalidPath { path, reason } => {
                write!(f, "request path {path} cannot be PATH_INFO: {reason}")
            }
        }
    }
}

impl std::error::Error for CgiError {}
