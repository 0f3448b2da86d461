//! The Rust guest crate (`guest/rust`, `wasmgate-guest`) against real servers on
//! 127.0.0.1, built for both targets: on wasm32-wasip1 it speaks wasmgate's host ABI, on
//! wasm32-wasip2 `wasi:http`. The same test program (`examples/rust-guest-client.rs`)
//! must behave the same on both, run through the library with a policy, captured stdio
//! and collected events.

mod common;
use common::*;
use std::sync::atomic::Ordering;
use wasmgate::{Decision, Origin};
use wasmgate_test_support::rust_guest::rust_guest;
use wasmgate_test_support::{TestProxy, TestServer};

const P1: &str = "wasm32-wasip1";
const P2: &str = "wasm32-wasip2";

impl Run {
    /// Runs the `rust-guest-client` example built for `target`.
    async fn client(self, target: &'static str, args: &[&str]) -> Ran {
        let wasm = tokio::task::spawn_blocking(move || rust_guest("rust-guest-client", target))
            .await
            .unwrap();
        self.run(&wasm, args).await
    }
}

/// Declares one test per target for an `async fn(target)`.
macro_rules! on_both_targets {
    ($($name:ident),* $(,)?) => {
        mod p1 {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    super::$name(super::P1).await
                }
            )*
        }
        mod p2 {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    super::$name(super::P2).await
                }
            )*
        }
    };
}

on_both_targets!(
    get_returns_status_headers_and_body,
    post_streams_a_body_from_a_reader_and_gets_it_echoed,
    headers_travel_both_ways,
    a_large_response_streams_in_bounded_memory,
    a_denied_request_is_a_typed_error_with_the_hosts_message,
    ten_requests_run_concurrently,
    the_example_works,
    http_goes_through_the_proxy_in_absolute_form,
    a_proxy_asking_for_credentials_is_an_error_naming_the_fix,
    an_injected_header_replaces_the_guests,
);

/// The origin of events for a target's requests.
fn origin(target: &str) -> Origin {
    if target == P1 {
        Origin::HostAbi
    } else {
        Origin::WasiHttp
    }
}

async fn get_returns_status_headers_and_body(target: &'static str) {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .client(target, &["get", &server.url("/hello")])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("header: content-length: 26")
        .has_line("body-bytes: 26");
    assert_eq!(ran.body(), "hello from the test server");
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    let e = &ran.events[0];
    assert_eq!(e.origin, origin(target));
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.status, Some(200));
    assert_eq!(e.bytes_in, 26);
}

async fn the_example_works(target: &'static str) {
    let server = TestServer::http();
    let wasm = tokio::task::spawn_blocking(move || rust_guest("get", target))
        .await
        .unwrap();
    let ran = Run::allow(server.base())
        .run(&wasm, &[&server.url("/hello")])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("hello from the test server");
}

async fn post_streams_a_body_from_a_reader_and_gets_it_echoed(target: &'static str) {
    let server = TestServer::http();
    let size = 3 * 1024 * 1024 + 7;
    let ran = Run::allow(server.base())
        .client(target, &["post", &server.url("/echo"), &size.to_string()])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("header: x-test-method: POST")
        .has_line(&format!("body-bytes: {size}"));
    assert!(
        ran.body() == pattern(size),
        "the echoed body differs from what was sent"
    );
    assert_eq!(
        server.stats().body_bytes.load(Ordering::SeqCst),
        size as u64
    );
    assert_eq!(ran.events[0].bytes_out, size as u64);
}

async fn headers_travel_both_ways(target: &'static str) {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .client(target, &["headers", &server.url("/headers")])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("header: x-test-reply: yes");
    let sent: Vec<&str> = ran.body().lines().collect();
    assert!(sent.contains(&"x-from-guest: 42"), "{sent:?}");
    assert!(
        !sent.iter().any(|l| l.starts_with("connection:")),
        "the library must not add a Connection header: {sent:?}"
    );
}

async fn a_large_response_streams_in_bounded_memory(target: &'static str) {
    let server = TestServer::http();
    let size: u64 = 100 * 1024 * 1024 + 13;
    // A guest that buffered the body would need more memory than this and trap.
    let ran = Run::allow(server.base())
        .max_memory(64 * 1024 * 1024)
        .client(
            target,
            &["download", &server.url(&format!("/chunked/{size}"))],
        )
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line(&format!("body-bytes: {size}"));
    assert_eq!(ran.events[0].bytes_in, size);
}

