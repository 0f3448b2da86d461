//! Outbound HTTP for Rust programs run by [wasmgate](https://github.com/wasmgate/wasmgate),
//! with one API on both WebAssembly targets:
//!
//! - `wasm32-wasip1` (core modules): wasmgate's host ABI, module `wasmgate_http_v1`
//!   (see `docs/abi.md`);
//! - `wasm32-wasip2` (components): the standard `wasi:http` interfaces, through the
//!   [`wasip2`](https://docs.rs/wasip2) crate.
//!
//! Every request passes wasmgate's deny-by-default egress policy; a refused request is an
//! [`Error`] of kind [`ErrorKind::Denied`] whose [`message`](Error::message) (on wasip1)
//! names the `--allow` flag that would permit it.
//!
//! ```no_run
//! use std::io::Read;
//! use wasmgate_guest::Request;
//!
//! let mut resp = Request::get("https://api.example.com/items")
//!     .header("accept", "application/json")
//!     .send()?;
//! println!("status {}", resp.status());
//! let mut body = String::new();
//! resp.read_to_string(&mut body)?; // or resp.text()?
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Bodies stream in both directions in chunks of at most 64 KiB: use
//! [`Request::body_reader`] to upload from any [`Read`], and read a [`Response`] with
//! [`Read`] to download in constant memory. Several requests run concurrently with
//! [`Request::start`] and [`wait_all`].
#![deny(missing_docs)]
// On other targets (see unsupported.rs) parts of the plumbing are unused.
#![cfg_attr(
    not(all(target_os = "wasi", any(target_env = "p1", target_env = "p2"))),
    allow(dead_code)
)]

use std::fmt;
use std::io::{self, Read};
use std::time::Duration;

#[cfg(all(target_os = "wasi", target_env = "p1"))]
#[path = "p1.rs"]
mod imp;

#[cfg(all(target_os = "wasi", target_env = "p2"))]
#[path = "p2.rs"]
mod imp;

#[cfg(not(all(target_os = "wasi", any(target_env = "p1", target_env = "p2"))))]
#[path = "unsupported.rs"]
mod imp;

/// Largest chunk the library reads or writes at once.
pub(crate) const CHUNK: usize = 64 * 1024;

/// What a request sends as its body.
pub(crate) enum Body {
    /// No body.
    Empty,
    /// A body held in memory (still written in chunks).
    Bytes(Vec<u8>),
    /// A body read from a reader and streamed in chunks.
    Reader(Box<dyn Read>),
}

