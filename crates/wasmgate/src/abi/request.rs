//! Building and sending requests: `request_new`, `request_header`, `request_option`,
//! `request_send`, `body_write`, `body_finish`.

use super::CoreState;
use super::codes::*;
use super::memory::{self, CallError};
use super::state::{
    BODY_BUFFER_CHUNKS, BODY_CHUNK, Building, HeadState, InFlight, MAX_REDIRECTS, Slot,
};
use super::validate::{self, MAX_HEADER_BYTES, MAX_METHOD_LEN, MAX_URL_LEN};
use super::wait::{Wait, wait_for_progress};
use crate::outbound::GuestTimeouts;
use http::HeaderMap;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wasmtime::Caller;

type Result<T> = std::result::Result<T, CallError>;

pub(crate) fn request_new(
    c: &mut Caller<'_, CoreState>,
    mp: i32,
    ml: i32,
    up: i32,
    ul: i32,
) -> Result<i32> {
    let (method, url) = read_method_and_url(c, "request_new", mp, ml, up, ul)?;
    c.data_mut().abi.insert(Slot::Building(Building {
        method,
        url,
        headers: HeaderMap::new(),
        header_bytes: 0,
        timeouts: GuestTimeouts::default(),
        follow: 0,
    }))
}

/// Reads a method and URL out of guest memory for `what`: bounds first (a range outside
/// memory is ERR_BAD_POINTER whatever else), then the size limits, then the syntax.
pub(crate) fn read_method_and_url(
    c: &mut Caller<'_, CoreState>,
    what: &str,
    mp: i32,
    ml: i32,
    up: i32,
    ul: i32,
) -> Result<(http::Method, String)> {
    memory::check_buffer(c, what, mp, ml)?;
    memory::check_buffer(c, what, up, ul)?;
    if ml as u32 as usize > MAX_METHOD_LEN {
        return Err((
            ERR_BAD_METHOD,
            format!("{what}: methods are at most {MAX_METHOD_LEN} bytes"),
        ));
    }
    if ul as u32 as usize > MAX_URL_LEN {
        return Err((
            ERR_BAD_URL,
            format!("{what}: URLs are at most {MAX_URL_LEN} bytes"),
        ));
    }
    let method = validate::method(&memory::read(c, what, mp, ml)?)?;
    let url = validate::url(&method, &memory::read(c, what, up, ul)?)?;
    Ok((method, url))
}

pub(crate) fn request_header(
    c: &mut Caller<'_, CoreState>,
    h: i32,
    np: i32,
    nl: i32,
    vp: i32,
    vl: i32,
) -> Result<i32> {
    memory::check_buffer(c, "request_header", np, nl)?;
    memory::check_buffer(c, "request_header", vp, vl)?;
    let added = (nl as u32 as usize).saturating_add(vl as u32 as usize);
    let used = c.data_mut().abi.building("request_header", h)?.header_bytes;
    if used.saturating_add(added) > MAX_HEADER_BYTES {
        return Err((
            ERR_BAD_HEADER,
            format!("request_header: the request's headers would exceed {MAX_HEADER_BYTES} bytes"),
        ));
    }
    let name = memory::read(c, "request_header", np, nl)?;
    let value = memory::read(c, "request_header", vp, vl)?;
    let (name, value) = validate::header(&name, &value)?;
    let b = c.data_mut().abi.building("request_header", h)?;
    b.headers.append(name, value);
    b.header_bytes += added;
    Ok(0)
}

pub(crate) fn request_option(
    c: &mut Caller<'_, CoreState>,
    h: i32,
    option: i32,
    value: i64,
) -> Result<i32> {
    let b = c.data_mut().abi.building("request_option", h)?;
    let ms = || -> Result<Option<Duration>> {
        if value <= 0 {
            return Err((
                ERR_INVALID_ARGUMENT,
                format!("request_option: timeout {value} ms must be > 0"),
            ));
        }
        Ok(Some(Duration::from_millis(value as u64)))
    };
    match option {
        OPT_CONNECT_TIMEOUT_MS => b.timeouts.connect = ms()?,
        OPT_FIRST_BYTE_TIMEOUT_MS => b.timeouts.first_byte = ms()?,
        OPT_BETWEEN_BYTES_TIMEOUT_MS => b.timeouts.between_bytes = ms()?,
        OPT_FOLLOW_REDIRECTS => {
            if !(0..=MAX_REDIRECTS).contains(&value) {
                return Err((
                    ERR_INVALID_ARGUMENT,
                    format!(
                        "request_option: follow up to 0..={MAX_REDIRECTS} redirects, not {value}"
                    ),
                ));
            }
            b.follow = value as u32;
        }
        other => {
            return Err((
                ERR_INVALID_ARGUMENT,
                format!("request_option: unknown option {other}"),
            ));
        }
    }
    Ok(0)
}

