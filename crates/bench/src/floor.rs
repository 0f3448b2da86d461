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
pub struct FloorClient {
    client: Client<HttpConnector, Empty<Bytes>>,
    /// Copy every body chunk into a 64 KiB buffer of the program's own, as a guest must
    /// (its body lands in its linear memory), instead of dropping it where hyper put it.
    copy: bool,
}

impl Default for FloorClient {
    fn default() -> Self {
        Self::new()
    }
}

impl FloorClient {
    /// A client with hyper-util's defaults (pooling and keep-alive on, no TCP_NODELAY
    /// change: the server side sets it, and a GET is one write).
    pub fn new() -> FloorClient {
        FloorClient {
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            copy: false,
        }
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
            .client
            .get(uri)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: status {}", response.status()));
        }
        if self.copy {
            copy_out(response.into_body()).await
        } else {
            drain(response.into_body()).await
        }
    }
}

/// The size of a guest's read buffer in P2 (the guests read in chunks of ≤ 64 KiB).
const COPY_BUFFER: usize = 64 * 1024;

/// Reads `body` to its end, copying its bytes through one 64 KiB buffer; returns the count.
async fn copy_out<B>(body: B) -> Result<u64, String>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut buffer = vec![0u8; COPY_BUFFER];
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(|e| e.to_string())?.into_data() {
            for piece in data.chunks(COPY_BUFFER) {
                buffer[..piece.len()].copy_from_slice(piece);
                n += piece.len() as u64;
            }
            std::hint::black_box(&buffer);
        }
    }
    Ok(n)
}

/// Set in the environment of the bench binary when it is to act as the floor client:
/// `bench URL N` then runs N sequential GETs and prints `ok:`, `body-bytes:` and
/// `elapsed-ms:` lines as the guest programs do; `bench-copy URL N` does the same but
/// copies every body chunk into a 64 KiB buffer of its own (`floor copying` in P2).
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
    let copy = match cmd.as_str() {
        "bench" => false,
        "bench-copy" => true,
        _ => {
            eprintln!("unknown command {cmd:?}; expected bench|bench-copy URL N");
            return std::process::ExitCode::FAILURE;
        }
    };
    let client = FloorClient {
        copy,
        ..FloorClient::new()
    };
    match InProcess::new(client).and_then(|f| f.sequential(url, n)) {
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
