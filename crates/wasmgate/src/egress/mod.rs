//! How requests leave besides the policy: through an HTTP proxy ([`ProxyConfig`]) and
//! with headers the host adds that the guest never sees ([`Injection`]). Both are set
//! on the [`crate::RunnerBuilder`] and checked when it is built. docs/egress.md is the
//! user's guide.

mod inject;
mod proxy;

pub use inject::{Injection, MAX_SECRET_FILE, Secret};
pub use proxy::ProxyConfig;

pub(crate) use inject::apply;
pub(crate) use proxy::ProxyRoute;

/// The egress settings one outbound client uses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Egress {
    pub(crate) proxy: Option<ProxyConfig>,
    pub(crate) injections: Vec<Injection>,
}