pub(crate) fn request_send(c: &mut Caller<'_, CoreState>, h: i32, flags: i32) -> Result<i32> {
    if flags & !SEND_BODY_STREAM != 0 {
        return Err((
            ERR_INVALID_ARGUMENT,
            format!("request_send: unknown flags {flags:#x}"),
        ));
    }
    let abi = &mut c.data_mut().abi;
    abi.building("request_send", h)?;
    let Some(Slot::Building(req)) = abi.handles.remove(&h) else {
        unreachable!("checked to be building above")
    };
    let streaming = flags & SEND_BODY_STREAM != 0;
    let (body_tx, finished, body) = if streaming {
        let label = (req.method.to_string(), req.url.clone());
        let (tx, finished, body) = super::send::pipe(BODY_BUFFER_CHUNKS, abi.notify.clone(), label);
        (Some(tx), finished, Some(body))
    } else {
        (None, Default::default(), None)
    };
    let (head_tx, head_rx) = oneshot::channel();
    // Boxed: the request future is large, and moving it into the task by value cost
    // more than the rest of the request path (callgrind: memcpy in tokio::spawn).
    let task = tokio::spawn(Box::pin(super::send::run(
        abi.client.clone(),
        req,
        body,
        head_tx,
        abi.notify.clone(),
    )));
    abi.handles.insert(
        h,
        Slot::Sent(Box::new(InFlight {
            body_tx,
            finished,
            streaming,
            head: HeadState::Waiting(head_rx),
            leftover: bytes::Bytes::new(),
            body_failed: None,
            eof: false,
            task,
        })),
    );
    Ok(0)
}

/// The request body pipe, or why it cannot be written.
fn writer(c: &mut Caller<'_, CoreState>, what: &str, h: i32) -> Result<mpsc::Sender<bytes::Bytes>> {
    let s = c.data_mut().abi.sent(what, h)?;
    s.refresh();
    if let HeadState::Failed(code, msg) = &s.head {
        return Err((*code, msg.clone()));
    }
    match (&s.body_tx, s.streaming) {
        (Some(tx), _) => Ok(tx.clone()),
        (None, false) => Err((
            ERR_WRONG_STATE,
            format!("{what}: request {h} was sent without SEND_BODY_STREAM"),
        )),
        (None, true) => Err((
            ERR_WRONG_STATE,
            format!("{what}: the body of request {h} is already finished"),
        )),
    }
}

pub(crate) async fn body_write(
    c: &mut Caller<'_, CoreState>,
    h: i32,
    ptr: i32,
    len: i32,
    timeout: i64,
) -> Result<i32> {
    let wait = Wait::from_ms("body_write", timeout)?;
    memory::check_buffer(c, "body_write", ptr, len)?;
    let len = len as u32 as usize;
    let mut accepted = 0usize;
    while accepted < len {
        let tx = writer(c, "body_write", h)?;
        match tx.try_reserve() {
            Ok(permit) => {
                let n = (len - accepted).min(BODY_CHUNK);
                let at = (ptr as u32 as usize + accepted) as u32 as i32;
                let chunk = memory::read(c, "body_write", at, n as i32)?;
                permit.send(chunk.into());
                accepted += n;
            }
            Err(mpsc::error::TrySendError::Full(())) => {
                if !wait_for_progress(c, wait).await {
                    break;
                }
            }
            Err(mpsc::error::TrySendError::Closed(())) => {
                // The request is over (failed or cancelled): report why, if known.
                let s = c.data_mut().abi.sent("body_write", h)?;
                s.refresh();
                if let HeadState::Failed(code, msg) = &s.head {
                    return Err((*code, msg.clone()));
                }
                return Err((
                    ERR_PROTOCOL,
                    "body_write: the connection no longer takes the body".into(),
                ));
            }
        }
    }
    Ok(accepted as i32)
}

/// Ends the body without waiting: the end is a flag, not a message that needs room in
/// the pipe, so a guest's green threads are never stalled here.
pub(crate) fn body_finish(c: &mut Caller<'_, CoreState>, h: i32) -> Result<i32> {
    writer(c, "body_finish", h)?;
    let s = c.data_mut().abi.sent("body_finish", h)?;
    s.finished.store(true, std::sync::atomic::Ordering::SeqCst);
    s.body_tx = None;
    Ok(0)
}
