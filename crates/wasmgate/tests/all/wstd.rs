//! A third-party guest library (the `wstd` crate) works unchanged.

use super::harness::*;
use std::sync::atomic::Ordering;

#[tokio::test(flavor = "multi_thread")]
async fn wstd_five_thousand_sequential_gets_without_an_error() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .run(Guest::WstdClient, &["loop", &server.url("/hello"), "5000"])
        .await;
    ran.ok();
    assert!(
        ran.stdout.contains("ok: 5000"),
        "{}\n{}",
        ran.stdout,
        ran.stderr
    );
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 5000);
    assert!(
        ran.events
            .iter()
            .all(|e| e.error.is_none() && e.status == Some(200))
    );
    // Keep-alive: a handful of connections at most, not one per request.
    assert!(server.stats().connections.load(Ordering::SeqCst) <= 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn wstd_post() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .run(
            Guest::WstdClient,
            &["post", &server.url("/echo"), "hello wstd"],
        )
        .await;
    ran.ok();
    assert!(ran.stdout.starts_with("status: 200\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("---\nhello wstd"), "{}", ran.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn wstd_denied() {
    let server = TestServer::http();
    let ran = Setup::default()
        .run(Guest::WstdClient, &["get", &server.url("/hello")])
        .await;
    assert!(
        matches!(ran.code, Ok(1)),
        "{:?}\n{}\n{}",
        ran.code,
        ran.stdout,
        ran.stderr
    );
    assert!(ran.stderr.contains("HttpRequestDenied"), "{}", ran.stderr);
}
