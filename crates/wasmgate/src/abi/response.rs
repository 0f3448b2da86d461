//! Reading answers: `response_status`, `response_version`, `response_headers`,
//! `response_header`, `body_read`, `poll`, `close`, `last_error`.

use super::CoreState;
use super::codes::*;
use super::memory::{self, CallError};
use super::state::{HeadState, MAX_HANDLES, Slot, bad_handle};
use super::validate::serialize_headers;
use super::wait::{Wait, wait_for_progress};
use crate::abi::codes::code_of;
use tokio::sync::mpsc::error::TryRecvError;
use wasmtime::Caller;

type Result<T> = std::result::Result<T, CallError>;

pub(crate) async fn response_status(
    c: &mut Caller<'_, CoreState>,
    h: i32,
    timeout: i64,
) -> Result<i32> {
    let wait = Wait::from_ms("response_status", timeout)?;
    loop {
        let s = c.data_mut().abi.sent("response_status", h)?;
        s.refresh();
        match &s.head {
            HeadState::Ready(head) => return Ok(i32::from(head.status)),
            HeadState::Failed(code, msg) => return Err((*code, msg.clone())),
            HeadState::Waiting(_) => {}
        }
        if !wait_for_progress(c, wait).await {
            return Err((
                ERR_NOT_READY,
                format!("response_status: request {h} has no answer yet"),
            ));
        }
    }
}

/// The response's HTTP version as major * 10 + minor (10, 11, 20, 30); never waits.
pub(crate) fn response_version(c: &mut Caller<'_, CoreState>, h: i32) -> Result<i32> {
    let s = c.data_mut().abi.sent("response_version", h)?;
    s.refresh();
    match &s.head {
        HeadState::Ready(head) => Ok(version_number(head.version)),
        HeadState::Failed(code, msg) => Err((*code, msg.clone())),
        HeadState::Waiting(_) => Err((
            ERR_NOT_READY,
            format!("response_version: request {h} has no answer yet"),
        )),
    }
}

fn version_number(v: http::Version) -> i32 {
    match v {
        http::Version::HTTP_09 => 9,
        http::Version::HTTP_10 => 10,
        http::Version::HTTP_2 => 20,
        http::Version::HTTP_3 => 30,
        _ => 11,
    }
}

/// Copies `data` if it fits in `cap` bytes at `ptr`; returns its full length either way.
fn copy_out(
    c: &mut Caller<'_, CoreState>,
    what: &str,
    ptr: i32,
    cap: i32,
    data: &[u8],
) -> Result<i32> {
    memory::check_buffer(c, what, ptr, cap)?;
    let len =
        i32::try_from(data.len()).map_err(|_| (ERR_INTERNAL, format!("{what}: too large")))?;
    if data.len() <= cap as u32 as usize {
        memory::write(c, what, ptr, data)?;
    }
    Ok(len)
}

/// `f` applied to the response headers of request `h` (borrowed, not copied).
fn with_head_headers<R>(
    c: &mut Caller<'_, CoreState>,
    what: &str,
    h: i32,
    f: impl FnOnce(&http::HeaderMap) -> R,
) -> Result<R> {
    let s = c.data_mut().abi.sent(what, h)?;
    s.refresh();
    match &s.head {
        HeadState::Ready(head) => Ok(f(&head.headers)),
        HeadState::Failed(code, msg) => Err((*code, msg.clone())),
        HeadState::Waiting(_) => Err((
            ERR_NOT_READY,
            format!("{what}: request {h} has no answer yet"),
        )),
    }
}

