//! How requests leave besides the policy: through an HTTP proxy ([`ProxyConfig`]) and
//! with headers the host adds that the guest never sees ([`Injection`]). Both are set
//! on the [`crate::RunnerBuilder`] and checked when it is built. docs/egress.md is the
//! user's guide.

mod inject;
mod proxy;

pub use inject::{Injection, MAX_SECRET_FILE, Secret};
pub use proxy::ProxyConfig;

pub(crate) use proxy::ProxyRoute;

use crate::events::RequestEvent;
use wasmgate_policy::RequestTarget;

/// The egress settings one outbound client uses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Egress {
    pub(crate) proxy: Option<ProxyConfig>,
    pub(crate) injections: Vec<Injection>,
}

impl Egress {
    /// Sets the headers injected for `target` and notes their names (only) on `event`.
    pub(crate) fn inject(
        &self,
        target: &RequestTarget,
        headers: &mut http::HeaderMap,
        event: &mut RequestEvent,
    ) {
        if self.injections.is_empty() {
            return;
        }
        let applied = inject::apply(&self.injections, target, headers);
        event.injected = applied.injected;
        event.replaced = applied.replaced;
    }

    /// The proxy a request to `target` goes through, or `None` to go direct.
    pub(crate) fn route(&self, target: &RequestTarget) -> Option<ProxyRoute> {
        self.proxy.as_ref()?.route(target)
    }
}
