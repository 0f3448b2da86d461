//! Opening connections: TCP to already-checked addresses, then TLS (with ALPN) when the
//! scheme asks for it, then the HTTP/1.1 or HTTP/2 handshake.

use super::pool::Conn;
use crate::tls::TlsConfig;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use wasmgate_policy::Host;

/// Request body type handed to hyper.
pub(crate) type HyperBody = UnsyncBoxBody<Bytes, super::body::BodyError>;

/// Why a connection could not be opened (the caller adds request context).
pub(crate) enum ConnectError {
    Refused(String),
    Tls(super::TlsFailure, String),
    Handshake(String),
    /// Through a proxy: it refused or botched the tunnel.
    Proxy(super::ProxyFailure, String),
}

/// Where a connection goes, and how many bytes of HTTP (after TLS) it has received so far:
/// an exchange that failed while this stood still failed before any byte of a response.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    pub(crate) addr: SocketAddr,
    received: Arc<AtomicU64>,
    /// Numbers the process's connections from 1 (a recording's `connection`).
    pub(crate) id: u64,
    /// The TLS server asked for a client certificate (see `tls/asked.rs`).
    pub(crate) client_cert_asked: bool,
}

/// The last connection number handed out.
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

impl Peer {
    pub(crate) fn received(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }
}

/// Connects to the first of `addrs` that answers, then (through a proxy) opens the
/// tunnel, then sets up TLS and HTTP.
pub(crate) async fn connect(
    addrs: &[SocketAddr],
    tunnel: Option<&super::proxy::Tunnel<'_>>,
    tls: Option<(&TlsConfig, &Host, u16)>,
) -> Result<(Conn, Peer), ConnectError> {
    let mut last_err: Option<io::Error> = None;
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some((s, *addr));
                break;
            }
            Err(e) => last_err = Some(e),
        }
    }
    let Some((mut stream, addr)) = stream else {
        let e = last_err.map_or_else(|| "no address to connect to".to_string(), |e| e.to_string());
        return Err(ConnectError::Refused(format!(
            "cannot connect to {}: {e}",
            list(addrs)
        )));
    };
    // Requests are small and latency-bound; Nagle's delay only hurts here.
    let _ = stream.set_nodelay(true);
    if let Some(tunnel) = tunnel {
        super::proxy::open_tunnel(&mut stream, tunnel).await?;
    }

    let received = Arc::new(AtomicU64::new(0));
    let mut client_cert_asked = false;
    let conn = match tls {
        None => handshake_h1(Counted::wrap(stream, &received)).await?,
        // The destination's port, not the dialled address's: the TLS settings are chosen
        // by where the request goes.
        Some((tls, host, port)) => {
            let (tls_stream, asked) = tls.connect(host, port, stream).await?;
            client_cert_asked = asked;
            let h2 = tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let io = Counted::wrap(tls_stream, &received);
            if h2 {
                handshake_h2(io).await?
            } else {
                handshake_h1(io).await?
            }
        }
    };
    let id = CONNECTIONS.fetch_add(1, Ordering::Relaxed) + 1;
    Ok((
        conn,
        Peer {
            addr,
            received,
            id,
            client_cert_asked,
        },
    ))
}

/// A stream that counts the bytes read from it.
struct Counted<S> {
    io: S,
    received: Arc<AtomicU64>,
}

impl<S> Counted<S> {
    fn wrap(io: S, received: &Arc<AtomicU64>) -> TokioIo<Self> {
        TokioIo::new(Self {
            io,
            received: received.clone(),
        })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            self.received.fetch_add(n as u64, Ordering::SeqCst);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

async fn handshake_h1<I>(io: I) -> Result<Conn, ConnectError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::Builder::new()
        .handshake::<_, HyperBody>(io)
        .await
        .map_err(|e| ConnectError::Handshake(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("http/1.1 connection ended: {e}");
        }
    });
    Ok(Conn::H1(sender))
}

async fn handshake_h2<I>(io: I) -> Result<Conn, ConnectError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake::<_, HyperBody>(io)
        .await
        .map_err(|e| ConnectError::Handshake(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("http/2 connection ended: {e}");
        }
    });
    Ok(Conn::H2(sender))
}

fn list(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
