//! A `Server` on 127.0.0.1:0 in a runtime of its own, a plain hyper client, and the
//! `serve-probe` guest built from source.
#![allow(dead_code)] // each test uses its own subset

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasmgate::serve::{AccessRecord, AccessSink};
use wasmgate::{EventSink, RequestEvent, RunEnd, Runner, ServeConfig, Server};
use wasmgate_policy::{AllowRule, Limits, Policy, parse_cidr};

/// Every wait in these tests is bounded by this.
pub const BOUND: Duration = Duration::from_secs(60);

/// `test-programs/src/bin/serve-probe.rs`, built once per test process.
pub fn probe() -> PathBuf {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let target_dir = root.join("target/guests");
            let out = std::process::Command::new(
                std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
            )
            .current_dir(root.join("test-programs"))
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--bin",
                "serve-probe",
            ])
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("run cargo to build serve-probe");
            assert!(
                out.status.success(),
                "building serve-probe failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            target_dir.join("wasm32-wasip2/release/serve-probe.wasm")
        })
        .clone()
}

/// Outbound events, and the run ends (requests a handler left open) in the second field.
#[derive(Default)]
pub struct Events(pub Mutex<Vec<RequestEvent>>, pub Mutex<Vec<RunEnd>>);

impl EventSink for Events {
    fn on_request(&self, event: &RequestEvent) {
        self.0.lock().unwrap().push(event.clone());
    }

    fn on_run_end(&self, end: &RunEnd) {
        self.1.lock().unwrap().push(end.clone());
    }
}

#[derive(Default)]
pub struct Access(pub Mutex<Vec<AccessRecord>>);

impl AccessSink for Access {
    fn on_access(&self, record: &AccessRecord) {
        self.0.lock().unwrap().push(record.clone());
    }
}

impl Access {
    /// The record of request `id`, waiting (bounded) for it: a record is written when
    /// the response is over, which may be just after the client has read it.
    pub fn wait_for(&self, id: u64) -> AccessRecord {
        wait_until("the access record", || {
            self.0.lock().unwrap().iter().find(|r| r.id == id).cloned()
        })
    }
}

/// Polls `f` every 10 ms until it gives a value; panics naming `what` after [`BOUND`].
pub fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + BOUND;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A policy allowing `rules`, with loopback permitted (the test servers are there).
pub fn policy(rules: &[&str]) -> Policy {
    Policy::new(
        rules.iter().map(|r| AllowRule::parse(r).unwrap()).collect(),
        vec![parse_cidr("127.0.0.1/32").unwrap()],
        Limits::default(),
    )
}

/// A running server; dropped = shut down (and joined).
pub struct Running {
    pub addr: SocketAddr,
    pub metrics: Option<SocketAddr>,
    pub events: Arc<Events>,
    pub access: Arc<Access>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<wasmgate::ServeSummary>>,
}

impl Running {
    /// Serves `guest` under `policy` with `config` (its address is replaced by
    /// 127.0.0.1:0; access records are collected).
    pub fn start(guest: PathBuf, policy: Policy, config: ServeConfig) -> Self {
        Self::start_with(guest, policy, config, |b| b)
    }

    /// As [`Running::start`], with more configuration of the runner (recording, replay).
    pub fn start_with(
        guest: PathBuf,
        policy: Policy,
        mut config: ServeConfig,
        configure: impl FnOnce(wasmgate::RunnerBuilder) -> wasmgate::RunnerBuilder,
    ) -> Self {
        let events = Arc::new(Events::default());
        let access = Arc::new(Access::default());
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.access_sinks.push(access.clone());
        let runner = configure(
            Runner::builder()
                .policy(policy)
                .event_sink(events.clone())
                .cache_dir(wasmgate_test_support::test_cache_dir()),
        )
        .build()
        .unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let server = match Server::bind(runner, &guest, config).await {
                    Ok(s) => s,
                    Err(e) => {
                        ready_tx.send(Err(e)).unwrap();
                        return wasmgate::ServeSummary {
                            requests: 0,
                            abandoned_connections: 0,
                        };
                    }
                };
                ready_tx
                    .send(Ok((server.local_addr(), server.metrics_addr())))
                    .unwrap();
                server
                    .run(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap()
            })
        });
        let (addr, metrics) = ready_rx
            .recv_timeout(BOUND)
            .expect("server started")
            .expect("server bound");
        Self {
            addr,
            metrics,
            events,
            access,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Starts the drain and waits (bounded by the shutdown timeout) for the server to end.
    pub fn shutdown(mut self) -> wasmgate::ServeSummary {
        self.stop.take().map(|s| s.send(()));
        self.thread.take().unwrap().join().unwrap()
    }

    /// Outbound events so far.
    pub fn events(&self) -> Vec<RequestEvent> {
        self.events.0.lock().unwrap().clone()
    }

    /// Run ends so far: one per handler that left outbound requests open.
    pub fn run_ends(&self) -> Vec<RunEnd> {
        self.events.1.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A response as the client saw it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

/// One HTTP/1.1 request on a new connection (the client's own runtime).
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Answer {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::time::timeout(BOUND, send(addr, method, path, Bytes::from(body.to_vec())))
            .await
            .expect("answered in time")
    })
}

pub fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, b"")
}

pub async fn send(addr: SocketAddr, method: &str, path: &str, body: Bytes) -> Answer {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .body(Full::new(body))
        .unwrap();
    let resp = sender.send_request(req).await.expect("response head");
    let (parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
