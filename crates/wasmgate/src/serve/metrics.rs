//! Prometheus metrics (text format, `prometheus-client`) and the readiness probe, on
//! their own address so that they are never exposed where the handler is.

use super::Shared;
use super::access_log::AccessRecord;
use crate::events::{EventSink, RequestEvent};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;

/// The readiness path on the metrics address: 200 `ready` while the server accepts
/// requests, 503 `draining` once shutdown has begun (so a load balancer stops sending).
pub const READY_PATH: &str = "/healthz";

/// Latency buckets: 0.5 ms doubling to about 33 s (17 buckets). The low end resolves
/// a hello handler (sub-millisecond), the high end passes the default 30 s request
/// timeout.
const LATENCY_BUCKETS: (f64, f64, u16) = (0.0005, 2.0, 17);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboundLabel {
    decision: String,
    /// `ok`, or the error kind of the audit log (`denied`, `address-denied`, `limit`…).
    kind: String,
}

/// The server's metrics. Cheap to clone (shared counters).
#[derive(Clone)]
pub(crate) struct Metrics {
    registry: Arc<Registry>,
    requests: Family<StatusLabel, Counter>,
    latency: Histogram,
    in_flight: Gauge,
    traps: Counter,
    outbound: Family<OutboundLabel, Counter>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let requests = Family::<StatusLabel, Counter>::default();
        let (start, factor, n) = LATENCY_BUCKETS;
        let latency = Histogram::new(exponential_buckets(start, factor, n));
        let in_flight = Gauge::default();
        let traps = Counter::default();
        let outbound = Family::<OutboundLabel, Counter>::default();
        let mut registry = Registry::with_prefix("wasmgate_serve");
        registry.register(
            "requests",
            "Incoming requests answered, by status",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to the end of its response",
            latency.clone(),
        );
        registry.register(
            "in_flight_requests",
            "Incoming requests being handled now",
            in_flight.clone(),
        );
        registry.register(
            "handler_traps",
            "Handlers that trapped (including running out of memory)",
            traps.clone(),
        );
        registry.register(
            "outbound_requests",
            "Outbound requests of handlers, by decision and error kind (ok when none)",
            outbound.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            latency,
            in_flight,
            traps,
            outbound,
        }
    }

    pub(crate) fn started(&self) {
        self.in_flight.inc();
    }

    pub(crate) fn finished(&self, record: &AccessRecord) {
        self.in_flight.dec();
        self.requests
            .get_or_create(&StatusLabel {
                status: record.status,
            })
            .inc();
        self.latency.observe(record.duration.as_secs_f64());
    }

    pub(crate) fn trapped(&self) {
        self.traps.inc();
    }

    /// The subscriber that counts outbound decisions.
    pub(crate) fn outbound_sink(&self) -> OutboundCounter {
        OutboundCounter(self.outbound.clone())
    }

    /// The Prometheus text exposition of every metric.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Counts each outbound request by decision and error kind.
pub(crate) struct OutboundCounter(Family<OutboundLabel, Counter>);

impl EventSink for OutboundCounter {
    fn on_request(&self, e: &RequestEvent) {
        let kind = e
            .error
            .as_ref()
            .map_or("ok", |err| err.kind().as_str())
            .to_string();
        self.0
            .get_or_create(&OutboundLabel {
                decision: e.decision.to_string(),
                kind,
            })
            .inc();
    }
}

/// Serves `/metrics` and [`READY_PATH`] over HTTP/1.1 until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors and the like: pause rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(answer(&shared, req.uri().path())) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(shared: &Shared, path: &str) -> hyper::Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/metrics" => (
            200,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            shared.metrics.encode(),
        ),
        READY_PATH if shared.draining.load(Ordering::SeqCst) => {
            (503, "text/plain", "draining\n".to_string())
        }
        READY_PATH => (200, "text/plain", "ready\n".to_string()),
        _ => (
            404,
            "text/plain",
            format!("not found; try /metrics or {READY_PATH}\n"),
        ),
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}
