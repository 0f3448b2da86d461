//! # wasmgate
//!
//! Run WebAssembly guests — wasip2 components and wasip1 core modules — and let them make
//! outbound HTTP(S) requests through one deny-by-default egress policy.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wasmgate::Error> {
//! use wasmgate::{GuestConfig, Runner};
//! use wasmgate_policy::{AllowRule, Limits, Policy};
//!
//! let rule = AllowRule::parse("https://api.example.com").expect("valid rule");
//! let runner = Runner::builder()
//!     .policy(Policy::new(vec![rule], vec![], Limits::default()))
//!     .build()?;
//! let outcome = runner
//!     .run_file("app.wasm".as_ref(), &GuestConfig::default())
//!     .await?;
//! std::process::exit(outcome.status?);
//! # }
//! ```
//!
//! Every request goes through [`OutboundClient`]: URL rules, DNS resolved once and
//! pinned, address checks, pooled connections, limits, and one [`RequestEvent`] per
//! request for subscribers such as [`JsonlAuditLog`].

pub mod abi;
mod cache;
mod component;
pub mod egress;
mod engine;
mod error;
pub mod events;
mod jsonl;
mod kind;
pub mod outbound;
pub mod record;
mod run;
pub mod serve;
mod tls;
mod wasi;

pub use cache::{
    CacheEntry, CacheOutcome, DEFAULT_CACHE_MAX_SIZE, cache_entries, clear_cache, default_cache_dir,
};
pub use egress::{Injection, ProxyConfig};
pub use engine::PoolingSize;
pub use error::{Error, ErrorKind};
pub use events::{Cancellation, Decision, EventSink, JsonlAuditLog, Origin, RequestEvent, RunEnd};
pub use kind::{WasmKind, detect};
pub use outbound::{
    GuestTimeouts, OutboundClient, OutboundError, OutboundErrorKind, OutboundRequest, ProxyFailure,
    Resolve, ResolveFuture, StaticResolver, SystemResolver,
};
pub use record::{DEFAULT_RECORD_MAX_BODY, RecordOptions, Recorder, Replay, ReplayMissing};
pub use run::{RunOutcome, Runner, RunnerBuilder, SLOW_COMPILE_AFTER, SlowCompileNotice};
pub use serve::{ServeConfig, ServeLimits, ServeSummary, Server, ServerTlsFiles};
pub use tls::{TlsConfig, TlsEntry, TlsSettings};
pub use wasi::{DEFAULT_MAX_MEMORY, DirGrant, GuestConfig, Stdio};
pub use wasmgate_policy as policy;
