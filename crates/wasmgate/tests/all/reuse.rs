//! Stale pooled connections: servers that close keep-alive connections without saying so.
//! A request on such a connection goes out once more on a new one when it can be rebuilt
//! whole, and never when a written non-idempotent body would be sent twice (the rule is in
//! `outbound/exchange.rs` and README "Connection reuse").

use super::harness::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wasmgate::outbound::OutboundBody;
use wasmgate::{
    Decision, EventSink, Origin, OutboundClient, OutboundErrorKind, OutboundRequest,
    StaticResolver, TlsConfig,
};
use wasmgate_policy::{AllowRule, Limits, Policy};

/// Sequential requests per case: enough that a close racing the next request is hit many
/// times over, few enough that a case takes well under a second.
const REQUESTS: usize = 100;

/// Bounds every wait on the server side, so a broken client fails the test, not hangs it.
const SERVER_WAIT: Duration = Duration::from_secs(10);

/// How the hostile server ends a connection it has answered once. It never sends
/// `Connection: close`.
#[derive(Clone, Copy, Debug)]
enum Close {
    /// Right after the response: the FIN usually reaches the client before its next request.
    AfterResponse,
    /// A moment after the response, so the client's next request races the close.
    AfterDelay(Duration),
    /// Once the next request has arrived: reads it whole and closes without a word (FIN).
    /// Every request after the first meets a stale connection.
    OnNextRequest,
    /// Once the next request starts to arrive, closes without reading it: the unread data
    /// makes the kernel answer with a reset (RST), the client sees `connection reset`.
    ResetOnNextRequest,
    /// Never answers: reads the request and closes, on every connection.
    NeverAnswer,
}

#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    /// Requests read whole (head and body), answered or not.
    requests: AtomicUsize,
    /// Answers sent (counted as the write starts).
    answered: AtomicUsize,
    /// Bodies of the requests read, in order.
    bodies: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
}

struct Hostile {
    addr: SocketAddr,
    seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    async fn start(close: Close) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let counts = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                counts.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(conn, close, counts.clone()));
            }
        });
        Hostile { addr, seen, task }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn count(&self, what: fn(&Seen) -> &AtomicUsize) -> usize {
        what(&self.seen).load(Ordering::SeqCst)
    }
}

/// One connection: answer the first request, then end it as `close` says.
async fn serve(mut conn: TcpStream, close: Close, seen: Arc<Seen>) {
    let mut buf = Vec::new();
    if read_request(&mut conn, &mut buf, &seen).await.is_none() {
        return;
    }
    if matches!(close, Close::NeverAnswer) {
        return;
    }
    // Counted first: the client may have the whole answer before `write_all` returns.
    seen.answered.fetch_add(1, Ordering::SeqCst);
    let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    if conn.write_all(answer).await.is_err() {
        return;
    }
    match close {
        Close::AfterResponse | Close::NeverAnswer => {}
        Close::AfterDelay(d) => tokio::time::sleep(d).await,
        Close::OnNextRequest => {
            let _ = read_request(&mut conn, &mut buf, &seen).await;
        }
        Close::ResetOnNextRequest => {
            let mut one = [0u8; 1];
            let _ = tokio::time::timeout(SERVER_WAIT, conn.peek(&mut one)).await;
        }
    }
}

/// Reads one request (head, then a `content-length` or chunked body) and records it.
async fn read_request(conn: &mut TcpStream, buf: &mut Vec<u8>, seen: &Seen) -> Option<()> {
    buf.clear();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        read_more(conn, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let method = head.split(' ').next().unwrap_or("").to_uppercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse::<usize>().unwrap());
    let body = if let Some(n) = length {
        while buf.len() < head_end + n {
            read_more(conn, buf).await?;
        }
        buf[head_end..head_end + n].to_vec()
    } else if head.contains("transfer-encoding: chunked") {
        while !buf[head_end..].ends_with(b"0\r\n\r\n") {
            read_more(conn, buf).await?;
        }
        dechunk(&buf[head_end..])
    } else {
        Vec::new()
    };
    seen.requests.fetch_add(1, Ordering::SeqCst);
    seen.bodies.lock().unwrap().push((method, body));
    Some(())
}

async fn read_more(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match tokio::time::timeout(SERVER_WAIT, conn.read(&mut chunk)).await {
        Ok(Ok(n)) if n > 0 => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
        _ => None,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line]).unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line + 2..line + 2 + size]);
        raw = &raw[line + 2 + size + 2..];
    }
}

