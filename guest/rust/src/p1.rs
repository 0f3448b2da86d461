//! wasm32-wasip1: wasmgate's host ABI (`docs/abi.md`, module `wasmgate_http_v1`).

use crate::{Body, CHUNK, Error, ErrorKind, Request, Response, next_body_chunk};
use std::time::Duration;

/// The raw imports. The Rust names carry a prefix so that they cannot clash with libc
/// symbols (`close`); `link_name` gives the import name.
mod sys {
    #[link(wasm_import_module = "wasmgate_http_v1")]
    unsafe extern "C" {
        #[link_name = "request_new"]
        pub fn wg_request_new(mp: *const u8, ml: i32, up: *const u8, ul: i32) -> i32;
        #[link_name = "request_header"]
        pub fn wg_request_header(h: i32, np: *const u8, nl: i32, vp: *const u8, vl: i32) -> i32;
        #[link_name = "request_option"]
        pub fn wg_request_option(h: i32, option: i32, value: i64) -> i32;
        #[link_name = "request_send"]
        pub fn wg_request_send(h: i32, flags: i32) -> i32;
        #[link_name = "body_write"]
        pub fn wg_body_write(h: i32, p: *const u8, l: i32, timeout_ms: i64) -> i32;
        #[link_name = "body_finish"]
        pub fn wg_body_finish(h: i32) -> i32;
        #[link_name = "poll"]
        pub fn wg_poll(hp: *const i32, count: i32, rp: *mut u8, timeout_ms: i64) -> i32;
        #[link_name = "response_status"]
        pub fn wg_response_status(h: i32, timeout_ms: i64) -> i32;
        #[link_name = "response_headers"]
        pub fn wg_response_headers(h: i32, p: *mut u8, cap: i32) -> i32;
        #[link_name = "body_read"]
        pub fn wg_body_read(h: i32, p: *mut u8, cap: i32, timeout_ms: i64) -> i32;
        #[link_name = "close"]
        pub fn wg_close(h: i32) -> i32;
        #[link_name = "last_error"]
        pub fn wg_last_error(p: *mut u8, cap: i32) -> i32;
    }
}

const ERR_BAD_UTF8: i32 = -3;
const ERR_BAD_METHOD: i32 = -4;
const ERR_BAD_URL: i32 = -5;
const ERR_BAD_HEADER: i32 = -6;
const ERR_FORBIDDEN_HEADER: i32 = -7;
const ERR_DENIED: i32 = -20;
const ERR_DESTINATION_IP_PROHIBITED: i32 = -21;
const ERR_DNS: i32 = -22;
const ERR_CONNECTION_REFUSED: i32 = -23;
const ERR_CONNECTION_TIMEOUT: i32 = -24;
const ERR_TLS_PROTOCOL: i32 = -25;
const ERR_TLS_CERTIFICATE: i32 = -26;
const ERR_REQUEST_BODY_SIZE: i32 = -27;
const ERR_RESPONSE_BODY_SIZE: i32 = -28;
const ERR_RESPONSE_TIMEOUT: i32 = -29;
const ERR_READ_TIMEOUT: i32 = -30;
const ERR_LIMIT_REACHED: i32 = -31;
const ERR_PROTOCOL: i32 = -32;
const ERR_NOT_RECORDED: i32 = -35;

const OPT_CONNECT_TIMEOUT_MS: i32 = 1;
const OPT_FIRST_BYTE_TIMEOUT_MS: i32 = 2;
const OPT_BETWEEN_BYTES_TIMEOUT_MS: i32 = 3;
const SEND_BODY_STREAM: i32 = 1;
const READY_RESPONSE: u8 = 1;
const READY_INVALID: u8 = 128;
const WAIT: i64 = -1;

