//! The floor: hyper-util's plain pooled client (`client::legacy::Client` over an
//! `HttpConnector`, default settings, keep-alive) with no policy in front of it, on a
//! current-thread runtime — the fastest a Rust client on this stack (Tokio + hyper) gets.
//! Every other subject's P1/P2 figure is divided by this one.
//!
//! For P1 and P2 the floor runs in a process of its own (this binary re-executed with
//! [`AS_FLOOR_ENV`]), as every guest does under `wasmgate run`: switching between the
//! client's and the server's process costs more than switching threads of one process,
//! and pinned to one CPU that difference is a fair share of a loopback request. The
//! in-process floor is reported beside it (`floor in-process`).

use crate::inproc::{Get, InProcess, drain};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The floor client with its runtime.
pub type Floor = InProcess<FloorClient>;

/// A plain hyper-util client; cloning shares its connection pool.
#[derive(Clone)]
pub struct FloorClient(Client<HttpConnector, Empty<Bytes>>);

impl Default for FloorClient {
    fn default() -> Self {
        Self::new()
    }
}

impl FloorClient {
    /// A client with hyper-util's defaults (pooling and keep-alive on, no TCP_NODELAY
    /// change: the server side sets it, and a GET is one write).
    pub fn new() -> FloorClient {
        FloorClient(Client::builder(TokioExecutor::new()).build(HttpConnector::new()))
    }
}

/// A floor client on a fresh current-thread runtime.
pub fn floor() -> Result<Floor, String> {
    InProcess::new(FloorClient::new())
}

impl Get for FloorClient {
    async fn get(&self, url: &str) -> Result<u64, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let response = self
            .0
            .get(uri)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: status {}", response.status()));
        }
        drain(response.into_body()).await
    }
}

/// Set in the environment of the bench binary when it is to act as the floor client:
/// `bench URL N` then runs N sequential GETs and prints `ok:`, `body-bytes:` and
/// `elapsed-ms:` lines as the guest programs do.
pub const AS_FLOOR_ENV: &str = "WASMGATE_BENCH_AS_FLOOR";

/// The floor client process: `bench URL N` (see [`AS_FLOOR_ENV`]).
pub fn child_main(args: &[String]) -> std::process::ExitCode {
    let [cmd, url, n] = args else {
        eprintln!("usage: bench URL N (got {args:?})");
        return std::process::ExitCode::FAILURE;
    };
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("bench: N must be a number, not {n:?}");
        return std::process::ExitCode::FAILURE;
    };
    if cmd != "bench" {
        eprintln!("unknown command {cmd:?}; expected bench URL N");
        return std::process::ExitCode::FAILURE;
    }
    match floor().and_then(|f| f.sequential(url, n)) {
        Ok(t) => {
            println!("ok: {n}");
            println!("body-bytes: {}", t.bytes);
            println!("elapsed-ms: {:.3}", t.elapsed.as_secs_f64() * 1000.0);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