pub(crate) fn response_headers(
    c: &mut Caller<'_, CoreState>,
    h: i32,
    ptr: i32,
    cap: i32,
) -> Result<i32> {
    let serialized = with_head_headers(c, "response_headers", h, serialize_headers)?;
    copy_out(c, "response_headers", ptr, cap, &serialized)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn response_header(
    c: &mut Caller<'_, CoreState>,
    h: i32,
    np: i32,
    nl: i32,
    index: i32,
    ptr: i32,
    cap: i32,
) -> Result<i32> {
    // A request without an answer is reported before a bad name.
    with_head_headers(c, "response_header", h, |_| ())?;
    let name = memory::read(c, "response_header", np, nl)?;
    let Ok(name) = http::HeaderName::from_bytes(&name) else {
        return Err((
            ERR_BAD_HEADER,
            "response_header: not a valid header name".into(),
        ));
    };
    let value = with_head_headers(c, "response_header", h, |headers| {
        usize::try_from(index)
            .ok()
            .and_then(|i| headers.get_all(&name).iter().nth(i).cloned())
    })?
    .ok_or_else(|| {
        (
            ERR_NOT_FOUND,
            format!("response_header: no {name} header number {index}"),
        )
    })?;
    copy_out(c, "response_header", ptr, cap, value.as_bytes())
}

pub(crate) async fn body_read(
    c: &mut Caller<'_, CoreState>,
    h: i32,
    ptr: i32,
    cap: i32,
    timeout: i64,
) -> Result<i32> {
    let wait = Wait::from_ms("body_read", timeout)?;
    if cap == 0 {
        return Err((
            ERR_INVALID_ARGUMENT,
            "body_read: the buffer capacity is 0".into(),
        ));
    }
    memory::check_buffer(c, "body_read", ptr, cap)?;
    let cap = cap as u32 as usize;
    loop {
        let s = c.data_mut().abi.sent("body_read", h)?;
        s.refresh();
        if let Some((code, msg)) = &s.body_failed {
            return Err((*code, msg.clone()));
        }
        match &mut s.head {
            HeadState::Failed(code, msg) => return Err((*code, msg.clone())),
            HeadState::Waiting(_) => {}
            HeadState::Ready(head) => {
                if !s.leftover.is_empty() {
                    let chunk = s.leftover.split_to(cap.min(s.leftover.len()));
                    memory::write(c, "body_read", ptr, &chunk)?;
                    return Ok(chunk.len() as i32);
                }
                if s.eof {
                    return Ok(0);
                }
                match head.frames.try_recv() {
                    Ok(Ok(bytes)) => {
                        s.leftover = bytes;
                        continue;
                    }
                    Ok(Err(e)) => {
                        let failed = (code_of(&e), e.to_string());
                        s.body_failed = Some(failed.clone());
                        return Err(failed);
                    }
                    Err(TryRecvError::Disconnected) => {
                        s.eof = true;
                        return Ok(0);
                    }
                    Err(TryRecvError::Empty) => {}
                }
            }
        }
        if !wait_for_progress(c, wait).await {
            return Err((
                ERR_NOT_READY,
                format!("body_read: no body data for request {h} yet"),
            ));
        }
    }
}

pub(crate) async fn poll(
    c: &mut Caller<'_, CoreState>,
    hp: i32,
    count: i32,
    rp: i32,
    timeout: i64,
) -> Result<i32> {
    let wait = Wait::from_ms("poll", timeout)?;
    usize::try_from(count)
        .ok()
        .filter(|n| *n <= MAX_HANDLES)
        .ok_or_else(|| {
            (
                ERR_INVALID_ARGUMENT,
                format!("poll: count {count} is not in 0..={MAX_HANDLES}"),
            )
        })?;
    let raw = memory::read(c, "poll", hp, count.saturating_mul(4))?;
    // On input each byte is the set of bits the guest waits for (0 = any).
    let interest = memory::read(c, "poll", rp, count)?;
    let handles: Vec<i32> = raw
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    loop {
        let abi = &mut c.data_mut().abi;
        let bits: Vec<u8> = handles
            .iter()
            .zip(&interest)
            .map(|(h, want)| match abi.handles.get_mut(h) {
                Some(Slot::Sent(s)) if *want == 0 => s.readiness(),
                Some(Slot::Sent(s)) => s.readiness() & want,
                Some(Slot::Building(_)) => 0,
                None => READY_INVALID,
            })
            .collect();
        let ready = bits.iter().filter(|b| **b != 0).count();
        if ready > 0 || !wait_for_progress(c, wait).await {
            memory::write(c, "poll", rp, &bits)?;
            return Ok(ready as i32);
        }
    }
}

pub(crate) fn close(c: &mut Caller<'_, CoreState>, h: i32) -> Result<i32> {
    if c.data_mut().abi.close(h) {
        Ok(0)
    } else {
        Err(bad_handle("close", h))
    }
}

pub(crate) fn last_error(c: &mut Caller<'_, CoreState>, ptr: i32, cap: i32) -> Result<i32> {
    let msg = c.data().abi.last_error.clone();
    copy_out(c, "last_error", ptr, cap, msg.as_bytes())
}
