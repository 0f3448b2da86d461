//! The test guests written as users write handlers: `wstd`'s `#[wstd::http_server]`
//! (third-party style) and a raw `wasip2` handler, each making an allowed and a
//! denied outbound request, and streaming a body out.

use crate::support::{Running, get, policy, request};
use wasmgate::{Decision, ServeConfig};
use wasmgate_test_support::{Guest, TestServer, guest};

fn allowed_and_denied(handler: Guest, name: &str) {
    let upstream = TestServer::http();
    let rule = format!("GET {}", upstream.url("/hello"));
    let server = Running::start(guest(handler), policy(&[&rule]), ServeConfig::default());
    let hello = get(server.addr, "/hello");
    assert_eq!(hello.status, 200, "{hello:?}");
    assert_eq!(hello.body, format!("hello from {name}\n"));

    let allowed = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/hello")),
    );
    assert_eq!(allowed.status, 200, "{allowed:?}");
    assert_eq!(
        allowed.body,
        "upstream-status: 200\n---\nhello from the test server"
    );
    let denied = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/json")),
    );
    assert_eq!(denied.status, 502, "{denied:?}");
    assert_eq!(denied.body, "HttpRequestDenied\n");

    let events = server.events();
    let denied_event = events
        .iter()
        .find(|e| e.decision == Decision::Denied)
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(denied_event.incoming.as_deref(), Some("GET /fetch #3"));
    assert_eq!(server.access.wait_for(3).outbound, 1);
}

#[test]
fn a_wstd_http_server_handler() {
    allowed_and_denied(Guest::WstdHandler, "wstd-handler");
}

#[test]
fn a_raw_wasip2_handler() {
    allowed_and_denied(Guest::HttpHandler, "http-handler");
}

#[test]
fn a_large_body_streams_both_ways() {
    let server = Running::start(
        guest(Guest::HttpHandler),
        policy(&[]),
        ServeConfig::default(),
    );
    let streamed = get(server.addr, "/stream?bytes=3000000");
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.body.len(), 3_000_000);
    assert!(streamed.body.starts_with("0123456789abcdef0123"));
    let body = vec![b'q'; 2_000_000];
    let echoed = request(server.addr, "POST", "/echo", &body);
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.body.len(), 2_000_000);
    assert_eq!(server.access.wait_for(2).bytes, 2_000_000);
}

#[test]
fn a_request_head_over_the_limit_gets_431() {
    let server = Running::start(
        guest(Guest::HttpHandler),
        policy(&[]),
        ServeConfig::default(),
    );
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(crate::support::BOUND)).unwrap();
    let big = "a".repeat(wasmgate::serve::DEFAULT_MAX_HEADER_SIZE + 1024);
    let _ = std::io::Write::write_all(
        &mut s,
        format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    );
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut s, &mut text);
    assert!(text.starts_with("HTTP/1.1 431 "), "{text:.200}");
    assert_eq!(get(server.addr, "/hello").status, 200);
}
