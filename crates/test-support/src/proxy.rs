//! A small HTTP proxy on `127.0.0.1:0` that records what it saw: `CONNECT host:port`
//! tunnels for https targets and absolute-form requests (`GET http://host:port/path`)
//! for http targets, with any `Proxy-Authorization` header.
//!
//! It resolves **every** host name to 127.0.0.1, so tests can use names no resolver
//! knows (`api.proxied.test`) and show that the proxy, not wasmgate, resolved them.
//! Only the first request of each client connection is parsed and recorded; the rest of
//! the connection is relayed as bytes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Largest request head the proxy reads; bigger heads get 431.
const MAX_HEAD: usize = 64 * 1024;

/// What the proxy saw of one client connection's first request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// The request line without the version: `CONNECT api.test:443` or
    /// `GET http://api.test:8080/hello`.
    pub line: String,
    /// The `Proxy-Authorization` header, if any.
    pub proxy_authorization: Option<String>,
    /// The request's other headers as `name: value` (lower-case names), in order.
    pub headers: Vec<String>,
}

/// How the proxy answers.
#[derive(Clone)]
enum Mode {
    Relay { credentials: Option<String> },
    Refuse(u16, &'static str),
}

/// A running proxy; dropped = stopped.
pub struct TestProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<ProxiedRequest>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestProxy {
    /// A proxy that relays every request.
    pub fn open() -> Self {
        Self::start(Mode::Relay { credentials: None })
    }

    /// A proxy that answers 407 unless `Proxy-Authorization: Basic base64(user:password)`
    /// comes with the request.
    pub fn with_credentials(user: &str, password: &str) -> Self {
        Self::start(Mode::Relay {
            credentials: Some(basic(user, password)),
        })
    }

    /// A proxy that answers every request with `status reason` and relays nothing.
    pub fn refusing(status: u16, reason: &'static str) -> Self {
        Self::start(Mode::Refuse(status, reason))
    }

    fn start(mode: Mode) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = oneshot::channel();
        let thread_seen = seen.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(serve(std_listener, mode, thread_seen, stop_rx));
        });
        Self {
            addr,
            seen,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for `--proxy`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT`.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<ProxiedRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `Basic base64(user:password)`, the header value the proxy expects.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

async fn serve(
    listener: std::net::TcpListener,
    mode: Mode,
    seen: Arc<Mutex<Vec<ProxiedRequest>>>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut stop => return,
            r = listener.accept() => match r { Ok(s) => s, Err(_) => continue },
        };
        let _ = stream.set_nodelay(true);
        let (mode, seen) = (mode.clone(), seen.clone());
        tokio::spawn(async move {
            let _ = handle(stream, mode, seen).await;
        });
    }
}

async fn handle(
    mut client: TcpStream,
    mode: Mode,
    seen: Arc<Mutex<Vec<ProxiedRequest>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let (head_len, request) = loop {
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 100];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let mut proxy_authorization = None;
                let mut other = Vec::new();
                for h in req.headers.iter() {
                    let value = String::from_utf8_lossy(h.value).into_owned();
                    if h.name.eq_ignore_ascii_case("proxy-authorization") {
                        proxy_authorization = Some(value);
                    } else {
                        other.push(format!("{}: {value}", h.name.to_ascii_lowercase()));
                    }
                }
                let line = format!(
                    "{} {}",
                    req.method.unwrap_or_default(),
                    req.path.unwrap_or_default()
                );
                break (
                    len,
                    ProxiedRequest {
                        line,
                        proxy_authorization,
                        headers: other,
                    },
                );
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return reply(&mut client, 431, "Request Header Fields Too Large").await;
            }
            Err(_) => return reply(&mut client, 400, "Bad Request").await,
        }
    };
    seen.lock().unwrap().push(request.clone());
    let credentials = match mode {
        Mode::Refuse(status, reason) => return reply(&mut client, status, reason).await,
        Mode::Relay { credentials } => credentials,
    };
    if let Some(expected) = credentials
        && request.proxy_authorization.as_deref() != Some(expected.as_str())
    {
        return reply(&mut client, 407, "Proxy Authentication Required").await;
    }
    let (method, target) = request.line.split_once(' ').unwrap_or_default();
    if method == "CONNECT" {
        let port = target
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok());
        let Some(port) = port else {
            return reply(&mut client, 400, "Bad Request").await;
        };
        let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)).await else {
            return reply(&mut client, 502, "Bad Gateway").await;
        };
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
        upstream.write_all(&buf[head_len..]).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    // Absolute form: relay the request as it came (the test server takes absolute form).
    let port = target
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|authority| authority.rsplit_once(':'))
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .unwrap_or(80);
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return reply(&mut client, 502, "Bad Gateway").await;
    };
    upstream.write_all(&buf).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

async fn reply(client: &mut TcpStream, status: u16, reason: &str) -> std::io::Result<()> {
    let extra = if status == 407 {
        "Proxy-Authenticate: Basic realm=\"test\"\r\n"
    } else {
        ""
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    client.write_all(response.as_bytes()).await?;
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    #[test]
    fn basic_matches_rfc_7617s_example() {
        assert_eq!(
            super::basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(super::basic("user", "s3cret"), "Basic dXNlcjpzM2NyZXQ=");
    }
}