/// The client as both adapters use it, allowed to reach `server`, with its events collected.
fn client_for(server: &Hostile) -> (OutboundClient, Arc<Collect>) {
    let rule = AllowRule::parse(&format!("http://{}", server.addr)).unwrap();
    let policy = Policy::new(vec![rule], vec![], Limits::default());
    let events = Arc::new(Collect::default());
    let mut hub = wasmgate::events::EventHub::default();
    hub.subscribe(events.clone() as Arc<dyn EventSink>);
    let tls = TlsConfig::new(&[] as &[PathBuf]).unwrap();
    let client = OutboundClient::new(Arc::new(policy), Arc::new(StaticResolver::new()), tls, hub);
    (client, events)
}

/// Sends one request and reads its whole body.
async fn send(
    client: &OutboundClient,
    method: &str,
    url: &str,
    body: OutboundBody,
) -> Result<Vec<u8>, wasmgate::OutboundError> {
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .body(body)
        .unwrap();
    let response = client
        .send(OutboundRequest {
            request,
            timeouts: Default::default(),
            origin: Origin::HostAbi,
        })
        .await?;
    assert_eq!(response.status(), 200);
    Ok(response.into_body().collect().await?.to_bytes().to_vec())
}

fn empty() -> OutboundBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A body the test writes as a guest would: chunks through a channel, ended by dropping
/// the sender.
struct Streamed(tokio::sync::mpsc::Receiver<Bytes>);

impl http_body::Body for Streamed {
    type Data = Bytes;
    type Error = wasmgate::OutboundError;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(http_body::Frame::data(c))))
    }
}

fn streamed() -> (tokio::sync::mpsc::Sender<Bytes>, OutboundBody) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    (tx, Streamed(rx).boxed_unsync())
}

