//! `wasmgate serve`: an HTTP server that runs one fresh guest instance per incoming
//! request, under the same egress policy, limits and events as `run`.
//!
//! ```text
//! listener (TCP, optional TLS) → hyper-util auto (HTTP/1.1 + HTTP/2) → request.rs
//!   → limits (body size, concurrency gate) → handler: component (wasi:http
//!   incoming-handler, pre-instantiated) | CGI core module → response body, tracked
//!   → access record (access sinks, metrics)
//! ```
//!
//! Every outbound request of a handler goes through an [`crate::OutboundClient`] of its
//! own (the run's limits apply per incoming request), whose events carry the incoming
//! request's label ([`crate::RequestEvent::incoming`]).

mod access_log;
mod body;
mod cgi;
// The pure CGI/1.1 protocol (meta-variables, response head); `cgi.rs` runs it.
pub(crate) mod cgi_protocol;
mod component;
mod limits;
mod listen;
mod metrics;
mod request;
mod tls;

pub use access_log::{AccessRecord, AccessSink, JsonlAccessLog};
pub use limits::{
    CONCURRENCY_WAIT, DEFAULT_MAX_CONCURRENT_HANDLERS, DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_INCOMING_BODY, DEFAULT_REQUEST_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT,
    HEADER_READ_TIMEOUT, RETRY_AFTER_SECS, ServeLimits, TLS_HANDSHAKE_TIMEOUT,
};
pub use metrics::READY_PATH;

use crate::events::EventHub;
use crate::kind::WasmKind;
use crate::run::{Runner, read_guest};
use crate::wasi::GuestConfig;
use crate::{Error, ErrorKind};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;
use tokio::net::TcpListener;

/// The default listening address: loopback only. Listening on every interface is
/// something a user asks for explicitly (`--addr 0.0.0.0:8080`).
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// Where the server's TLS certificate chain and private key are (PEM files).
#[derive(Debug, Clone)]
pub struct ServerTlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Everything about a server apart from the policy (which is the [`Runner`]'s).
#[derive(Clone)]
pub struct ServeConfig {
    /// Address to listen on (port 0: any free port, see [`Server::local_addr`]).
    pub addr: SocketAddr,
    /// Terminate TLS with this certificate and key; plain HTTP without.
    pub tls: Option<ServerTlsFiles>,
    /// Where to serve Prometheus metrics (`/metrics`) and readiness ([`READY_PATH`]).
    pub metrics_addr: Option<SocketAddr>,
    /// Limits per incoming request and for shutdown.
    pub limits: ServeLimits,
    /// What each handler instance sees: env, dirs, memory cap. `args` go to CGI
    /// handlers' argv; `timeout` is ignored (see [`ServeLimits::request_timeout`]).
    pub guest: GuestConfig,
    /// Subscribers to one [`AccessRecord`] per incoming request.
    pub access_sinks: Vec<Arc<dyn AccessSink>>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR.parse().expect("valid default address"),
            tls: None,
            metrics_addr: None,
            limits: ServeLimits::default(),
            guest: GuestConfig::default(),
            access_sinks: Vec::new(),
        }
    }
}

/// How a server's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeSummary {
    /// Incoming requests answered (any status).
    pub requests: u64,
    /// Connections still open when `--shutdown-timeout` ran out (they were closed).
    pub abandoned_connections: usize,
}

/// What serves each request.
pub(crate) enum Handler {
    /// A component exporting `wasi:http/incoming-handler@0.2.x`.
    Component(component::ComponentHandler),
    /// A wasip1 core module run as a CGI script.
    Cgi(cgi::CgiHandler),
}

/// State shared by every connection and request of one server.
pub(crate) struct Shared {
    pub(crate) runner: Runner,
    pub(crate) handler: Handler,
    pub(crate) guest: GuestConfig,
    pub(crate) limits: ServeLimits,
    pub(crate) gate: Arc<tokio::sync::Semaphore>,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) access: Vec<Arc<dyn AccessSink>>,
    /// The runner's subscribers plus the metrics' outbound counter.
    pub(crate) hub: EventHub,
    /// The server's outbound client: each incoming request gets one of its own through
    /// [`crate::OutboundClient::for_request`], sharing this one's connection pool.
    pub(crate) outbound: crate::OutboundClient,
    pub(crate) next_id: AtomicU64,
    pub(crate) draining: AtomicBool,
    pub(crate) https: bool,
}

