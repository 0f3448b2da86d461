//! `serve-probe` (wasm32-wasip2): a `wasi:http/incoming-handler` whose routes provoke
//! each behaviour `wasmgate serve` must handle (tests in crates/wasmgate/tests/serve.rs
//! and crates/cli/tests/serve.rs). Raw `wasip2` bindings, so the handler controls
//! exactly when (and whether) it answers.
//!
//! - `/hello` → 200 `hello from serve-probe`
//! - `/fetch?url=URL` → GET URL outbound; 200 `fetched STATUS: BODY`, or 502
//!   `outbound error: CODE` (the `wasi:http` error code, e.g. `HttpRequestDenied`)
//! - `/fetch-open?url=URL` → GET URL outbound, then 200 `left open: STATUS` without
//!   ever reading (or dropping) the response body: the request is still open when the
//!   handler returns
//! - `/echo` → 200, the request body streamed back chunk by chunk
//! - `/sleep?ms=N` → waits N ms (in the host), then 200 `slept N`
//! - `/trap` → traps (`unreachable`) before answering
//! - `/spin` → loops forever in wasm before answering
//! - `/alloc?mib=N` → allocates and touches N MiB, then 200 `allocated N`
//! - `/silent` → returns without ever answering
//! - `/drip?ms=N` → sends the head and `first `, waits N ms, then `second`

use wasip2::clocks::monotonic_clock;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingRequest, IncomingResponse, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use wasip2::io::streams::StreamError;

wasip2::http::proxy::export!(Probe);

struct Probe;

impl wasip2::exports::http::incoming_handler::Guest for Probe {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path_with_query = request.path_with_query().unwrap_or_default();
        let (path, query) = match path_with_query.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (path_with_query.clone(), String::new()),
        };
        let param = |name: &str| -> Option<String> {
            query.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k == name).then(|| v.to_string())
            })
        };
        match path.as_str() {
            "/hello" => answer(out, 200, b"hello from serve-probe"),
            "/fetch" => {
                let url = param("url").unwrap_or_default();
                match fetch(&url) {
                    Ok((status, body)) => answer(
                        out,
                        200,
                        format!("fetched {status}: {}", String::from_utf8_lossy(&body)).as_bytes(),
                    ),
                    Err(code) => answer(out, 502, format!("outbound error: {code:?}").as_bytes()),
                }
            }
            "/fetch-open" => {
                let url = param("url").unwrap_or_default();
                match send(&url) {
                    Ok(resp) => {
                        let status = resp.status();
                        // Never read nor dropped: still open when the handler returns.
                        std::mem::forget(resp);
                        answer(out, 200, format!("left open: {status}").as_bytes());
                    }
                    Err(code) => answer(out, 502, format!("outbound error: {code:?}").as_bytes()),
                }
            }
            "/echo" => echo(request, out),
            "/sleep" => {
                let ms: u64 = param("ms").and_then(|m| m.parse().ok()).unwrap_or(0);
                sleep_ms(ms);
                answer(out, 200, format!("slept {ms}").as_bytes());
            }
            "/trap" => core::arch::wasm32::unreachable(),
            "/spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/alloc" => {
                let mib: usize = param("mib").and_then(|m| m.parse().ok()).unwrap_or(1);
                let mut v = vec![0u8; mib * 1024 * 1024];
                for i in (0..v.len()).step_by(4096) {
                    v[i] = 1;
                }
                std::hint::black_box(&v);
                answer(out, 200, format!("allocated {mib}").as_bytes());
            }
            "/silent" => drop(out),
            "/drip" => {
                let ms: u64 = param("ms").and_then(|m| m.parse().ok()).unwrap_or(0);
                let resp = OutgoingResponse::new(Fields::new());
                let body = resp.body().expect("body");
                ResponseOutparam::set(out, Ok(resp));
                let stream = body.write().expect("stream");
                stream.blocking_write_and_flush(b"first ").expect("write");
                sleep_ms(ms);
                stream.blocking_write_and_flush(b"second").expect("write");
                drop(stream);
                OutgoingBody::finish(body, None).expect("finish");
            }
            _ => answer(out, 404, b"no such probe route"),
        }
    }
}

fn sleep_ms(ms: u64) {
    monotonic_clock::subscribe_duration(ms * 1_000_000).block();
}

fn answer(out: ResponseOutparam, status: u16, text: &[u8]) {
    let headers = Fields::new();
    let _ = headers.append("content-type", b"text/plain");
    let resp = OutgoingResponse::new(headers);
    let _ = resp.set_status_code(status);
    let body = resp.body().expect("body");
    ResponseOutparam::set(out, Ok(resp));
    let stream = body.write().expect("stream");
    // blocking-write-and-flush takes at most 4096 bytes at a time.
    for chunk in text.chunks(4096) {
        stream.blocking_write_and_flush(chunk).expect("write");
    }
    drop(stream);
    OutgoingBody::finish(body, None).expect("finish");
}

fn echo(request: IncomingRequest, out: ResponseOutparam) {
    let incoming = request.consume().expect("request body");
    let input = incoming.stream().expect("input stream");
    let resp = OutgoingResponse::new(Fields::new());
    let body = resp.body().expect("body");
    ResponseOutparam::set(out, Ok(resp));
    let output = body.write().expect("stream");
    loop {
        match input.blocking_read(4096) {
            Ok(chunk) => {
                if output.blocking_write_and_flush(&chunk).is_err() {
                    return;
                }
            }
            Err(StreamError::Closed) => break,
            // The host refused the body (over its size limit): stop without finishing.
            Err(StreamError::LastOperationFailed(_)) => return,
        }
    }
    drop(input);
    drop(output);
    OutgoingBody::finish(body, None).expect("finish");
}

fn fetch(url: &str) -> Result<(u16, Vec<u8>), ErrorCode> {
    let resp = send(url)?;
    let status = resp.status();
    let body = resp.consume().expect("response body");
    let stream = body.stream().expect("stream");
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(_)) => {
                return Err(ErrorCode::InternalError(Some("body read failed".into())));
            }
        }
    }
    Ok((status, bytes))
}

/// A GET of `url`, up to its response head.
fn send(url: &str) -> Result<IncomingResponse, ErrorCode> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let req = OutgoingRequest::new(Fields::new());
    let _ = req.set_method(&Method::Get);
    let _ = req.set_scheme(Some(&if scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    }));
    let _ = req.set_authority(Some(authority));
    let _ = req.set_path_with_query(Some(path));
    let fut = outgoing_handler::handle(req, None)?;
    fut.subscribe().block();
    fut.get().expect("ready").expect("first get")
}

/// A bin needs a `main`; the component then exports `wasi:cli/run` as well, which
/// `wasmgate serve` ignores (it calls only the incoming handler).
fn main() {}