fn kind_of(code: i32) -> ErrorKind {
    match code {
        ERR_DENIED => ErrorKind::Denied,
        ERR_DESTINATION_IP_PROHIBITED => ErrorKind::DestinationIpProhibited,
        ERR_DNS => ErrorKind::Dns,
        ERR_CONNECTION_REFUSED => ErrorKind::ConnectionRefused,
        ERR_CONNECTION_TIMEOUT | ERR_RESPONSE_TIMEOUT | ERR_READ_TIMEOUT => ErrorKind::Timeout,
        ERR_TLS_PROTOCOL | ERR_TLS_CERTIFICATE => ErrorKind::Tls,
        ERR_REQUEST_BODY_SIZE | ERR_RESPONSE_BODY_SIZE => ErrorKind::BodyTooLarge,
        ERR_LIMIT_REACHED => ErrorKind::LimitReached,
        ERR_BAD_UTF8 | ERR_BAD_METHOD | ERR_BAD_URL | ERR_BAD_HEADER | ERR_FORBIDDEN_HEADER => {
            ErrorKind::InvalidRequest
        }
        ERR_PROTOCOL => ErrorKind::Protocol,
        ERR_NOT_RECORDED => ErrorKind::NotRecorded,
        _ => ErrorKind::Other,
    }
}

/// The host's message of the most recent failure.
fn last_error() -> String {
    // SAFETY: a null pointer with capacity 0 is never written to.
    let n = unsafe { sys::wg_last_error(std::ptr::null_mut(), 0) };
    if n <= 0 {
        return String::new();
    }
    let mut buf = vec![0u8; n as usize];
    // SAFETY: `buf` is valid for `n` bytes.
    let got = unsafe { sys::wg_last_error(buf.as_mut_ptr(), n) };
    if got != n {
        return String::new();
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Turns a status into a result; a negative one becomes an [`Error`] with the host's
/// message (read at once, before another call can replace it).
fn check(status: i32) -> Result<i32, Error> {
    if status >= 0 {
        Ok(status)
    } else {
        let message = last_error();
        Err(Error::new(kind_of(status), Some(status), message))
    }
}

fn len_i32(len: usize) -> Result<i32, Error> {
    i32::try_from(len).map_err(|_| {
        Error::new(
            ErrorKind::InvalidRequest,
            None,
            "argument longer than 2 GiB",
        )
    })
}

/// An open handle, closed on drop.
struct Handle(i32);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: plain integer call; closing an unknown handle is a harmless error.
        unsafe { sys::wg_close(self.0) };
    }
}

fn millis(d: Duration) -> i64 {
    let ms = d.as_nanos().div_ceil(1_000_000).max(1);
    i64::try_from(ms).unwrap_or(i64::MAX)
}

pub(crate) fn start(req: Request) -> Result<Pending, Error> {
    let Request {
        method,
        url,
        headers,
        mut body,
        connect_timeout,
        first_byte_timeout,
        between_bytes_timeout,
    } = req;
    // SAFETY: both slices are valid for their lengths.
    let h = check(unsafe {
        sys::wg_request_new(
            method.as_ptr(),
            len_i32(method.len())?,
            url.as_ptr(),
            len_i32(url.len())?,
        )
    })?;
    let handle = Handle(h);
    for (name, value) in &headers {
        // SAFETY: both slices are valid for their lengths.
        check(unsafe {
            sys::wg_request_header(
                h,
                name.as_ptr(),
                len_i32(name.len())?,
                value.as_ptr(),
                len_i32(value.len())?,
            )
        })?;
    }
    for (option, value) in [
        (OPT_CONNECT_TIMEOUT_MS, connect_timeout),
        (OPT_FIRST_BYTE_TIMEOUT_MS, first_byte_timeout),
        (OPT_BETWEEN_BYTES_TIMEOUT_MS, between_bytes_timeout),
    ] {
        if let Some(d) = value {
            // SAFETY: plain integer call.
            check(unsafe { sys::wg_request_option(h, option, millis(d)) })?;
        }
    }
    let streamed = !matches!(body, Body::Empty);
    let flags = if streamed { SEND_BODY_STREAM } else { 0 };
    // SAFETY: plain integer call.
    check(unsafe { sys::wg_request_send(h, flags) })?;
    if streamed {
        let mut buf = vec![0u8; CHUNK];
        let mut offset = 0;
        loop {
            // On an error, closing the handle (on return) cancels the request.
            let n = next_body_chunk(&mut body, &mut offset, &mut buf)?;
            if n == 0 {
                break;
            }
            let mut written = 0;
            while written < n {
                let rest = &buf[written..n];
                // SAFETY: `rest` is valid for its length (at most 64 KiB).
                let w =
                    check(unsafe { sys::wg_body_write(h, rest.as_ptr(), rest.len() as i32, WAIT) })
                        .map_err(|e| prefer_request_error(h, e))?;
                written += w as usize;
            }
        }
        // SAFETY: plain integer call.
        check(unsafe { sys::wg_body_finish(h) }).map_err(|e| prefer_request_error(h, e))?;
    }
    Ok(Pending { handle })
}