fn full(data: &[u8]) -> OutboundBody {
    Full::new(Bytes::copy_from_slice(data))
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Every request succeeded and was reported once, allowed and without error.
fn all_ok(events: &Collect, n: usize) {
    let events = events.0.lock().unwrap();
    assert_eq!(events.len(), n, "one event per request");
    for e in events.iter() {
        assert_eq!(e.decision, Decision::Allowed);
        assert_eq!(e.status, Some(200));
        assert!(e.error.is_none(), "{:?}", e.error);
    }
}

/// The server modes under which a request may meet a connection closed under it.
fn closing_modes() -> [Close; 5] {
    [
        Close::AfterResponse,
        Close::AfterDelay(Duration::from_millis(1)),
        Close::AfterDelay(Duration::from_millis(3)),
        Close::OnNextRequest,
        Close::ResetOnNextRequest,
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn get_on_a_silently_closed_connection_is_sent_again() {
    for close in closing_modes() {
        let server = Hostile::start(close).await;
        let (client, events) = client_for(&server);
        for i in 0..REQUESTS {
            let body = send(&client, "GET", &server.url(), empty()).await;
            assert_eq!(
                body.unwrap_or_else(|e| panic!("{close:?}, request {i}: {e}")),
                b"ok"
            );
        }
        all_ok(&events, REQUESTS);
        // One connection per answer, none left over: a resend never dials twice.
        assert_eq!(server.count(|s| &s.answered), REQUESTS, "{close:?}");
        assert_eq!(server.count(|s| &s.connections), REQUESTS, "{close:?}");
        if let Close::OnNextRequest = close {
            // Every request after the first met a stale connection, was read there
            // unanswered, and went out again.
            assert_eq!(server.count(|s| &s.requests), 2 * REQUESTS - 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn post_with_an_empty_body_is_sent_again() {
    for close in closing_modes() {
        let server = Hostile::start(close).await;
        let (client, events) = client_for(&server);
        for i in 0..REQUESTS {
            let body = send(&client, "POST", &server.url(), empty()).await;
            assert_eq!(
                body.unwrap_or_else(|e| panic!("{close:?}, request {i}: {e}")),
                b"ok"
            );
        }
        all_ok(&events, REQUESTS);
        assert_eq!(server.count(|s| &s.answered), REQUESTS, "{close:?}");
        let bodies = server.seen.bodies.lock().unwrap();
        assert!(bodies.iter().all(|(m, b)| m == "POST" && b.is_empty()));
    }
}

/// The guest had not written any of its body when the stale connection failed: the body
/// is untouched, so the POST goes out again and the server gets the body exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn post_whose_body_was_not_yet_written_is_sent_again() {
    let server = Hostile::start(Close::ResetOnNextRequest).await;
    let (client, events) = client_for(&server);
    send(&client, "GET", &server.url(), empty()).await.unwrap();
    let (tx, body) = streamed();
    let writer = async {
        // Write only once the resend has dialled its new connection (bounded: without a
        // resend the request has failed by then, and the write goes nowhere).
        let waited = tokio::time::timeout(SERVER_WAIT, async {
            while server.count(|s| &s.connections) < 2 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let _ = waited.await;
        let _ = tx.send(Bytes::from_static(b"late body")).await;
        drop(tx);
    };
    let url = server.url();
    let (sent, ()) = tokio::join!(send(&client, "POST", &url, body), writer);
    assert_eq!(sent.unwrap(), b"ok");
    all_ok(&events, 2);
    let bodies = server.seen.bodies.lock().unwrap();
    let posts: Vec<_> = bodies.iter().filter(|(m, _)| m == "POST").collect();
    assert_eq!(posts.len(), 1, "{bodies:?}");
    assert_eq!(posts[0].1, b"late body");
    assert_eq!(events.0.lock().unwrap()[1].bytes_out, 9);
}

/// The server read a POST's streamed body whole and closed without answering: the request
/// may have taken effect, so it is not sent again; the caller gets the error.
#[tokio::test(flavor = "multi_thread")]
async fn post_whose_streamed_body_was_written_is_not_sent_again() {
    let server = Hostile::start(Close::OnNextRequest).await;
    let (client, events) = client_for(&server);
    send(&client, "GET", &server.url(), empty()).await.unwrap();
    let (tx, body) = streamed();
    tx.send(Bytes::from_static(b"pay once")).await.unwrap();
    drop(tx);
    let err = send(&client, "POST", &server.url(), body)
        .await
        .expect_err("a written POST is not resent");
    assert_eq!(err.kind(), OutboundErrorKind::Protocol, "{err}");
    assert_eq!(server.count(|s| &s.connections), 1, "no second connection");
    let bodies = server.seen.bodies.lock().unwrap().clone();
    let posts: Vec<_> = bodies.iter().filter(|(m, _)| m == "POST").collect();
    assert_eq!(posts.len(), 1, "the server saw it once: {bodies:?}");
    assert_eq!(posts[0].1, b"pay once");
    let events = events.0.lock().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].decision, Decision::Allowed);
    assert_eq!(events[1].bytes_out, 8);
    assert!(events[1].error.is_some());
}

/// An idempotent PUT whose small body was written goes out again, whole, from the copy;
/// one too large to copy does not.
#[tokio::test(flavor = "multi_thread")]
async fn written_put_is_replayed_only_while_small() {
    let server = Hostile::start(Close::OnNextRequest).await;
    let (client, _events) = client_for(&server);
    send(&client, "GET", &server.url(), empty()).await.unwrap();
    let (tx, body) = streamed();
    tx.send(Bytes::from_static(b"{\"a\":")).await.unwrap();
    tx.send(Bytes::from_static(b"1}")).await.unwrap();
    drop(tx);
    assert_eq!(
        send(&client, "PUT", &server.url(), body).await.unwrap(),
        b"ok"
    );
    let puts: Vec<_> = server
        .seen
        .bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, _)| m == "PUT")
        .map(|(_, b)| b.clone())
        .collect();
    assert_eq!(puts, [b"{\"a\":1}".to_vec(), b"{\"a\":1}".to_vec()]);

    // Now on the (pooled) connection of that resend: a body past the copy limit.
    let connections = server.count(|s| &s.connections);
    let large = vec![b'x'; 100 * 1024];
    let err = send(&client, "PUT", &server.url(), full(&large))
        .await
        .expect_err("too large to replay");
    assert_eq!(err.kind(), OutboundErrorKind::Protocol, "{err}");
    assert_eq!(server.count(|s| &s.connections), connections);
}

/// A connection dialled for the request that fails is not a stale pooled one: no resend.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_new_connection_is_not_retried() {
    let server = Hostile::start(Close::NeverAnswer).await;
    let (client, events) = client_for(&server);
    for method in ["GET", "POST"] {
        let err = send(&client, method, &server.url(), empty())
            .await
            .expect_err("the server never answers");
        assert_eq!(err.kind(), OutboundErrorKind::Protocol, "{err}");
    }
    assert_eq!(server.count(|s| &s.connections), 2);
    assert_eq!(server.count(|s| &s.requests), 2);
    assert_eq!(events.0.lock().unwrap().len(), 2);
}

/// The same through a wasi:http guest (its body stream may still be open when the stale
/// connection fails), for each way of closing.
#[tokio::test(flavor = "multi_thread")]
async fn a_guest_never_sees_a_stale_connection() {
    for close in closing_modes() {
        let server = Hostile::start(close).await;
        let ran = Setup::allow(format!("http://{}", server.addr))
            .run(Guest::HttpClient, &["seq", &server.url(), "30"])
            .await;
        ran.ok();
        assert!(ran.stdout.contains("ok: 30"), "{close:?}: {}", ran.stdout);
        assert_eq!(ran.events.len(), 30);
        assert_eq!(server.count(|s| &s.answered), 30, "{close:?}");
    }
}
