//! The wasmgate host ABI for core modules (docs/abi.md): every pointer, length, string
//! and handle is validated here before anything reaches the outbound client.

mod codes;
mod fetch;
mod memory;
mod request;
mod response;
mod send;
mod state;
mod validate;
mod wait;

use crate::outbound::OutboundClient;
use state::AbiState;
use wasmtime::{Caller, Linker, StoreLimits};
use wasmtime_wasi::p1::WasiP1Ctx;

/// The import module name of ABI version 1.
pub const MODULE: &str = "wasmgate_http_v1";

/// Store state of a core-module run.
pub(crate) struct CoreState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limits: StoreLimits,
    pub(crate) abi: AbiState,
}

impl CoreState {
    pub(crate) fn new(wasi: WasiP1Ctx, limits: StoreLimits, client: OutboundClient) -> Self {
        Self {
            wasi,
            limits,
            abi: AbiState::new(client),
        }
    }
}

/// Refuses an ABI call made while the host is inside a guest callback on behalf of
/// another ABI call (the allocator during `fetch`). Allowing it would let the callback
/// start a nested call that calls back again, without a bound: every level holds a new
/// fiber stack and a request, and tearing the chain down at `--timeout` takes longer the
/// deeper it is (docs/abi.md, "Re-entrancy").
fn reentered(c: &mut Caller<'_, CoreState>, name: &str) -> Option<i32> {
    if !c.data().abi.in_callback {
        return None;
    }
    c.data_mut().abi.last_error = format!(
        "{name}: called from inside the guest's allocator while the host is running `fetch` for the guest; ABI calls cannot be made from there"
    );
    Some(codes::ERR_REENTRANT)
}

/// A call's status for the guest; a failure's message is kept for `last_error`.
fn status(c: &mut Caller<'_, CoreState>, r: Result<i32, memory::CallError>) -> i32 {
    match r {
        Ok(v) => v,
        Err((code, msg)) => {
            c.data_mut().abi.last_error = msg;
            code
        }
    }
}

macro_rules! sync_fn {
    ($linker:ident, $name:literal, $f:path, ($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap(MODULE, $name, |mut c: Caller<'_, CoreState>, $($arg: $ty),*| -> i32 {
            if let Some(code) = reentered(&mut c, $name) {
                return code;
            }
            let r = $f(&mut c, $($arg),*);
            status(&mut c, r)
        })?;
    };
}

macro_rules! async_fn {
    ($linker:ident, $name:literal, $f:path, ($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap_async(MODULE, $name, |mut c: Caller<'_, CoreState>, ($($arg,)*): ($($ty,)*)| {
            Box::new(async move {
                if let Some(code) = reentered(&mut c, $name) {
                    return Ok(code);
                }
                let r = $f(&mut c, $($arg),*).await;
                Ok(status(&mut c, r))
            })
        })?;
    };
}

/// Adds every ABI function to the linker. Modules that do not import them are
/// unaffected.
pub(crate) fn add_to_linker(linker: &mut Linker<CoreState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "version", |mut c: Caller<'_, CoreState>| -> i32 {
        reentered(&mut c, "version").unwrap_or(1)
    })?;
    sync_fn!(linker, "request_new", request::request_new, (mp: i32, ml: i32, up: i32, ul: i32));
    sync_fn!(linker, "request_header", request::request_header, (h: i32, np: i32, nl: i32, vp: i32, vl: i32));
    sync_fn!(linker, "request_option", request::request_option, (h: i32, option: i32, value: i64));
    sync_fn!(linker, "request_send", request::request_send, (h: i32, flags: i32));
    async_fn!(linker, "body_write", request::body_write, (h: i32, ptr: i32, len: i32, timeout: i64));
    sync_fn!(linker, "body_finish", request::body_finish, (h: i32));
    async_fn!(linker, "poll", response::poll, (hp: i32, count: i32, rp: i32, timeout: i64));
    async_fn!(linker, "response_status", response::response_status, (h: i32, timeout: i64));
    sync_fn!(linker, "response_version", response::response_version, (h: i32));
    sync_fn!(linker, "response_headers", response::response_headers, (h: i32, ptr: i32, cap: i32));
    sync_fn!(linker, "response_header", response::response_header, (h: i32, np: i32, nl: i32, index: i32, ptr: i32, cap: i32));
    async_fn!(linker, "body_read", response::body_read, (h: i32, ptr: i32, cap: i32, timeout: i64));
    sync_fn!(linker, "close", response::close, (h: i32));
    sync_fn!(linker, "last_error", response::last_error, (ptr: i32, cap: i32));
    // Not `async_fn!`: a timeout or `exit` inside the guest's allocator must end the run
    // (an `Err` here), not come back to the guest as a status.
    linker.func_wrap_async(
        MODULE,
        "fetch",
        |mut c: Caller<'_, CoreState>, args: (i32, i32, i32, i32, i32, i32, i32, i32, i32)| {
            Box::new(async move {
                if let Some(code) = reentered(&mut c, "fetch") {
                    return Ok(code);
                }
                let r = fetch::fetch(&mut c, args).await?;
                Ok(status(&mut c, r))
            })
        },
    )?;
    Ok(())
}
