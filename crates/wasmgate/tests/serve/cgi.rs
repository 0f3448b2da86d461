//! A Go handler (guest/go/testprograms/cgihandler: mainline Go's `net/http/cgi`, or TinyGo
//! with `wasmgate.ServeCGI`) served as a CGI core module: meta-variables, bodies both ways, outbound requests under the
//! policy.

use crate::support::{Running, get, policy, request};
use wasmgate::{Decision, ServeConfig, ServeLimits};
use wasmgate_test_support::TestServer;
use wasmgate_test_support::go::go_guest;
use wasmgate_test_support::tinygo::{Target, tinygo_guest};

#[test]
fn a_go_cgi_handler_serves_requests_and_makes_outbound_ones() {
    serves_requests_and_makes_outbound_ones(go_guest("cgihandler"));
}

/// The same program built with TinyGo, served through the guest library's CGI child
/// (`wasmgate.ServeCGI`: TinyGo's standard library has no net/http/cgi).
#[test]
fn a_tinygo_cgi_handler_serves_requests_and_makes_outbound_ones() {
    let Some(wasm) = tinygo_guest("cgihandler", Target::Wasip1) else {
        return; // no TinyGo here (outside CI): tinygo() said so on stderr
    };
    serves_requests_and_makes_outbound_ones(wasm);
}

fn serves_requests_and_makes_outbound_ones(guest: std::path::PathBuf) {
    let upstream = TestServer::http();
    let rule = format!("GET {}", upstream.url("/hello"));
    let server = Running::start(
        guest,
        policy(&[&rule]),
        ServeConfig {
            limits: ServeLimits {
                max_incoming_body: 64 * 1024,
                ..ServeLimits::default()
            },
            ..ServeConfig::default()
        },
    );
    let hello = get(server.addr, "/hello");
    assert_eq!(hello.status, 200, "{hello:?}");
    assert_eq!(hello.body, "hello from cgihandler\n");
    assert_eq!(hello.headers["x-handler"], "cgihandler");

    let env = get(server.addr, "/env?x=1");
    assert!(env.body.contains("method: GET"), "{}", env.body);
    assert!(env.body.contains("/env?x=1"), "{}", env.body);

    let status = get(server.addr, "/status?code=418");
    assert_eq!(status.status, 418);

    let echo = request(server.addr, "POST", "/echo", &[b'z'; 50_000]);
    assert_eq!(echo.status, 200);
    assert_eq!(echo.body.len(), 50_000);

    let allowed = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/hello")),
    );
    assert_eq!(allowed.status, 200, "{allowed:?}");
    assert!(
        allowed.body.contains("hello from the test server"),
        "{}",
        allowed.body
    );
    let denied = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/json")),
    );
    assert_eq!(denied.status, 502, "{denied:?}");
    assert!(denied.body.contains("ERR_DENIED"), "{}", denied.body);

    let big = request(server.addr, "POST", "/echo", &[b'z'; 64 * 1024 + 1]);
    assert_eq!(big.status, 413);

    let events = server.events();
    let denied_event = events
        .iter()
        .find(|e| e.decision == Decision::Denied)
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(denied_event.incoming.as_deref(), Some("GET /fetch #6"));
}

#[test]
fn a_chunked_body_is_given_a_length_for_cgi() {
    // Go's net/http/cgi reads stdin only up to CONTENT_LENGTH: a chunked body must
    // arrive whole anyway.
    let server = Running::start(go_guest("cgihandler"), policy(&[]), ServeConfig::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let chunks = futures_like_stream(vec!["abc", "def", "ghi"]);
        let req = http::Request::builder()
            .method("POST")
            .uri("/echo")
            .header("host", "cgi")
            .body(chunks)
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let status = resp.status();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        (status, body)
    });
    assert_eq!(answer.0, 200);
    assert_eq!(&answer.1[..], b"abcdefghi");
}

/// A body of several frames without a length (sent chunked).
struct Chunks(std::collections::VecDeque<bytes::Bytes>);

fn futures_like_stream(parts: Vec<&'static str>) -> Chunks {
    Chunks(parts.into_iter().map(bytes::Bytes::from).collect())
}

impl hyper::body::Body for Chunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(hyper::body::Frame::data(b))))
    }
}
