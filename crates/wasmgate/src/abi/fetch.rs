//! `fetch`: the one-shot fast path for small requests, for guests that export an
//! allocator. The allocator's answer is checked before a byte is written.

use super::CoreState;
use super::codes::*;
use super::memory::{self, CallError, checked_range};
use super::validate::{self, MAX_HEADER_BYTES};
use crate::events::Origin;
use crate::outbound::{GuestTimeouts, OutboundRequest};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::{Caller, Extern, TypedFunc};

/// Largest body `fetch` moves in one piece (either way). Bigger bodies belong on the
/// streaming calls, which never hold a whole body in host memory.
pub(crate) const FETCH_MAX_BODY: u64 = 16 * 1024 * 1024;

type Result<T> = std::result::Result<T, CallError>;

enum Alloc {
    Realloc(TypedFunc<(i32, i32, i32, i32), i32>),
    Malloc(TypedFunc<i32, i32>),
}

fn allocator(c: &mut Caller<'_, CoreState>) -> Result<Alloc> {
    let bad_sig = |name: &str| {
        (
            ERR_BAD_ALLOCATOR,
            format!("fetch: the guest's `{name}` export does not have the expected signature"),
        )
    };
    if let Some(Extern::Func(f)) = c.get_export("cabi_realloc") {
        return f
            .typed(&*c)
            .map(Alloc::Realloc)
            .map_err(|_| bad_sig("cabi_realloc"));
    }
    if let Some(Extern::Func(f)) = c.get_export("malloc") {
        return f
            .typed(&*c)
            .map(Alloc::Malloc)
            .map_err(|_| bad_sig("malloc"));
    }
    Err((
        ERR_NO_ALLOCATOR,
        "fetch: the module exports neither `cabi_realloc` nor `malloc`; use the streaming calls (request_new …), which need no allocator".into(),
    ))
}

/// `fetch`'s arguments: method, URL, headers and body as (ptr, len) pairs, then the
/// result pointer.
pub(crate) type FetchArgs = (i32, i32, i32, i32, i32, i32, i32, i32, i32);

/// Runs `fetch`. The outer `Err` is not a status but the end of the run: the guest's
/// allocator hit the `--timeout` deadline or called `exit`.
pub(crate) async fn fetch(
    c: &mut Caller<'_, CoreState>,
    args: FetchArgs,
) -> wasmtime::Result<Result<i32>> {
    let (status, data, alloc, rp) = match request(c, args).await {
        Ok(done) => done,
        Err(e) => return Ok(Err(e)),
    };
    let (ptr, len) = if data.is_empty() {
        (0, 0)
    } else {
        let len = data.len() as i32;
        // Whatever the allocator calls meanwhile is refused (`ERR_REENTRANT`).
        c.data_mut().abi.in_callback = true;
        let called = match alloc {
            Alloc::Realloc(f) => f.call_async(&mut *c, (0, 0, 1, len)).await,
            Alloc::Malloc(f) => f.call_async(&mut *c, len).await,
        };
        c.data_mut().abi.in_callback = false;
        let ptr = match called {
            Ok(ptr) => ptr,
            Err(e) if ends_run(&e) => return Err(e),
            Err(e) => {
                return Ok(Err((
                    ERR_BAD_ALLOCATOR,
                    format!("fetch: the guest's allocator failed: {e}"),
                )));
            }
        };
        if let Err(e) = place(c, ptr, &data) {
            return Ok(Err(e));
        }
        (ptr, len)
    };
    let mut result = [0u8; 8];
    result[..4].copy_from_slice(&(ptr as u32).to_le_bytes());
    result[4..].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(memory::write(c, "fetch", rp, &result).map(|()| status))
}

/// Whether an error from guest code run by the host ends the run rather than the call:
/// the epoch deadline of `--timeout` and `exit` belong to the run, not to `fetch`.
fn ends_run(e: &wasmtime::Error) -> bool {
    e.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt)
        || e.downcast_ref::<wasmtime_wasi::I32Exit>().is_some()
}

/// Copies the body to where the allocator said, after checking that it is in memory.
fn place(c: &mut Caller<'_, CoreState>, ptr: i32, data: &[u8]) -> Result<()> {
    let len = data.len() as i32;
    // The allocator may have grown memory: measure it after the call.
    let size = memory::size(c)?;
    if ptr == 0 || checked_range(ptr, len, size).is_none() {
        return Err((
            ERR_BAD_ALLOCATOR,
            format!(
                "fetch: the guest's allocator returned {:#x} for {len} bytes, which is not inside guest memory ({size} bytes)",
                ptr as u32
            ),
        ));
    }
    memory::write(c, "fetch", ptr, data)
}

/// Validates the arguments, sends the request and reads the whole response body.
async fn request(
    c: &mut Caller<'_, CoreState>,
    (mp, ml, up, ul, hp, hl, bp, bl, rp): FetchArgs,
) -> Result<(i32, Vec<u8>, Alloc, i32)> {
    let alloc = allocator(c)?;
    for (ptr, len) in [(rp, 8), (hp, hl), (bp, bl)] {
        memory::check_buffer(c, "fetch", ptr, len)?;
    }
    let (method, url) = super::request::read_method_and_url(c, "fetch", mp, ml, up, ul)?;
    if hl as u32 as usize > MAX_HEADER_BYTES {
        return Err((
            ERR_BAD_HEADER,
            format!("fetch: headers are at most {MAX_HEADER_BYTES} bytes"),
        ));
    }
    if u64::from(bl as u32) > FETCH_MAX_BODY {
        return Err((
            ERR_REQUEST_BODY_SIZE,
            "fetch: request bodies over 16 MiB must use the streaming calls".into(),
        ));
    }
    let headers = validate::header_list(&memory::read(c, "fetch", hp, hl)?)?;
    let body = memory::read(c, "fetch", bp, bl)?;

    let mut request = http::Request::builder()
        .method(method)
        .uri(url.as_str())
        .body(
            Full::new(Bytes::from(body))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .map_err(|e| (ERR_BAD_URL, format!("fetch: {e}")))?;
    for (name, value) in headers {
        request.headers_mut().append(name, value);
    }
    let client = c.data().abi.client.clone();
    let response = client
        .send(OutboundRequest {
            request,
            timeouts: GuestTimeouts::default(),
            origin: Origin::HostAbi,
        })
        .await
        .map_err(|e| (code_of(&e), e.to_string()))?;
    let status = i32::from(response.status().as_u16());
    let max = client
        .policy()
        .limits()
        .max_response_body
        .min(FETCH_MAX_BODY);
    let mut body = response.into_body();
    let mut data = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| (code_of(&e), e.to_string()))?;
        if let Ok(chunk) = frame.into_data() {
            if (data.len() + chunk.len()) as u64 > max {
                return Err((
                    ERR_RESPONSE_BODY_SIZE,
                    format!(
                        "fetch: the response body is over {max} bytes; read large bodies with the streaming calls"
                    ),
                ));
            }
            data.extend_from_slice(&chunk);
        }
    }
    drop(body);
    Ok((status, data, alloc, rp))
}
