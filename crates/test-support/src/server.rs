//! A real HTTP/1.1 + HTTP/2 server on `127.0.0.1:0`, on its own thread and runtime, shut
//! down and joined on drop. Routes (all GET unless noted):
//!
//! - `/hello` → 200 `hello from the test server`
//! - `/json` → 200 [`JSON_DOCUMENT`] with `content-type: application/json`
//! - `/echo` (any method) → the request body streamed back; `x-test-method`, `x-test-uri`
//!   and `x-test-version` headers describe the request
//! - `/headers` → the request headers as `name: value` lines (sorted); reply header
//!   `x-test-reply: yes`
//! - `/status/N` → status N with body `status N body`
//! - `/bytes/N` → N bytes streamed in 64 KiB chunks, with `content-length`
//! - `/chunked/N` → N bytes streamed without `content-length`
//! - `/slow/MS` → waits MS milliseconds, then 200 `slow`
//! - `/stall/MS` → sends the head and 5 bytes, waits MS, then 5 more bytes
//! - `/sink` (any method) → consumes the body, answers `received N`
//! - `/redirect/CODE?to=LOCATION` (any method) → status CODE with `location: LOCATION`

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

type Body = BoxBody<Bytes, Infallible>;

/// Counters a test can assert on.
#[derive(Default, Debug)]
pub struct ServerStats {
    /// TCP connections accepted.
    pub connections: AtomicUsize,
    /// Requests received.
    pub requests: AtomicUsize,
    /// Requests in progress right now.
    pub in_flight: AtomicUsize,
    /// Highest `in_flight` seen.
    pub max_in_flight: AtomicUsize,
    /// Request body bytes received by `/sink` and `/echo`.
    pub body_bytes: AtomicU64,
    /// TLS handshakes completed.
    pub tls_handshakes: AtomicUsize,
    /// TLS handshakes in which the client presented a certificate.
    pub client_certs: AtomicUsize,
}

/// A running server; dropped = stopped.
pub struct TestServer {
    addr: SocketAddr,
    tls: bool,
    stats: Arc<ServerStats>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Plain HTTP/1.1 server.
    pub fn http() -> Self {
        Self::start(None)
    }

    /// HTTPS (HTTP/1.1 and HTTP/2 by ALPN) with the given rustls config.
    pub fn https(config: Arc<rustls::ServerConfig>) -> Self {
        Self::start(Some(config))
    }

    fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let stats = Arc::new(ServerStats::default());
        let (stop_tx, stop_rx) = oneshot::channel();
        let is_tls = tls.is_some();
        let thread_stats = stats.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(serve(std_listener, tls, thread_stats, stop_rx));
        });
        Self {
            addr,
            tls: is_tls,
            stats,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (or `https://…`).
    pub fn base(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// `base()` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// The counters.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    stats: Arc<ServerStats>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut stop => return,
            r = listener.accept() => match r { Ok(s) => s, Err(_) => continue },
        };
        stats.connections.fetch_add(1, Ordering::SeqCst);
        // Like a production server: a streamed body is written after the head, and with
        // Nagle's algorithm that second small write waits for the client's delayed ACK
        // (~40 ms per request on Linux).
        let _ = stream.set_nodelay(true);
        let stats = stats.clone();
        let conn_stats = stats.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let stats = stats.clone();
                async move { Ok::<_, Infallible>(route(req, stats).await) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            match acceptor {
                Some(acceptor) => {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        conn_stats.tls_handshakes.fetch_add(1, Ordering::SeqCst);
                        if tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .is_some_and(|c| !c.is_empty())
                        {
                            conn_stats.client_certs.fetch_add(1, Ordering::SeqCst);
                        }
                        let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Full::new(body.into()).boxed())
        .expect("response")
}

struct InFlight(Arc<ServerStats>);
impl InFlight {
    fn new(stats: Arc<ServerStats>) -> Self {
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(stats)
    }
}
impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The body of `/json`: a small document with a nested object and an array, for guests
/// that decode JSON.
pub const JSON_DOCUMENT: &str =
    r#"{"name":"wasmgate","version":1,"tags":["wasm","http","go"],"extra":{"ignored":true}}"#;

async fn route(req: Request<Incoming>, stats: Arc<ServerStats>) -> Response<Body> {
    stats.requests.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight::new(stats.clone());
    let path = req.uri().path().to_string();
    let arg = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|n| n.parse::<u64>().ok())
    };
    if path == "/hello" {
        return full(StatusCode::OK, "hello from the test server");
    }
    if path == "/json" {
        let mut r = full(StatusCode::OK, JSON_DOCUMENT);
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        return r;
    }
    if path == "/echo" {
        let method = req.method().to_string();
        let uri = req.uri().to_string();
        let version = format!("{:?}", req.version());
        let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
        let mut body = req.into_body();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    stats
                        .body_bytes
                        .fetch_add(data.len() as u64, Ordering::SeqCst);
                    if tx.send(Ok(Frame::data(data))).await.is_err() {
                        return;
                    }
                }
            }
        });
        return Response::builder()
            .header("x-test-method", method)
            .header("x-test-uri", uri)
            .header("x-test-version", version)
            .body(BodyExt::boxed(ChannelBody(rx)))
            .expect("response");
    }
    if path == "/headers" {
        let mut lines: Vec<String> = req
            .headers()
            .iter()
            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        lines.sort();
        let mut r = full(StatusCode::OK, lines.join("\n"));
        r.headers_mut()
            .insert("x-test-reply", http::HeaderValue::from_static("yes"));
        return r;
    }
    if path == "/sink" {
        let mut body = req.into_body();
        let mut n = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(d) = frame.into_data() {
                n += d.len() as u64;
            }
        }
        stats.body_bytes.fetch_add(n, Ordering::SeqCst);
        return full(StatusCode::OK, format!("received {n}"));
    }
    if let Some(code) = arg("/redirect/") {
        let to = req
            .uri()
            .query()
            .and_then(|q| q.strip_prefix("to="))
            .unwrap_or("/hello")
            .to_string();
        let status = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::FOUND);
        let mut r = full(status, format!("redirecting to {to}"));
        if let Ok(v) = http::HeaderValue::from_str(&to) {
            r.headers_mut().insert(http::header::LOCATION, v);
        }
        return r;
    }
    if let Some(code) = arg("/status/") {
        let status = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::BAD_REQUEST);
        return full(status, format!("status {code} body"));
    }
    if let Some(n) = arg("/bytes/") {
        return stream_bytes(n, true);
    }
    if let Some(n) = arg("/chunked/") {
        return stream_bytes(n, false);
    }
    if let Some(ms) = arg("/slow/") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        return full(StatusCode::OK, "slow");
    }
    if let Some(ms) = arg("/stall/") {
        let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(2);
        tokio::spawn(async move {
            let _ = tx.send(Ok(Frame::data(Bytes::from_static(b"first")))).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            let _ = tx.send(Ok(Frame::data(Bytes::from_static(b"later")))).await;
        });
        return Response::builder()
            .header("content-length", "10")
            .body(BodyExt::boxed(ChannelBody(rx)))
            .expect("response");
    }
    full(StatusCode::NOT_FOUND, format!("no route for {path}"))
}

/// Streams `n` bytes of a repeating pattern without holding them in memory.
fn stream_bytes(n: u64, with_length: bool) -> Response<Body> {
    const CHUNK: u64 = 64 * 1024;
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
    tokio::spawn(async move {
        let chunk = Bytes::from(vec![b'x'; CHUNK as usize]);
        let mut left = n;
        while left > 0 {
            let take = left.min(CHUNK);
            if tx
                .send(Ok(Frame::data(chunk.slice(..take as usize))))
                .await
                .is_err()
            {
                return;
            }
            left -= take;
        }
    });
    let mut b = Response::builder();
    if with_length {
        b = b.header("content-length", n.to_string());
    }
    b.body(BodyExt::boxed(ChannelBody(rx))).expect("response")
}

/// A body fed by a channel, so routes can stream without buffering.
struct ChannelBody(mpsc::Receiver<Result<Frame<Bytes>, Infallible>>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx)
    }
}
