//! wasip1 core modules as CGI/1.1 programs (RFC 3875): one instance per request, the
//! request as meta-variables (its environment), the body on stdin, the response head
//! and body read from stdout. Both pipes are bounded, so a slow client slows the
//! program's writes and a program that reads slowly slows the upload (backpressure),
//! and nothing is buffered whole, except a request body without `Content-Length`
//! (see [`serve`](CgiHandler::serve)).

use super::Shared;
use super::body::{BoxError, Exchange, LimitedIncoming};
use super::cgi_protocol::{ResponseHead, decode_path, meta_variables};
use super::component::{classify, timed_out};
use super::limits::OPEN_OUTBOUND_REPORT_MAX;
use super::listen::Peer;
use super::request::{Fault, HandlerResponse};
use crate::abi::CoreState;
use crate::engine::deadline_ticks;
use crate::run::{link_error, store_limits};
use crate::{Error, ErrorKind};
use bytes::{Bytes, BytesMut};
use http::StatusCode;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::{Engine, InstancePre, Linker, Module, Store};
use wasmtime_wasi::cli::{AsyncStdinStream, AsyncStdoutStream};

/// Bytes of request body in flight between the client and the program's stdin. 64 KiB:
/// the usual socket buffer size; enough to keep a reading program busy, small enough
/// that a program that never reads holds little.
const STDIN_PIPE_BYTES: usize = 64 * 1024;

/// Bytes of output in flight between the program's stdout and the client, and the most
/// one write may hand over at once. 64 KiB, for the same reasons as [`STDIN_PIPE_BYTES`].
const STDOUT_PIPE_BYTES: usize = 64 * 1024;

/// Largest read from stdout into one body frame. 16 KiB: HTTP/2's default maximum frame
/// size, so one read fills at most one DATA frame, and a TLS record's worth.
const STDOUT_READ_CHUNK: usize = 16 * 1024;

/// A core module ready to serve as a CGI program: linked once.
pub(crate) struct CgiHandler {
    pre: InstancePre<CoreState>,
}

