//! Name resolution: an injectable resolver, and per-run pinning so a name is looked up
//! once and every connection goes to the addresses that were checked (no DNS rebinding).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// A boxed future returned by [`Resolve::resolve`].
pub type ResolveFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Turns a host name into addresses. Inject your own (tests map names to 127.0.0.1;
/// an embedder may route names through its own DNS).
pub trait Resolve: Send + Sync + 'static {
    /// Looks up `host` (a lower-case DNS name, never an IP literal).
    fn resolve<'a>(&'a self, host: &'a str) -> ResolveFuture<'a>;
}

/// The operating system's resolver (`getaddrinfo` on a blocking thread).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(&'a self, host: &'a str) -> ResolveFuture<'a> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host, 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// A fixed table of names; unknown names fail with "not found" and never reach real DNS.
#[derive(Debug, Default, Clone)]
pub struct StaticResolver {
    names: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }
    /// Maps `name` (case-insensitive) to `addrs`.
    pub fn with(mut self, name: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        self.names
            .insert(name.to_ascii_lowercase(), addrs.into_iter().collect());
        self
    }
}

impl Resolve for StaticResolver {
    fn resolve<'a>(&'a self, host: &'a str) -> ResolveFuture<'a> {
        let found = self.names.get(host).cloned();
        Box::pin(async move {
            found.ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("name {host:?} not found"))
            })
        })
    }
}

type Pinned = Result<Arc<[IpAddr]>, (io::ErrorKind, String)>;

/// Per-run memo of lookups: the first answer for a name is the answer for the whole run.
pub(crate) struct DnsPins {
    resolver: Arc<dyn Resolve>,
    names: Mutex<HashMap<String, Arc<OnceCell<Pinned>>>>,
}

impl DnsPins {
    pub(crate) fn new(resolver: Arc<dyn Resolve>) -> Self {
        Self {
            resolver,
            names: Mutex::new(HashMap::new()),
        }
    }

    /// Resolves `host` once per run; concurrent callers share one lookup.
    pub(crate) async fn lookup(&self, host: &str) -> Pinned {
        let cell = {
            let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
            names.entry(host.to_string()).or_default().clone()
        };
        cell.get_or_init(|| async {
            match self.resolver.resolve(host).await {
                Ok(addrs) if addrs.is_empty() => Err((
                    io::ErrorKind::NotFound,
                    format!("name {host:?} resolved to no addresses"),
                )),
                Ok(addrs) => Ok(addrs.into()),
                Err(e) => Err((e.kind(), e.to_string())),
            }
        })
        .await
        .clone()
    }
}