/// A failed body write is best explained by the request's own failure (e.g. denied),
/// which `response_status` reports.
fn prefer_request_error(h: i32, e: Error) -> Error {
    if e.kind != ErrorKind::Other {
        return e;
    }
    // SAFETY: plain integer call.
    match check(unsafe { sys::wg_response_status(h, 2000) }) {
        Err(req) if req.code != Some(-10) => req,
        _ => e,
    }
}

pub(crate) struct Pending {
    handle: Handle,
}

impl Pending {
    pub(crate) fn wait(self) -> Result<Response, Error> {
        let h = self.handle.0;
        // SAFETY: plain integer call.
        let status = check(unsafe { sys::wg_response_status(h, WAIT) })?;
        let headers = read_headers(h)?;
        Ok(Response::new(
            status as u16,
            headers,
            BodyReader {
                handle: self.handle,
            },
        ))
    }
}

fn read_headers(h: i32) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // SAFETY: `buf` is valid for its capacity (the host writes at most that much).
        let n = check(unsafe {
            sys::wg_response_headers(h, buf.as_mut_ptr(), len_i32(buf.capacity())?)
        })? as usize;
        if n <= buf.capacity() {
            // SAFETY: the host initialised the first `n` bytes.
            unsafe { buf.set_len(n) };
            break;
        }
        buf.reserve_exact(n);
    }
    let mut out = Vec::new();
    let mut rest = buf.as_slice();
    let take = |rest: &mut &[u8]| -> Option<Vec<u8>> {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        if tail.len() < len {
            return None;
        }
        let (v, tail) = tail.split_at(len);
        *rest = tail;
        Some(v.to_vec())
    };
    while !rest.is_empty() {
        let (Some(name), Some(value)) = (take(&mut rest), take(&mut rest)) else {
            return Err(Error::new(
                ErrorKind::Protocol,
                None,
                "malformed response headers from the host",
            ));
        };
        out.push((String::from_utf8_lossy(&name).into_owned(), value));
    }
    Ok(out)
}

pub(crate) fn wait_all(pending: Vec<Pending>) -> Vec<Result<Response, Error>> {
    let mut waiting: Vec<i32> = pending.iter().map(|p| p.handle.0).collect();
    let mut ready = vec![0u8; waiting.len()];
    while !waiting.is_empty() {
        // At most 1024 handles can be open, so the count fits.
        let count = waiting.len() as i32;
        // SAFETY: both arrays hold `count` elements.
        let n = unsafe { sys::wg_poll(waiting.as_ptr(), count, ready.as_mut_ptr(), WAIT) };
        if n < 0 {
            // Cannot happen with valid arguments; fall back to waiting one by one.
            break;
        }
        let mut i = 0;
        waiting.retain(|_| {
            let done = ready[i] & (READY_RESPONSE | READY_INVALID) != 0;
            i += 1;
            !done
        });
        ready.truncate(waiting.len());
    }
    pending.into_iter().map(Pending::wait).collect()
}

/// The response body, read from the handle; dropping it closes the handle.
pub(crate) struct BodyReader {
    handle: Handle,
}

impl BodyReader {
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let cap = buf.len().min(i32::MAX as usize) as i32;
        // SAFETY: `buf` is valid for `cap` bytes.
        let n = check(unsafe { sys::wg_body_read(self.handle.0, buf.as_mut_ptr(), cap, WAIT) })?;
        Ok(n as usize)
    }
}