impl CgiHandler {
    pub(crate) fn new(engine: &Engine, module: Module, name: &str) -> Result<Self, Error> {
        if module.get_export("_start").is_none() {
            return Err(Error::new(
                ErrorKind::Link,
                format!(
                    "{name} has no `_start` export: a core module is served as a CGI program, which must be a WASI command"
                ),
            ));
        }
        let mut linker = Linker::<CoreState>::new(engine);
        let internal = |e: wasmtime::Error| {
            Error::new(ErrorKind::Internal, "cannot link WASI into the guest")
                .with_source(crate::error::wasmtime_cause(e))
        };
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s| &mut s.wasi).map_err(internal)?;
        crate::abi::add_to_linker(&mut linker).map_err(internal)?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| link_error(name, e))?;
        Ok(Self { pre })
    }

    /// Runs one instance for `req`; returns once the program's response head is read
    /// (the body streams on from its stdout) or the program failed before one.
    ///
    /// A body without `Content-Length` (chunked, or HTTP/2 without the header) is read
    /// whole first, under `--max-incoming-body`, and given one: Go's `net/http/cgi`
    /// reads stdin only up to `CONTENT_LENGTH`, so it would otherwise see no body.
    pub(crate) async fn serve(
        &self,
        shared: &Arc<Shared>,
        peer: Peer,
        req: hyper::Request<LimitedIncoming>,
        permit: OwnedSemaphorePermit,
        x: &mut Exchange,
    ) -> Result<HandlerResponse, Fault> {
        let (mut parts, body) = req.into_parts();
        // PATH_INFO is the decoded path: one that does not decode cleanly (encoded
        // `/`, NUL, invalid UTF-8) would reach the program as something else.
        decode_path(parts.uri.path())
            .map_err(|e| Fault::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let body = if parts.headers.contains_key(http::header::CONTENT_LENGTH) {
            StdinSource::Stream(body)
        } else if body.is_end_stream() {
            StdinSource::Bytes(Bytes::new())
        } else {
            let whole = body.collect().await.map_err(|e| {
                Fault::new(
                    StatusCode::BAD_REQUEST,
                    format!("the request body could not be read: {e}"),
                )
            })?;
            let whole = whole.to_bytes();
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, whole.len().into());
            StdinSource::Bytes(whole)
        };
        let server_name = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .map(|h| match h.rsplit_once(':') {
                Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name.to_string(),
                _ => h,
            })
            .unwrap_or_else(|| peer.local.ip().to_string());
        let vars = meta_variables(
            &parts,
            peer.remote,
            peer.local,
            &server_name,
            shared.https,
            "",
        );

        // The operator's --env, except names CGI sets: a program must see the request's.
        let mut guest = shared.guest.clone();
        guest.env.retain(|(k, _)| !vars.iter().any(|(v, _)| v == k));
        let (mut builder, _) = crate::wasi::builder(&guest)
            .map_err(|e| Fault::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        builder.envs(&vars);
        let (stdin_host, stdin_guest) = tokio::io::duplex(STDIN_PIPE_BYTES);
        let (stdout_guest, mut stdout_host) = tokio::io::duplex(STDOUT_PIPE_BYTES);
        builder.stdin(AsyncStdinStream::new(stdin_guest));
        builder.stdout(AsyncStdoutStream::new(STDOUT_PIPE_BYTES, stdout_guest));

        let hub = shared
            .hub
            .for_incoming(x.record.label(), x.outbound.clone());
        // Kept to report the outbound requests the program leaves open (see the task).
        let events = hub.clone();
        let client = shared.outbound.for_request(hub);
        let reporter = client.clone();
        let reported = x.outbound.clone();
        let timeout = shared.limits.request_timeout;
        let max_memory = shared.guest.max_memory;
        let mut store = Store::new(
            shared.runner.engine(),
            CoreState::new(builder.build_p1(), store_limits(max_memory), client),
        );
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(Some(timeout)));

        let pre = self.pre.clone();
        let fault: Arc<Mutex<Option<Fault>>> = Arc::default();
        let (fault_cell, late_cell) = (fault.clone(), x.late_fault.clone());
        let metrics = shared.metrics.clone();
        let task = tokio::spawn(async move {
            let _slot = permit;
            let feeder = tokio::spawn(feed_stdin(body, stdin_host));
            let ran = tokio::time::timeout(timeout, async {
                let instance = pre.instantiate_async(&mut store).await?;
                let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
                start.call_async(&mut store, ()).await
            })
            .await;
            feeder.abort();
            let failed = match ran {
                Ok(Ok(())) => None,
                Ok(Err(e)) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    Some(exit) if exit.0 == 0 => None,
                    Some(exit) => Some(Fault::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("the CGI program exited with status {}", exit.0),
                    )),
                    None => {
                        let f = classify(&e, timeout, max_memory);
                        if f.status == StatusCode::INTERNAL_SERVER_ERROR {
                            metrics.trapped();
                        }
                        *late_cell.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(f.cause.clone());
                        Some(f)
                    }
                },
                Err(_) => {
                    let f = timed_out(timeout);
                    *late_cell.lock().unwrap_or_else(|p| p.into_inner()) = Some(f.cause.clone());
                    Some(f)
                }
            };
            // Outbound requests the program closed are reported as its own; those still
            // open are cancelled by its end, reported before it goes, and counted in
            // one line (`RunEnd`).
            store.data_mut().abi.settle_closed().await;
            events.end_run(super::open_cause(failed.as_ref()));
            let before = reported.load(Ordering::SeqCst);
            *fault_cell.lock().unwrap_or_else(|p| p.into_inner()) = failed;
            store.data_mut().abi.shutdown().await;
            // Only now does stdout close: the reader finds the fault recorded.
            drop(store);
            reporter.wait_reported(OPEN_OUTBOUND_REPORT_MAX).await;
            events.report_left_open(reported.load(Ordering::SeqCst) - before);
        });
        let mut task = AbortOnDrop(Some(task));

        // Read the head: every byte up to the blank line (at most MAX_HEAD_BYTES).
        let mut buf = BytesMut::with_capacity(STDOUT_READ_CHUNK);
        let (head, used) = loop {
            match ResponseHead::parse(&buf) {
                Ok(Some(done)) => break done,
                Ok(None) => {}
                Err(e) => return Err(bad_head(&e.to_string())),
            }
            let n = stdout_host.read_buf(&mut buf).await.unwrap_or(0);
            if n == 0 {
                if let Some(f) = fault.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    return Err(f);
                }
                return Err(match ResponseHead::parse_final(&buf) {
                    Ok(done) => break done,
                    Err(_) if buf.is_empty() => Fault::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "the CGI program ended without writing a response to stdout",
                    ),
                    Err(e) => bad_head(&e.to_string()),
                });
            }
        };
        let rest = buf.split_off(used).freeze();
        let mut response = http::Response::new(
            PipeBody {
                first: (!rest.is_empty()).then_some(rest),
                reader: Some(stdout_host),
                late: x.late_fault.clone(),
            }
            .boxed_unsync(),
        );
        *response.status_mut() = head.status;
        *response.headers_mut() = head.headers;
        x.task = task.0.take().map(|t| t.abort_handle());
        Ok(response)
    }
}

fn bad_head(e: &str) -> Fault {
    Fault::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the CGI program's response head is invalid: {e}"),
    )
}

/// Where stdin's bytes come from.
enum StdinSource {
    Stream(LimitedIncoming),
    Bytes(Bytes),
}

/// Copies the request body into the program's stdin, then closes it.
async fn feed_stdin(source: StdinSource, mut pipe: DuplexStream) {
    match source {
        StdinSource::Bytes(b) => {
            let _ = pipe.write_all(&b).await;
        }
        StdinSource::Stream(mut body) => {
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data()
                    && pipe.write_all(&data).await.is_err()
                {
                    break;
                }
            }
        }
    }
    let _ = pipe.shutdown().await;
}

/// The program's stdout after the head, as a response body. Its end is the program's
/// end; if the program trapped or timed out, the body fails instead of ending, so the
/// client does not take a cut-off response for a whole one.
struct PipeBody {
    first: Option<Bytes>,
    reader: Option<DuplexStream>,
    late: Arc<Mutex<Option<String>>>,
}

impl Body for PipeBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        let Some(reader) = self.reader.as_mut() else {
            return Poll::Ready(None);
        };
        let mut chunk = vec![0u8; STDOUT_READ_CHUNK];
        let mut read = ReadBuf::new(&mut chunk);
        match Pin::new(reader).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                self.reader = None;
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(Ok(())) if read.filled().is_empty() => {
                self.reader = None;
                match self.late.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                    Some(cause) => Poll::Ready(Some(Err(cause.into()))),
                    None => Poll::Ready(None),
                }
            }
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                chunk.truncate(n);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.reader.is_none()
    }
}

/// Aborts the task when dropped (the client went away before the head).
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.abort();
        }
    }
}
