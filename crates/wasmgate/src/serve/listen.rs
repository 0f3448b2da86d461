//! Accepting connections (plain or TLS), HTTP/1.1 and HTTP/2 on each, and graceful
//! shutdown: stop accepting, let in-flight requests finish up to the shutdown timeout.

use super::limits::{HEADER_READ_TIMEOUT, TLS_HANDSHAKE_TIMEOUT};
use super::{ServeSummary, Shared};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Accepts until `shutdown`, then drains.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> ServeSummary {
    let builder = Arc::new(builder(&shared));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, remote) = match accepted {
            Ok(a) => a,
            // Out of file descriptors and the like: the listener itself is fine; a
            // short pause keeps a persistent error from spinning.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = stream
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (shared, builder, watcher) = (shared.clone(), builder.clone(), graceful.watcher());
        let tls = tls.clone();
        tokio::spawn(async move {
            let peer = Peer { remote, local };
            match tls {
                None => connection(stream, peer, shared, &builder, watcher).await,
                Some(acceptor) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        connection(stream, peer, shared, &builder, watcher).await;
                    }
                }
            }
        });
    }
    // Stop accepting: new connections are refused from here on.
    drop(listener);
    shared.draining.store(true, Ordering::SeqCst);
    let requests = shared.next_id.load(Ordering::SeqCst);
    let open = graceful.count();
    let abandoned = if open == 0 {
        0
    } else {
        match tokio::time::timeout(shared.limits.shutdown_timeout, graceful.shutdown()).await {
            Ok(()) => 0,
            Err(_) => open,
        }
    };
    ServeSummary {
        requests: shared.next_id.load(Ordering::SeqCst).max(requests),
        abandoned_connections: abandoned,
    }
}

/// The two ends of a connection, for CGI's meta-variables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    pub(crate) remote: SocketAddr,
    pub(crate) local: SocketAddr,
}

fn builder(shared: &Shared) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    let max_header = shared.limits.max_header_size;
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        // hyper's floor for its read buffer is 8 KiB.
        .max_buf_size(max_header.max(8192));
    b.http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(max_header).unwrap_or(u32::MAX));
    b
}

async fn connection<I>(
    io: I,
    peer: Peer,
    shared: Arc<Shared>,
    builder: &auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let shared = shared.clone();
        // hyper drops this future when the client goes away before the response head
        // (HTTP/1.1: the connection closes; HTTP/2: the stream is reset); the request's
        // `Exchange` then records it and the handler's instance is aborted.
        async move { Ok::<_, Infallible>(super::request::handle(shared, peer, req).await) }
    });
    let conn = builder.serve_connection(TokioIo::new(io), service);
    // Errors here are the client's (reset, bad request): nothing to report.
    let _ = watcher.watch(conn.into_owned()).await;
}
