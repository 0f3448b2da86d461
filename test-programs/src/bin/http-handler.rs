//! `http-handler`: a `wasi:http/incoming-handler` component written directly against
//! the raw `wasip2` bindings (no async runtime), for `wasmgate serve`'s tests.
//!
//! Routes (by path; the query selects the parameters):
//!
//! | path | answer |
//! |---|---|
//! | `/hello` | 200 `hello from http-handler\n` |
//! | `/echo` | 200, the request body streamed back (writes sized by `check-write`) |
//! | `/fetch?url=URL` | one outbound GET of URL (percent-decoded); 200 with `upstream-status: CODE`, `---` and the upstream body; or 502 with the wasi:http error-code name (`HttpRequestDenied`, `DestinationIpProhibited`, …) and a newline |
//! | `/trap` | traps (a panic, which aborts), before any response |
//! | `/spin` | loops forever, before any response |
//! | `/alloc?mb=N` | allocates N MiB and touches every page, then 200 `allocated N MiB\n` (the allocation fails → trap) |
//! | `/slow?ms=N` | waits N ms (`monotonic-clock.subscribe-duration`), then 200 `slept N ms\n` |
//! | `/stream?bytes=N` | 200, N bytes of the repeating `0123456789abcdef`, streamed without a content-length |
//! | anything else | 404 `not found: PATH\n` |
//!
//! Every response has `content-type: text/plain` (except `/echo` and `/stream`:
//! `application/octet-stream`) and `x-handler: http-handler`. A bad parameter is a 400
//! naming it.

use wasip2::clocks::monotonic_clock;
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme, http_error_code,
};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

use test_programs::{fill_pattern, ms_to_ns, parse_u64};

wasip2::http::proxy::export!(Handler);

/// Largest `blocking-read` of a body.
const READ_CHUNK: u64 = 64 * 1024;
/// Largest single write, whatever `check-write` permits.
const MAX_WRITE: u64 = 64 * 1024;

struct Handler;

impl Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path_with_query = request.path_with_query().unwrap_or_else(|| "/".into());
        let (path, query) = match path_with_query.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (path_with_query.clone(), String::new()),
        };
        match path.as_str() {
            "/hello" => text(out, 200, "hello from http-handler\n"),
            "/echo" => echo(request, out),
            "/fetch" => match param(&query, "url") {
                Some(url) => fetch(out, &url),
                None => text(out, 400, "missing parameter: url\n"),
            },
            "/trap" => panic!("http-handler: /trap asked for a trap"),
            "/spin" => {
                let mut i = 0u64;
                loop {
                    i = std::hint::black_box(i.wrapping_add(1));
                }
            }
            "/alloc" => match number(&query, "mb") {
                Some(mb) => {
                    let bytes = usize::try_from(mb)
                        .ok()
                        .and_then(|m| m.checked_mul(1 << 20))
                        .expect("allocation size fits in usize");
                    let mut v: Vec<u8> = Vec::with_capacity(bytes);
                    // Touch every page so the memory is really used.
                    v.resize(bytes, 1);
                    let v = std::hint::black_box(v);
                    text(out, 200, &format!("allocated {mb} MiB\n"));
                    drop(v);
                }
                None => text(out, 400, "bad or missing parameter: mb\n"),
            },
            "/slow" => match number(&query, "ms").and_then(ms_to_ns) {
                Some(ns) => {
                    monotonic_clock::subscribe_duration(ns).block();
                    let ms = ns / 1_000_000;
                    text(out, 200, &format!("slept {ms} ms\n"));
                }
                None => text(out, 400, "bad or missing parameter: ms\n"),
            },
            "/stream" => match number(&query, "bytes") {
                Some(n) => stream(out, n),
                None => text(out, 400, "bad or missing parameter: bytes\n"),
            },
            _ => text(out, 404, &format!("not found: {path}\n")),
        }
    }
}

/// Starts a response with `status` and `content_type`: the body to write to.
fn respond(out: ResponseOutparam, status: u16, content_type: &str) -> OutgoingBody {
    let headers = Fields::new();
    headers
        .append("content-type", content_type.as_bytes())
        .expect("content-type is a valid header");
    headers
        .append("x-handler", b"http-handler")
        .expect("x-handler is a valid header");
    let resp = OutgoingResponse::new(headers);
    resp.set_status_code(status).expect("valid status code");
    let body = resp.body().expect("outgoing-response.body");
    ResponseOutparam::set(out, Ok(resp));
    body
}

fn text(out: ResponseOutparam, status: u16, body: &str) {
    let b = respond(out, status, "text/plain");
    finish(b, |s| write_all(s, body.as_bytes()));
}

/// Writes to the body's stream with `write`, then finishes the body. A failed write
/// (the client went away) ends the handler quietly: there is no one to tell.
fn finish(body: OutgoingBody, write: impl FnOnce(&OutputStream) -> Result<(), StreamError>) {
    let ok = {
        let stream = body.write().expect("outgoing-body.write");
        write(&stream).and_then(|()| flush(&stream)).is_ok()
        // The stream is a child of the body: dropped before `finish`.
    };
    if ok {
        let _ = OutgoingBody::finish(body, None);
    }
}

