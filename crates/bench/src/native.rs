//! The native baseline: the library's own [`OutboundClient`] driven from Rust, in this
//! process, on a multi-threaded Tokio runtime like the one `wasmgate run` uses — the
//! same client stack as every guest request, without wasm.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmgate::events::EventHub;
use wasmgate::{GuestTimeouts, OutboundClient, OutboundRequest, SystemResolver, TlsConfig};
use wasmgate_policy::{AllowRule, Limits, Policy};

/// A client under the policy the guests get (`--allow http://127.0.0.1:PORT`) and the
/// default limits, with a fresh connection pool.
pub struct Native {
    runtime: tokio::runtime::Runtime,
    client: OutboundClient,
}

/// What a timed loop did.
pub struct Timed {
    /// The loop's wall time.
    pub elapsed: Duration,
    /// Body bytes read.
    pub bytes: u64,
}

impl Native {
    /// A client allowed to reach `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Result<Native, String> {
        let rule = AllowRule::parse(base).map_err(|e| format!("rule {base}: {e}"))?;
        let policy = Policy::new(vec![rule], vec![], Limits::default());
        let tls = TlsConfig::new(&[] as &[PathBuf]).map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let client = OutboundClient::new(
            Arc::new(policy),
            Arc::new(SystemResolver),
            tls,
            EventHub::default(),
        );
        Ok(Native { runtime, client })
    }

    /// `n` sequential GETs of `url`, each body read to its end.
    pub fn sequential(&self, url: &str, n: u64) -> Result<Timed, String> {
        self.runtime.block_on(async {
            let started = Instant::now();
            let mut bytes = 0;
            for _ in 0..n {
                bytes += get(&self.client, url).await?;
            }
            Ok(Timed {
                elapsed: started.elapsed(),
                bytes,
            })
        })
    }

    /// `n` GETs of `url` at once (one task each); done when every body is read.
    pub fn concurrent(&self, url: &str, n: u64) -> Result<Timed, String> {
        self.runtime.block_on(async {
            let started = Instant::now();
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let client = self.client.clone();
                    let url = url.to_string();
                    tokio::spawn(async move { get(&client, &url).await })
                })
                .collect();
            let mut bytes = 0;
            for t in tasks {
                bytes += t.await.map_err(|e| e.to_string())??;
            }
            Ok(Timed {
                elapsed: started.elapsed(),
                bytes,
            })
        })
    }
}

/// One GET through the client; returns the body length (frames counted, then dropped).
async fn get(client: &OutboundClient, url: &str) -> Result<u64, String> {
    let body = Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync();
    let request = http::Request::get(url)
        .body(body)
        .map_err(|e| e.to_string())?;
    let response = client
        .send(OutboundRequest {
            request,
            timeouts: GuestTimeouts::default(),
            origin: wasmgate::Origin::WasiHttp,
        })
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: status {}", response.status()));
    }
    let mut body = response.into_body();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(|e| e.to_string())?.into_data() {
            n += data.len() as u64;
        }
    }
    Ok(n)
}
