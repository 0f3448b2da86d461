//! A handler's outbound requests: the same policy, events and audit fields as `run`,
//! each naming the incoming request it belongs to.

use crate::support::{Running, get, policy, probe};
use wasmgate::{Decision, ServeConfig};
use wasmgate_test_support::TestServer;

#[test]
fn allowed_and_denied_outbound_requests_of_a_handler() {
    let upstream = TestServer::http();
    let rule = format!("GET {}", upstream.url("/hello"));
    let server = Running::start(probe(), policy(&[&rule]), ServeConfig::default());

    let allowed = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/hello")),
    );
    assert_eq!(allowed.status, 200, "{allowed:?}");
    assert_eq!(allowed.body, "fetched 200: hello from the test server");

    // The denial reaches the handler as wasi:http's code, which it writes back.
    let denied = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/status/500")),
    );
    assert_eq!(denied.status, 502, "{denied:?}");
    assert_eq!(denied.body, "outbound error: ErrorCode::HttpRequestDenied");

    let first = server.access.wait_for(1);
    let second = server.access.wait_for(2);
    assert_eq!((first.outbound, second.outbound), (1, 1));
    assert_eq!(second.error, None, "the handler answered: no fault");

    let events = server.events();
    assert_eq!(events.len(), 2, "{events:?}");
    let by_label = |label: &str| {
        events
            .iter()
            .find(|e| e.incoming.as_deref() == Some(label))
            .unwrap_or_else(|| panic!("no event for {label}: {events:?}"))
    };
    let ok = by_label("GET /fetch #1");
    assert_eq!(ok.decision, Decision::Allowed);
    assert_eq!(ok.status, Some(200));
    let refused = by_label("GET /fetch #2");
    assert_eq!(refused.decision, Decision::Denied);
    let json = refused.to_json();
    assert_eq!(json["incoming"], "GET /fetch #2");
    assert_eq!(json["error_kind"], "denied");
    assert_eq!(
        upstream
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[test]
fn outbound_limits_apply_per_incoming_request() {
    // max_requests 1: each incoming request may make one outbound request; a second
    // request to the server is a fresh count, not the server's second.
    let upstream = TestServer::http();
    let limits = wasmgate_policy::Limits {
        max_requests: 1,
        ..Default::default()
    };
    let p = wasmgate_policy::Policy::new(
        vec![wasmgate_policy::AllowRule::parse(&upstream.base()).unwrap()],
        vec![wasmgate_policy::parse_cidr("127.0.0.1/32").unwrap()],
        limits,
    );
    let server = Running::start(probe(), p, ServeConfig::default());
    for _ in 0..3 {
        let a = get(
            server.addr,
            &format!("/fetch?url={}", upstream.url("/hello")),
        );
        assert_eq!(a.status, 200, "{a:?}");
    }
}

#[test]
fn handlers_share_kept_alive_outbound_connections() {
    // 20 incoming requests, one after another, each fetching from the same upstream: the
    // server's one connection pool serves them all, as `run` does within one run.
    let upstream = TestServer::http();
    let rule = upstream.base();
    let server = Running::start(probe(), policy(&[&rule]), ServeConfig::default());
    for i in 0..20 {
        let a = get(
            server.addr,
            &format!("/fetch?url={}", upstream.url("/hello")),
        );
        assert_eq!(a.status, 200, "request {i}: {a:?}");
    }
    let stats = upstream.stats();
    assert_eq!(stats.requests.load(std::sync::atomic::Ordering::SeqCst), 20);
    let connections = stats.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(connections, 1, "one kept-alive connection for 20 requests");
    // Each incoming request still counts on its own (its audit records name it).
    let events = server.events();
    assert_eq!(events.len(), 20, "{events:?}");
    assert!(events.iter().all(|e| e.status == Some(200)));
}
