//! A handler's outbound requests: the same policy, events and audit fields as `run`,
//! each naming the incoming request it belongs to.

use crate::support::{Running, get, policy, probe, wait_until};
use wasmgate::{Cancellation, Decision, ServeConfig};
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

#[test]
fn requests_a_handler_leaves_open_are_cancelled_and_counted_once() {
    // `/fetch-open` gets a response head and returns without reading or dropping the
    // body; `/fetch` reads its body to the end.
    let upstream = TestServer::http();
    let server = Running::start(probe(), policy(&[&upstream.base()]), ServeConfig::default());
    let closed = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/hello")),
    );
    assert_eq!(closed.status, 200, "{closed:?}");
    let open = get(
        server.addr,
        &format!("/fetch-open?url={}", upstream.url("/hello")),
    );
    assert_eq!(open.status, 200, "{open:?}");
    assert_eq!(open.body, "left open: 200");

    // One summary for the handler that left one open, naming its incoming request.
    let ends = wait_until("the run end", || {
        let ends = server.run_ends();
        (!ends.is_empty()).then_some(ends)
    });
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0].incoming.as_deref(), Some("GET /fetch-open #2"));
    assert_eq!(ends[0].cause, Cancellation::GuestExited);
    assert_eq!(ends[0].cancelled, 1);

    // Its own record was written when the handler's end closed it: status 200, no
    // byte of the body read; the body the handler did read is on record in full.
    let events = server.events();
    assert_eq!(events.len(), 2, "{events:?}");
    let left = events
        .iter()
        .find(|e| e.incoming.as_deref() == Some("GET /fetch-open #2"))
        .expect("an event for the open request");
    assert_eq!((left.status, left.bytes_in), (Some(200), 0), "{left:?}");
    let read = events
        .iter()
        .find(|e| e.incoming.as_deref() == Some("GET /fetch #1"))
        .expect("an event for the read request");
    assert!(read.error.is_none() && read.bytes_in > 0, "{read:?}");

    // The server is unaffected: the next handler that reads its body leaves nothing.
    let again = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/hello")),
    );
    assert_eq!(again.status, 200, "{again:?}");
    server.access.wait_for(3);
    assert_eq!(server.run_ends().len(), 1, "{:?}", server.run_ends());
}

#[test]
fn a_request_in_flight_at_the_request_timeout_is_counted_as_cut_by_it() {
    // The handler waits on an upstream that answers after 30 s; the 500 ms request
    // timeout ends it (504) with the outbound request still in flight.
    let upstream = TestServer::http();
    let mut config = ServeConfig::default();
    config.limits.request_timeout = std::time::Duration::from_millis(500);
    let server = Running::start(probe(), policy(&[&upstream.base()]), config);
    let a = get(
        server.addr,
        &format!("/fetch?url={}", upstream.url("/slow/30000")),
    );
    assert_eq!(a.status, 504, "{a:?}");
    let ends = wait_until("the run end", || {
        let ends = server.run_ends();
        (!ends.is_empty()).then_some(ends)
    });
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0].incoming.as_deref(), Some("GET /fetch #1"));
    assert_eq!(ends[0].cause, Cancellation::TimedOut);
    assert_eq!(ends[0].cancelled, 1);
    let events = server.events();
    let err = events[0].error.as_ref().expect("cancelled");
    assert_eq!(err.cancellation(), Some(Cancellation::TimedOut), "{err}");
}
