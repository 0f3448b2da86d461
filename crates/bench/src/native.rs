//! Native: the library's own [`OutboundClient`] driven from Rust in this process, on a
//! current-thread runtime (as `wasmgate run` now builds), under the policy the guests get
//! — the same client stack as every guest request (policy, pinning, pool, limits,
//! events) without wasm. Its ratio to the floor is the cost of that stack itself.

use crate::inproc::{Get, InProcess, drain};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use std::path::PathBuf;
use std::sync::Arc;
use wasmgate::events::EventHub;
use wasmgate::{GuestTimeouts, OutboundClient, OutboundRequest, SystemResolver, TlsConfig};
use wasmgate_policy::{AllowRule, Limits, Policy};

/// The native client with its runtime.
pub type Native = InProcess<NativeClient>;

/// An [`OutboundClient`] under `--allow BASE` and the default limits, with a fresh pool;
/// cloning shares it.
#[derive(Clone)]
pub struct NativeClient(OutboundClient);

/// A native client allowed to reach `base` (`http://127.0.0.1:PORT`), on a fresh
/// current-thread runtime.
pub fn native(base: &str) -> Result<Native, String> {
    let rule = AllowRule::parse(base).map_err(|e| format!("rule {base}: {e}"))?;
    let policy = Policy::new(vec![rule], vec![], Limits::default());
    let tls = TlsConfig::new(&[] as &[PathBuf]).map_err(|e| e.to_string())?;
    let client = OutboundClient::new(
        Arc::new(policy),
        Arc::new(SystemResolver),
        tls,
        EventHub::default(),
    );
    InProcess::new(NativeClient(client))
}

impl Get for NativeClient {
    async fn get(&self, url: &str) -> Result<u64, String> {
        let body = Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = http::Request::get(url)
            .body(body)
            .map_err(|e| e.to_string())?;
        let response = self
            .0
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
        drain(response.into_body()).await
    }
}