/// Writes `data`, in pieces no larger than `check-write` permits.
fn write_all(stream: &OutputStream, mut data: &[u8]) -> Result<(), StreamError> {
    while !data.is_empty() {
        let n = permit(stream)?.min(data.len() as u64) as usize;
        stream.write(&data[..n])?;
        data = &data[n..];
    }
    Ok(())
}

/// Waits until the stream accepts bytes; how many (at most [`MAX_WRITE`]).
fn permit(stream: &OutputStream) -> Result<u64, StreamError> {
    loop {
        let n = stream.check_write()?;
        if n > 0 {
            return Ok(n.min(MAX_WRITE));
        }
        stream.subscribe().block();
    }
}

fn flush(stream: &OutputStream) -> Result<(), StreamError> {
    stream.flush()?;
    stream.subscribe().block();
    stream.check_write().map(|_| ())
}

fn echo(request: IncomingRequest, out: ResponseOutparam) {
    let incoming = request.consume().expect("incoming-request.consume");
    let body = respond(out, 200, "application/octet-stream");
    finish(body, |dst| {
        let src = incoming.stream().expect("incoming-body.stream");
        copy(&src, dst)
    });
}

fn copy(src: &InputStream, dst: &OutputStream) -> Result<(), StreamError> {
    loop {
        match src.blocking_read(READ_CHUNK) {
            Ok(chunk) => write_all(dst, &chunk)?,
            Err(StreamError::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

fn stream(out: ResponseOutparam, size: u64) {
    let body = respond(out, 200, "application/octet-stream");
    finish(body, |s| {
        let mut buf = Vec::new();
        let mut offset = 0;
        while offset < size {
            let n = permit(s)?.min(size - offset);
            buf.resize(n as usize, 0);
            fill_pattern(&mut buf, offset);
            s.write(&buf)?;
            offset += n;
        }
        Ok(())
    });
}

fn fetch(out: ResponseOutparam, url: &str) {
    match get(url) {
        Ok((status, body)) => {
            let b = respond(out, 200, "text/plain");
            finish(b, |s| {
                write_all(s, format!("upstream-status: {status}\n---\n").as_bytes())?;
                write_all(s, &body)
            });
        }
        Err(why) => text(out, 502, &format!("{why}\n")),
    }
}

/// One outbound GET; the status and whole body, or the error-code name.
fn get(url: &str) -> Result<(u16, Vec<u8>), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("bad url: {url}"))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path
    };
    let req = OutgoingRequest::new(Fields::new());
    req.set_method(&Method::Get).map_err(|()| "bad method")?;
    req.set_scheme(Some(&scheme)).map_err(|()| "bad scheme")?;
    req.set_authority(Some(authority))
        .map_err(|()| format!("bad authority: {authority}"))?;
    req.set_path_with_query(Some(&path))
        .map_err(|()| format!("bad path: {path}"))?;
    let body = req.body().map_err(|()| "outgoing-request.body")?;
    let fut = outgoing_handler::handle(req, None).map_err(|e| code_name(&e))?;
    OutgoingBody::finish(body, None).map_err(|e| code_name(&e))?;
    fut.subscribe().block();
    let resp = match fut.get() {
        Some(Ok(Ok(resp))) => resp,
        Some(Ok(Err(code))) => return Err(code_name(&code)),
        _ => return Err("response not ready".into()),
    };
    let status = resp.status();
    let incoming = resp.consume().map_err(|()| "incoming-response.consume")?;
    let mut data = Vec::new();
    {
        let s = incoming.stream().map_err(|()| "incoming-body.stream")?;
        loop {
            match s.blocking_read(READ_CHUNK) {
                Ok(chunk) => data.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(http_error_code(&e).map_or_else(
                        || format!("stream: {}", e.to_debug_string()),
                        |c| code_name(&c),
                    ));
                }
            }
        }
    }
    let trailers = IncomingBody::finish(incoming);
    trailers.subscribe().block();
    if let Some(Ok(Err(code))) = trailers.get() {
        return Err(code_name(&code));
    }
    Ok((status, data))
}

/// `ErrorCode` in Debug form without the `ErrorCode::` prefix: `HttpRequestDenied`.
fn code_name(code: &ErrorCode) -> String {
    let s = format!("{code:?}");
    s.strip_prefix("ErrorCode::")
        .map_or(s.clone(), str::to_string)
}

/// The percent-decoded value of query parameter `name` (`+` is a space).
fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| decode(v))
    })
}

fn number(query: &str, name: &str) -> Option<u64> {
    param(query, name).as_deref().and_then(parse_u64)
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The component also has a `main` (`wasi:cli/run`, as every wasm32-wasip2 binary);
/// a server calls only the incoming handler.
fn main() {}
