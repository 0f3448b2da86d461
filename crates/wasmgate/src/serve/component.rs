//! Components exporting `wasi:http/incoming-handler@0.2.x`: one fresh instance per
//! request from a pre-instantiated component, run in a task of its own that holds the
//! request's handler slot, bounded by the request timeout (the engine's one epoch
//! ticker for guests running wasm, a tokio timeout for guests waiting on the host).

use super::Shared;
use super::body::Exchange;
use super::limits::OPEN_OUTBOUND_REPORT_MAX;
use super::request::{Fault, HandlerResponse};
use crate::component::ComponentState;
use crate::engine::deadline_ticks;
use crate::run::{component_linker, component_store, link_error, store_limits};
use crate::{Error, ErrorKind};
use http::StatusCode;
use http_body_util::BodyExt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedSemaphorePermit;
use wasmgate_policy::format_size;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

/// A component ready to serve: linked and pre-instantiated once.
pub(crate) struct ComponentHandler {
    pre: ProxyPre<ComponentState>,
}

impl ComponentHandler {
    pub(crate) fn new(engine: &Engine, component: &Component, name: &str) -> Result<Self, Error> {
        let linker = component_linker(engine)?;
        let pre = linker
            .instantiate_pre(component)
            .map_err(|e| link_error(name, e))?;
        let pre = ProxyPre::new(pre).map_err(|e| {
            Error::new(
                ErrorKind::Link,
                format!(
                    "{name} does not export wasi:http/incoming-handler@0.2.x, so it cannot serve requests (a component for `wasmgate run` exports wasi:cli/run instead)"
                ),
            )
            .with_source(crate::error::wasmtime_cause(e))
        })?;
        Ok(Self { pre })
    }

    /// Runs one instance for `req`; returns once the response head is there (the body
    /// streams on from the instance's task) or the handler failed without one.
    pub(crate) async fn serve(
        &self,
        shared: &Arc<Shared>,
        req: hyper::Request<super::body::LimitedIncoming>,
        permit: OwnedSemaphorePermit,
        x: &mut Exchange,
    ) -> Result<HandlerResponse, Fault> {
        let hub = shared
            .hub
            .for_incoming(x.record.label(), x.outbound.clone());
        // Kept to report the outbound requests the handler leaves open (see the task).
        let events = hub.clone();
        let client = shared.outbound.for_request(hub);
        let reporter = client.clone();
        let reported = x.outbound.clone();
        let (builder, _) = crate::wasi::builder(&shared.guest)
            .map_err(|e| Fault::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let timeout = shared.limits.request_timeout;
        let max_memory = shared.guest.max_memory;
        let mut store = component_store(
            shared.runner.engine(),
            builder,
            client,
            store_limits(max_memory),
            deadline_ticks(Some(timeout)),
        );
        let scheme = if shared.https {
            Scheme::Https
        } else {
            Scheme::Http
        };
        let request = store
            .data_mut()
            .http()
            .new_incoming_request(scheme, req)
            .map_err(|e| Fault::new(StatusCode::BAD_REQUEST, format!("{e}")))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(tx)
            .map_err(|e| Fault::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}")))?;
        let pre = self.pre.clone();
        let early: Arc<Mutex<Option<Fault>>> = Arc::default();
        let (early_cell, late_cell) = (early.clone(), x.late_fault.clone());
        let metrics = shared.metrics.clone();
        let task = tokio::spawn(async move {
            let _slot = permit;
            let ran = tokio::time::timeout(timeout, async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, request, out)
                    .await
            })
            .await;
            let fault = match ran {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(classify(&e, timeout, max_memory)),
                Err(_) => Some(timed_out(timeout)),
            };
            if let Some(f) = &fault {
                if f.status == StatusCode::INTERNAL_SERVER_ERROR {
                    metrics.trapped();
                }
                *late_cell.lock().unwrap_or_else(|p| p.into_inner()) = Some(f.cause.clone());
            }
            // Outbound requests still open go with the store: in flight, the handler's
            // end cancelled them; with an unread body, it closed them. Those reported
            // from here on were open, and one line (`RunEnd`) says how many.
            events.end_run(super::open_cause(fault.as_ref()));
            let before = reported.load(Ordering::SeqCst);
            *early_cell.lock().unwrap_or_else(|p| p.into_inner()) = fault;
            // Only now does the store go, and with it the response sender: whoever
            // waits on it finds the fault already recorded.
            drop(store);
            reporter.wait_reported(OPEN_OUTBOUND_REPORT_MAX).await;
            events.report_left_open(reported.load(Ordering::SeqCst) - before);
        });
        // If the client goes away before the head (this future is dropped), the
        // instance goes with it.
        let task = AbortOnDrop(Some(task));
        match rx.await {
            Ok(Ok(response)) => {
                x.task = task.detach();
                Ok(response.map(|b| b.map_err(|e| Box::new(e) as _).boxed_unsync()))
            }
            Ok(Err(code)) => Err(Fault::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the handler answered with the error code {code:?} instead of a response"),
            )),
            // The store is gone, so the task is only reporting what the handler left
            // open: let it finish.
            Err(_) => Err({
                let _ = task.detach();
                early
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or_else(|| {
                    Fault::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "the handler returned without sending a response (it never called response-outparam.set)",
                    )
                })
            }),
        }
    }
}

/// Aborts the task when dropped, unless detached.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl AbortOnDrop {
    fn detach(mut self) -> Option<tokio::task::AbortHandle> {
        self.0.take().map(|t| t.abort_handle())
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.abort();
        }
    }
}

pub(crate) fn timed_out(timeout: std::time::Duration) -> Fault {
    Fault::new(
        StatusCode::GATEWAY_TIMEOUT,
        format!(
            "the handler did not finish within the --request-timeout of {}; raise --request-timeout",
            super::fmt_duration(timeout)
        ),
    )
}

/// The status and log line for a handler that failed: the epoch deadline is a timeout
/// (504), the memory cap and every other trap are the handler's failure (500).
pub(crate) fn classify(
    e: &wasmtime::Error,
    timeout: std::time::Duration,
    max_memory: u64,
) -> Fault {
    let chain = format!("{e:#}");
    if chain.contains("forcing trap when growing memory") {
        return Fault::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "the handler tried to use more memory than the --max-memory of {}; raise --max-memory",
                format_size(max_memory)
            ),
        );
    }
    if chain.contains("epoch deadline") || chain.contains("wasm trap: interrupt") {
        return timed_out(timeout);
    }
    let root = e.root_cause().to_string();
    let root = root.lines().next().unwrap_or("").trim();
    Fault::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the handler trapped: {root}"),
    )
}