async fn a_denied_request_is_a_typed_error_with_the_hosts_message(target: &'static str) {
    let server = TestServer::http();
    let ran = Run::deny_all()
        .client(target, &["get", &server.url("/hello")])
        .await;
    ran.failed();
    let line = ran.error_line();
    if target == P1 {
        // The host's own message, naming the flag that would allow the request.
        assert!(line.starts_with("error: Denied denied GET "), "{line}");
        assert!(
            line.contains(&format!("--allow {}", server.base())),
            "the message should name the flag: {line}"
        );
    } else {
        assert_eq!(line, "error: Denied HttpRequestDenied");
    }
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 0);
    assert_eq!(ran.events.len(), 1);
    assert_eq!(ran.events[0].decision, Decision::Denied);
}

async fn ten_requests_run_concurrently(target: &'static str) {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .client(target, &["concurrent", &server.url("/slow/200"), "10"])
        .await;
    ran.ok().has_line("ok: 10");
    for i in 0..10 {
        ran.has_line(&format!("result {i}: status 200"));
    }
    assert_eq!(server.stats().max_in_flight.load(Ordering::SeqCst), 10);
    // Ten requests that each take 200 ms, measured inside the guest.
    let elapsed = ran.number("elapsed-ms: ");
    assert!(
        elapsed < 400,
        "10 concurrent requests of 200 ms took {elapsed} ms"
    );
    assert_eq!(ran.events.len(), 10);
}

async fn http_goes_through_the_proxy_in_absolute_form(target: &'static str) {
    let server = TestServer::http();
    let proxy = TestProxy::open();
    let ran = Run::allow(server.base())
        .proxy(wasmgate::ProxyConfig::new(&proxy.url()).unwrap())
        .client(target, &["get", &server.url("/hello")])
        .await;
    ran.ok().has_line("status: 200");
    assert_eq!(ran.body(), "hello from the test server");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].line, format!("GET {}", server.url("/hello")));
    assert_eq!(ran.events[0].proxy, Some(proxy.addr().to_string()));
}

async fn a_proxy_asking_for_credentials_is_an_error_naming_the_fix(target: &'static str) {
    let server = TestServer::http();
    let proxy = TestProxy::with_credentials("user", "pw");
    let ran = Run::allow(server.base())
        .proxy(wasmgate::ProxyConfig::new(&proxy.url()).unwrap())
        .client(target, &["get", &server.url("/hello")])
        .await;
    ran.failed();
    let line = ran.error_line();
    assert!(line.starts_with("error: ConnectionRefused"), "{line}");
    if target == P1 {
        // The host's own message reaches a core guest.
        assert!(line.contains("requires authentication (407)"), "{line}");
        assert!(line.contains("--proxy http://USER:PASSWORD@"), "{line}");
    }
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 0);
    let err = ran.events[0].error.as_ref().unwrap();
    assert_eq!(
        err.proxy_failure(),
        Some(wasmgate::ProxyFailure::AuthRequired)
    );
}

async fn an_injected_header_replaces_the_guests(target: &'static str) {
    const SECRET: &str = "injected-secret-5678";
    let server = TestServer::http();
    let inject = wasmgate::Injection::with_env(
        &server.base(),
        [("x-from-guest", "${env:SECRET}")],
        |name| (name == "SECRET").then(|| SECRET.to_string()),
    )
    .unwrap();
    let ran = Run::allow(server.base())
        .inject(inject)
        .client(target, &["headers", &server.url("/headers")])
        .await;
    ran.ok().has_line("status: 200");
    let sent: Vec<&str> = ran.body().lines().collect();
    assert!(
        sent.contains(&format!("x-from-guest: {SECRET}").as_str()),
        "{sent:?}"
    );
    assert!(!sent.contains(&"x-from-guest: 42"), "{sent:?}");
    let e = &ran.events[0];
    assert_eq!(e.replaced, ["x-from-guest"]);
    assert!(!e.to_json().to_string().contains(SECRET));
}
