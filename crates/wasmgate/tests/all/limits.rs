//! Every limit: the guest gets the matching wasi:http error code and the message names
//! the flag that raises it.

use super::harness::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn names_flag(ran: &Ran, flag: &str) {
    let msg = ran.last_error();
    assert!(msg.contains(&format!("raise it with {flag}")), "{msg}");
}

#[tokio::test(flavor = "multi_thread")]
async fn response_body_limit_with_and_without_content_length() {
    let server = TestServer::http();
    // Declared too large: refused before the body, with the exact code.
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.max_response_body = 1024)
        .run(
            Guest::HttpClient,
            &["download", &server.url("/bytes/100000")],
        )
        .await;
    ran.guest_error("HttpResponseBodySize(Some(1024))");
    names_flag(&ran, "--max-response-body");
    // Found too large while streaming: the body read fails, and `http-error-code` on
    // its io-error gives the same code (wasmgate's own lookup; wasi-http 48's says none).
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.max_response_body = 1024)
        .run(
            Guest::HttpClient,
            &["download", &server.url("/chunked/100000")],
        )
        .await;
    ran.guest_error("HttpResponseBodySize(Some(1024))");
    names_flag(&ran, "--max-response-body");
    // The guest got exactly the limit, and the event says so.
    assert!(ran.stdout.contains("body-bytes: 1024\n"), "{}", ran.stdout);
    assert_eq!(ran.events[0].bytes_in, 1024);
    // Within the limit, the whole body.
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.max_response_body = 100_000)
        .run(
            Guest::HttpClient,
            &["download", &server.url("/chunked/100000")],
        )
        .await;
    assert!(matches!(ran.code, Ok(0)), "{:?} {}", ran.code, ran.stderr);
    assert!(
        ran.stdout.contains("body-bytes: 100000\n"),
        "{}",
        ran.stdout
    );
    assert_eq!(ran.events[0].bytes_in, 100_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn request_body_limit_streamed_and_declared() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.max_request_body = 1024 * 1024)
        .run(
            Guest::HttpClient,
            &["post", &server.url("/sink"), "3000000"],
        )
        .await;
    assert!(matches!(ran.code, Ok(1)), "{}", ran.stderr);
    assert!(ran.stderr.contains("HttpRequestBodySize"), "{}", ran.stderr);
    names_flag(&ran, "--max-request-body");
    // The server never got more than the limit (plus what was in flight).
    assert!(server.stats().body_bytes.load(Ordering::SeqCst) < 3_000_000);

    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.max_request_body = 1024 * 1024)
        .run(
            Guest::HttpClient,
            &[
                "post",
                &server.url("/sink"),
                "3000000",
                "65536",
                "--content-length",
            ],
        )
        .await;
    ran.guest_error("HttpRequestBodySize(Some(1048576))");
    names_flag(&ran, "--max-request-body");
}

#[tokio::test(flavor = "multi_thread")]
async fn first_byte_timeout_from_policy_and_from_guest() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.first_byte_timeout = Duration::from_millis(200))
        .run(Guest::HttpClient, &["get", &server.url("/slow/3000")])
        .await;
    ran.guest_error("HttpResponseTimeout");
    names_flag(&ran, "--first-byte-timeout");

    // The guest's shorter timeout is honoured…
    let ran = Setup::allow(rule_for(&server))
        .run(
            Guest::HttpClient,
            &[
                "get",
                &server.url("/slow/3000"),
                "--first-byte-timeout-ms",
                "200",
            ],
        )
        .await;
    ran.guest_error("HttpResponseTimeout");
    assert!(ran.last_error().contains("200ms"), "{}", ran.last_error());

    // …and a longer one is capped by the policy.
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.first_byte_timeout = Duration::from_millis(200))
        .run(
            Guest::HttpClient,
            &[
                "get",
                &server.url("/slow/3000"),
                "--first-byte-timeout-ms",
                "60000",
            ],
        )
        .await;
    ran.guest_error("HttpResponseTimeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn between_bytes_timeout() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.between_bytes_timeout = Duration::from_millis(200))
        .run(Guest::HttpClient, &["download", &server.url("/stall/3000")])
        .await;
    // A stalled body: the read fails with the code of wasmgate's adapter for this limit.
    ran.guest_error("ConnectionReadTimeout");
    names_flag(&ran, "--between-bytes-timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_timeout_covers_the_tls_handshake() {
    // Accepts TCP but never answers the TLS ClientHello.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        drop(conn);
    });
    let ran = Setup::allow(format!("https://127.0.0.1:{port}"))
        .limits(|l| l.connect_timeout = Duration::from_millis(300))
        .run(
            Guest::HttpClient,
            &["get", &format!("https://127.0.0.1:{port}/")],
        )
        .await;
    ran.guest_error("ConnectionTimeout");
    names_flag(&ran, "--connect-timeout");
    holder.join().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrency_limit() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| {
            l.max_concurrent_requests = 2;
            l.connect_timeout = Duration::from_millis(300);
        })
        .run(
            Guest::HttpClient,
            &["concurrent", &server.url("/slow/1500"), "4"],
        )
        .await;
    assert!(matches!(ran.code, Ok(1)), "{}", ran.stdout);
    assert!(ran.stdout.contains("ok: 2"), "{}", ran.stdout);
    assert_eq!(
        ran.stdout.matches("error ConnectionLimitReached").count(),
        2,
        "{}",
        ran.stdout
    );
    assert!(server.stats().max_in_flight.load(Ordering::SeqCst) <= 2);
    names_flag(&ran, "--max-concurrent-requests");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_per_run_limit() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .limits(|l| l.max_requests = 3)
        .run(Guest::HttpClient, &["seq", &server.url("/hello"), "5"])
        .await;
    ran.guest_error("ConnectionLimitReached");
    assert!(ran.stdout.contains("ok: 3"), "{}", ran.stdout);
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 3);
    names_flag(&ran, "--max-requests");
}
