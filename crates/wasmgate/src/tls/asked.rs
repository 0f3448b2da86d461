//! Whether the server asked for a client certificate during a handshake.
//!
//! A TLS 1.3 server that requires a client certificate refuses it after the client has
//! finished its handshake, so the refusal (an alert and a closed connection) reaches the
//! first HTTP exchange, often as a mere "broken pipe" when the write fails before the
//! alert is read. Knowing that the server asked lets that failure be explained. rustls
//! asks the client's certificate resolver when (and only when) a CertificateRequest
//! arrives; the resolver notes it in a task-local flag scoped to one handshake, so the
//! shared per-destination configuration holds no per-connection state.

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static ASKED: Cell<bool>;
}

/// Presents `key` (if any) to a server that asks, noting that it asked.
#[derive(Debug)]
pub(super) struct RecordingResolver {
    key: Option<Arc<CertifiedKey>>,
}

impl RecordingResolver {
    pub(super) fn new(key: Option<CertifiedKey>) -> Self {
        Self {
            key: key.map(Arc::new),
        }
    }
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // Outside a `recording` scope (never, in practice) there is nothing to note.
        let _ = ASKED.try_with(|asked| asked.set(true));
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// Runs the handshake `f`; also returns whether the server asked for a client certificate.
pub(super) async fn recording<F: Future>(f: F) -> (F::Output, bool) {
    ASKED
        .scope(Cell::new(false), async {
            let out = f.await;
            (out, ASKED.with(Cell::get))
        })
        .await
}