/// An HTTP request being built. Send it with [`send`](Request::send) (blocking) or
/// [`start`](Request::start) (returns at once; wait later).
pub struct Request {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Body,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) first_byte_timeout: Option<Duration>,
    pub(crate) between_bytes_timeout: Option<Duration>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers.len())
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A request with any method token (`"GET"`, `"PATCH"`, …; case-sensitive, sent as
    /// given) to an absolute `http://` or `https://` URL.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Body::Empty,
            connect_timeout: None,
            first_byte_timeout: None,
            between_bytes_timeout: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` request (add a body with [`body`](Request::body) or
    /// [`body_reader`](Request::body_reader)).
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// Appends a header (call again with the same name for several values). Invalid
    /// names or values (CR, LF, NUL) and headers the host manages itself (`host`,
    /// `connection`, `transfer-encoding`, …) make [`send`](Request::send) fail with
    /// [`ErrorKind::InvalidRequest`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets an in-memory body (sent in chunks of at most 64 KiB).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Bytes(body.into());
        self
    }

    /// Streams the body from a reader, in chunks of at most 64 KiB, until it returns
    /// end of file; memory stays bounded however large the body is. A read error fails
    /// the request with [`ErrorKind::Other`].
    pub fn body_reader(mut self, reader: impl Read + 'static) -> Self {
        self.body = Body::Reader(Box::new(reader));
        self
    }

    /// Time allowed to connect (and complete the TLS handshake). Capped by wasmgate's
    /// policy; rounded up to whole milliseconds on wasip1.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Time allowed until the response head arrives. Capped by wasmgate's policy.
    pub fn first_byte_timeout(mut self, timeout: Duration) -> Self {
        self.first_byte_timeout = Some(timeout);
        self
    }

    /// Longest gap allowed between two chunks of the response body. Capped by wasmgate's
    /// policy.
    pub fn between_bytes_timeout(mut self, timeout: Duration) -> Self {
        self.between_bytes_timeout = Some(timeout);
        self
    }

    /// Sends the request and waits for the response head. The body of the response is
    /// then read from the returned [`Response`]. A non-2xx status is not an error.
    pub fn send(self) -> Result<Response, Error> {
        self.start()?.wait()
    }

    /// Starts the request without waiting for the answer: returns once the request is
    /// handed to the host and its body (if any) is written. Wait for the response with
    /// [`Pending::wait`] or, for several requests at once, [`wait_all`].
    pub fn start(self) -> Result<Pending, Error> {
        imp::start(self).map(|inner| Pending { inner })
    }
}

/// A request that has been started and whose response has not been taken yet. Dropping
/// it cancels the request.
pub struct Pending {
    inner: imp::Pending,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

impl Pending {
    /// Waits for the response head (or the request's failure).
    pub fn wait(self) -> Result<Response, Error> {
        self.inner.wait()
    }
}

/// Waits for all pending requests at once (one host-side poll over all of them, so they
/// proceed concurrently) and returns their results in the same order.
pub fn wait_all(pending: Vec<Pending>) -> Vec<Result<Response, Error>> {
    imp::wait_all(pending.into_iter().map(|p| p.inner).collect())
}

/// An HTTP response: status and headers, and the body to read as a stream
/// ([`Read`]) or at once ([`bytes`](Response::bytes), [`text`](Response::text)).
/// Dropping it closes the request (an unread body is discarded).
pub struct Response {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: imp::BodyReader,
    done: bool,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Response {
    pub(crate) fn new(status: u16, headers: Vec<(String, Vec<u8>)>, body: imp::BodyReader) -> Self {
        Self {
            status,
            headers,
            body,
            done: false,
        }
    }

    /// The HTTP status code (100–599).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// All response headers in received order, as (lower-case name, value bytes).
    pub fn headers(&self) -> &[(String, Vec<u8>)] {
        &self.headers
    }

    /// The value of the first header called `name` (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Reads the next chunk of the body into `buf`: the number of bytes, or 0 at the end
    /// of the body. Like [`Read::read`], but with this library's error type.
    pub fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.body.read(buf)?;
        if n == 0 {
            self.done = true;
        }
        Ok(n)
    }

    /// Reads the rest of the body into memory.
    pub fn bytes(mut self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = self.read_chunk(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// Reads the rest of the body as text (invalid UTF-8 is replaced with U+FFFD).
    pub fn text(self) -> Result<String, Error> {
        let bytes = self.bytes()?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}

/// Streams the body. A failure is an [`io::Error`] wrapping this library's [`Error`]
/// (get it back with `io_error.get_ref().and_then(|e| e.downcast_ref::<Error>())`).
impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_chunk(buf).map_err(io::Error::other)
    }
}

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// wasmgate's policy refused the request (no `--allow` rule matches).
    Denied,
    /// The host name resolved only to addresses the policy refuses.
    DestinationIpProhibited,
    /// Name resolution failed.
    Dns,
    /// Could not connect.
    ConnectionRefused,
    /// A connect, first-byte or between-bytes timeout passed.
    Timeout,
    /// The TLS handshake failed or the certificate is not trusted.
    Tls,
    /// The request or response body is larger than the policy allows.
    BodyTooLarge,
    /// A limit on concurrent or total requests was reached.
    LimitReached,
    /// The request itself is invalid: method, URL, or a header (bad syntax or one the
    /// host manages).
    InvalidRequest,
    /// The connection broke or the server spoke bad HTTP.
    Protocol,
    /// Under `wasmgate run --replay`: the replay file has no entry (left) for this
    /// request (core modules only; a component sees `internal-error` with the message).
    NotRecorded,
    /// Anything else (including errors of a body reader).
    Other,
}

/// A failed request: its [`kind`](Error::kind), the host's status
/// [`code`](Error::code) where there is one, and a human [`message`](Error::message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    code: Option<i32>,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, code: Option<i32>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Other, None, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// On wasip1, the host ABI's negative status code (`-20` for a denied request, see
    /// `docs/abi.md`); `None` on wasip2 and for failures found by this library itself.
    pub fn code(&self) -> Option<i32> {
        self.code
    }

    /// The human-readable message. On wasip1 it is the host's own message (for a denied
    /// request the line wasmgate prints, including the `--allow …` flag that would allow
    /// it); on wasip2 the `wasi:http` error code, e.g. `HttpRequestDenied`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the policy refused the request.
    pub fn is_denied(&self) -> bool {
        self.kind == ErrorKind::Denied
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{:?}", self.kind)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        io::Error::other(e)
    }
}

/// Reads the next chunk of a request body from `body` into `buf` (at most `buf.len()`
/// bytes); 0 at the end.
pub(crate) fn next_body_chunk(
    body: &mut Body,
    offset: &mut usize,
    buf: &mut [u8],
) -> Result<usize, Error> {
    match body {
        Body::Empty => Ok(0),
        Body::Bytes(b) => {
            let n = buf.len().min(b.len() - *offset);
            buf[..n].copy_from_slice(&b[*offset..*offset + n]);
            *offset += n;
            Ok(n)
        }
        Body::Reader(r) => loop {
            match r.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::other(format!("reading the request body: {e}"))),
            }
        },
    }
}
