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
            let (gone, closed_watch) = watch_close(&stream);
            match tls {
                None => connection(stream, peer, gone, shared, &builder, watcher).await,
                Some(acceptor) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        connection(stream, peer, gone, shared, &builder, watcher).await;
                    }
                }
            }
            if let Some(w) = closed_watch {
                w.abort();
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
    gone: ClientGone,
    shared: Arc<Shared>,
    builder: &auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let (shared, gone) = (shared.clone(), gone.clone());
        async move { Ok::<_, Infallible>(super::request::handle(shared, peer, gone, req).await) }
    });
    let conn = builder.serve_connection(TokioIo::new(io), service);
    // Errors here are the client's (reset, bad request): nothing to report.
    let _ = watcher.watch(conn.into_owned()).await;
}

/// How often a connection with unread bytes is checked for the client's close: hyper
/// reads them within microseconds, so this is rare (an uploading body, a pipelined
/// request) and cheap.
const CLOSE_RECHECK: std::time::Duration = std::time::Duration::from_millis(20);

/// Resolves once the client has closed its end of the connection. hyper's HTTP/1.1
/// server does not read while a request is being handled, so without this a client
/// that gives up would leave its handler running to the request timeout. (HTTP/2
/// streams the client resets are dropped by hyper itself.)
#[derive(Clone)]
pub(crate) struct ClientGone(Option<tokio::sync::watch::Receiver<bool>>);

impl ClientGone {
    pub(crate) async fn wait(self) {
        if let Some(mut rx) = self.0
            && rx.wait_for(|gone| *gone).await.is_ok()
        {
            return;
        }
        std::future::pending::<()>().await;
    }
}

/// Watches a second descriptor of the connection's socket for the client's FIN by
/// peeking, never reading: the bytes stay hyper's.
fn watch_close(
    stream: &tokio::net::TcpStream,
) -> (ClientGone, Option<tokio::task::JoinHandle<()>>) {
    use std::os::fd::AsFd;
    let Some(dup) = stream
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(std::net::TcpStream::from)
        .and_then(|s| tokio::net::TcpStream::from_std(s).ok())
    else {
        return (ClientGone(None), None);
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut byte = [0u8; 1];
        // Bounded by the connection: the task is aborted when it ends.
        loop {
            match dup.peek(&mut byte).await {
                // End of stream: the client closed its side.
                Ok(0) => {
                    let _ = tx.send(true);
                    return;
                }
                // Bytes for hyper (the next request, a body): look again shortly.
                Ok(_) => tokio::time::sleep(CLOSE_RECHECK).await,
                Err(_) => {
                    let _ = tx.send(true);
                    return;
                }
            }
        }
    });
    (ClientGone(Some(rx)), Some(task))
}
