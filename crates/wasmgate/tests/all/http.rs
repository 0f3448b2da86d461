//! The request path works: methods, bodies, headers, statuses, pooling, streaming.

use super::harness::*;
use std::sync::atomic::Ordering;
use wasmgate::Decision;

#[tokio::test(flavor = "multi_thread")]
async fn get_returns_status_headers_and_body() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.ok();
    assert!(ran.stdout.starts_with("status: 200\n"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("header: content-length: 26\n"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.ends_with("---\nhello from the test server\n"),
        "{}",
        ran.stdout
    );
    assert_eq!(ran.events.len(), 1);
    let e = &ran.events[0];
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.status, Some(200));
    assert_eq!(e.bytes_in, 26);
    assert_eq!(e.addr, Some(server.addr()));
    assert_eq!(e.rule.as_deref(), Some(rule_for(&server).as_str()));
    assert!(e.error.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn post_streams_a_body_and_gets_it_echoed() {
    let server = TestServer::http();
    let size = 3 * 1024 * 1024 + 7;
    let ran = Setup::allow(rule_for(&server))
        .run(
            Guest::HttpClient,
            &["post", &server.url("/echo"), &size.to_string(), "10000"],
        )
        .await;
    ran.ok();
    assert!(
        ran.stdout.contains("header: x-test-method: POST\n"),
        "{}",
        &ran.stdout[..300.min(ran.stdout.len())]
    );
    assert!(ran.stdout.contains(&format!("body-bytes: {size}\n")));
    // The echoed body is the guest's repeating pattern, intact.
    let body = ran.stdout.split_once("---\n").unwrap().1;
    assert!(body.starts_with("0123456789abcdef0123456789abcdef"));
    assert_eq!(
        server.stats().body_bytes.load(Ordering::SeqCst),
        size as u64
    );
    assert_eq!(ran.events[0].bytes_out, size as u64);
    assert_eq!(ran.events[0].bytes_in, size as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_go_both_ways_and_host_comes_from_the_url() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .run(
            Guest::HttpClient,
            &[
                "get",
                &server.url("/headers"),
                "-H",
                "x-from-guest:42",
                "-H",
                "accept:text/plain",
            ],
        )
        .await;
    ran.ok();
    assert!(ran.stdout.contains("header: x-test-reply: yes\n"));
    let body = ran.stdout.split_once("---\n").unwrap().1;
    assert!(body.contains("x-from-guest: 42"), "{body}");
    assert!(body.contains("accept: text/plain"), "{body}");
    assert!(body.contains(&format!("host: {}", server.addr())), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn error_statuses_reach_the_guest_with_their_bodies() {
    let server = TestServer::http();
    for code in ["404", "500"] {
        let ran = Setup::allow(rule_for(&server))
            .run(
                Guest::HttpClient,
                &["get", &server.url(&format!("/status/{code}"))],
            )
            .await;
        ran.ok();
        assert!(ran.stdout.starts_with(&format!("status: {code}\n")));
        assert!(
            ran.stdout.ends_with(&format!("---\nstatus {code} body\n")),
            "{}",
            ran.stdout
        );
        assert_eq!(ran.events[0].status, Some(code.parse().unwrap()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sequential_requests_reuse_one_connection() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .run(Guest::HttpClient, &["seq", &server.url("/hello"), "200"])
        .await;
    ran.ok();
    assert!(ran.stdout.contains("ok: 200"), "{}", ran.stdout);
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 200);
    assert_eq!(server.stats().connections.load(Ordering::SeqCst), 1);
    assert_eq!(ran.events.len(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn large_response_is_streamed_to_the_guest() {
    let server = TestServer::http();
    let size: u64 = 200 * 1024 * 1024;
    let ran = Setup::allow(rule_for(&server))
        .run(
            Guest::HttpClient,
            &["download", &server.url(&format!("/chunked/{size}"))],
        )
        .await;
    ran.ok();
    assert!(
        ran.stdout.contains(&format!("body-bytes: {size}")),
        "{}",
        ran.stdout
    );
    assert_eq!(ran.events[0].bytes_in, size);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_run_in_parallel() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .run(
            Guest::HttpClient,
            &["concurrent", &server.url("/slow/300"), "8"],
        )
        .await;
    ran.ok();
    assert!(ran.stdout.contains("ok: 8"), "{}", ran.stdout);
    // All eight were at the server at once.
    assert_eq!(server.stats().max_in_flight.load(Ordering::SeqCst), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_refused_is_reported() {
    // Bind then drop a listener: the port is closed (on our own loopback).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/x");
    let ran = Setup::allow(format!("http://127.0.0.1:{port}"))
        .run(Guest::HttpClient, &["get", &url])
        .await;
    ran.guest_error("ConnectionRefused");
    assert!(
        ran.last_error().contains("cannot connect to 127.0.0.1"),
        "{}",
        ran.last_error()
    );
    assert_eq!(ran.events[0].decision, Decision::Allowed);
}

/// A server that closes every connection right after its response, without saying so
/// (no `Connection: close`), like servers dropping idle keep-alive connections. No
/// request may fail for it: the pool skips connections it sees closed, and a request
/// that was not yet written when a dead connection failed goes out on a new one.
#[tokio::test(flavor = "multi_thread")]
async fn a_silently_closed_pooled_connection_is_replaced() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let requests = 30;
    let server = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        for _ in 0..requests {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            // Dropping closes the socket.
        }
    });
    let ran = Setup::allow(format!("http://{addr}"))
        .run(
            Guest::HttpClient,
            &["seq", &format!("http://{addr}/"), &requests.to_string()],
        )
        .await;
    ran.ok();
    assert!(
        ran.stdout.contains(&format!("ok: {requests}")),
        "{}",
        ran.stdout
    );
    assert_eq!(accepted.load(Ordering::SeqCst), requests);
    server.join().unwrap();
}
