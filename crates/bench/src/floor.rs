//! The floor: hyper-util's plain pooled client (`client::legacy::Client` over an
//! `HttpConnector`, default settings, keep-alive) with no policy in front of it, on a
//! current-thread runtime — the fastest a Rust client on this stack (Tokio + hyper) gets.
//! Every other subject's P1/P2 figure is divided by this one.

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