/// A bound server: listening, not yet serving. Build with [`Server::bind`], then
/// [`Server::run`] until a shutdown signal.
pub struct Server {
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    metrics_listener: Option<TcpListener>,
}

impl Server {
    /// Loads, compiles and pre-instantiates the guest at `path`, checks that it can
    /// serve (a component exporting `wasi:http/incoming-handler`, or a core module with
    /// `_start` for CGI), reads the TLS files and binds the listeners. Every problem is
    /// reported here, before a single request is accepted.
    pub async fn bind(runner: Runner, path: &Path, config: ServeConfig) -> Result<Self, Error> {
        let (bytes, name) = read_guest(path)?;
        let kind = crate::kind::detect(&bytes, &name)?;
        let (compiled, _) = runner.compile(kind, &bytes, &name)?;
        // Fail early on a --dir that is not a directory, as `run` does.
        crate::wasi::builder(&config.guest)?;
        let handler = match (kind, compiled) {
            (WasmKind::Component, crate::cache::Compiled::Component(c)) => Handler::Component(
                component::ComponentHandler::new(runner.engine(), &c, &name)?,
            ),
            (WasmKind::CoreModule, crate::cache::Compiled::Module(m)) => {
                Handler::Cgi(cgi::CgiHandler::new(runner.engine(), m, &name)?)
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!("{name}: compiled code of the wrong kind"),
                ));
            }
        };
        let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let listener = bind(config.addr, "--addr").await?;
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(bind(addr, "--metrics-addr").await?),
            None => None,
        };
        let metrics = metrics::Metrics::new();
        let mut hub = runner.events().clone();
        hub.subscribe(Arc::new(metrics.outbound_sink()));
        // Reports nothing itself: only the per-request clients made from it send.
        let outbound = runner.client(hub.for_run());
        let shared = Arc::new(Shared {
            outbound,
            handler,
            guest: config.guest,
            gate: Arc::new(tokio::sync::Semaphore::new(
                config.limits.max_concurrent_handlers,
            )),
            limits: config.limits,
            metrics,
            access: config.access_sinks,
            hub,
            next_id: AtomicU64::new(0),
            draining: AtomicBool::new(false),
            https: tls.is_some(),
            runner,
        });
        Ok(Self {
            shared,
            listener,
            tls,
            metrics_listener,
        })
    }

    /// The address the server listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The metrics address, if metrics were asked for.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Whether the guest is a CGI core module (else a `wasi:http` component).
    pub fn is_cgi(&self) -> bool {
        matches!(self.shared.handler, Handler::Cgi(_))
    }

    /// Serves until `shutdown` completes; then stops accepting (new connections are
    /// refused, readiness turns 503), lets in-flight requests finish for up to
    /// [`ServeLimits::shutdown_timeout`] and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<ServeSummary, Error> {
        let metrics_task = self
            .metrics_listener
            .map(|l| tokio::spawn(metrics::serve(l, self.shared.clone())));
        let summary = listen::serve(self.listener, self.tls, self.shared.clone(), shutdown).await;
        if let Some(t) = metrics_task {
            t.abort();
        }
        Ok(summary)
    }
}

async fn bind(addr: SocketAddr, flag: &str) -> Result<TcpListener, Error> {
    TcpListener::bind(addr).await.map_err(|e| {
        Error::new(
            ErrorKind::Listen,
            format!("cannot listen on {addr} ({flag}): {e}"),
        )
    })
}

/// Why the outbound requests a handler left open were cancelled: its request timeout
/// (the 504 fault), or else its end (returned, exited or trapped).
pub(crate) fn open_cause(fault: Option<&request::Fault>) -> crate::events::Cancellation {
    match fault {
        Some(f) if f.status == http::StatusCode::GATEWAY_TIMEOUT => {
            crate::events::Cancellation::TimedOut
        }
        _ => crate::events::Cancellation::GuestExited,
    }
}

/// Formats a duration for messages (`30s`, `250ms`).
pub(crate) fn fmt_duration(d: Duration) -> String {
    wasmgate_policy::format_duration(d)
}
