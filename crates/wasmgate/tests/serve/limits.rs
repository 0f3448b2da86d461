//! Limits per incoming request: body size (413), handler slots (503 + Retry-After), and
//! the drain at shutdown.

use crate::support::{Running, get, policy, probe, request, send};
use std::sync::atomic::Ordering;
use std::time::Duration;
use wasmgate::{ServeConfig, ServeLimits};
use wasmgate_test_support::TestServer;

fn limits(l: ServeLimits) -> ServeConfig {
    ServeConfig {
        limits: l,
        ..ServeConfig::default()
    }
}

#[test]
fn a_body_over_the_limit_gets_413_and_one_within_it_streams_through() {
    let server = Running::start(
        probe(),
        policy(&[]),
        limits(ServeLimits {
            max_incoming_body: 1024,
            ..ServeLimits::default()
        }),
    );
    let big = request(server.addr, "POST", "/echo", &[b'x'; 1025]);
    assert_eq!(big.status, 413, "{big:?}");
    let record = server.access.wait_for(1);
    assert!(
        record
            .error
            .as_deref()
            .is_some_and(|e| e.contains("--max-incoming-body of 1 KiB")),
        "{record:?}"
    );
    let ok = request(server.addr, "POST", "/echo", &[b'y'; 1024]);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, "y".repeat(1024));
}

#[test]
fn past_the_handler_limit_requests_get_503_with_retry_after() {
    let upstream = TestServer::http();
    let server = Running::start(
        probe(),
        policy(&[&upstream.base()]),
        limits(ServeLimits {
            max_concurrent_handlers: 1,
            ..ServeLimits::default()
        }),
    );
    let addr = server.addr;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let upstream_url = upstream.url("/slow/3000");
    let (held, busy) = rt.block_on(async {
        // The one slot: a handler waiting on the upstream.
        let path = format!("/fetch?url={upstream_url}");
        let held = tokio::spawn(async move { send(addr, "GET", &path, bytes::Bytes::new()).await });
        let deadline = tokio::time::Instant::now() + crate::support::BOUND;
        while upstream.stats().in_flight.load(Ordering::SeqCst) == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "handler never started"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let busy = send(addr, "GET", "/hello", bytes::Bytes::new()).await;
        (held.await.unwrap(), busy)
    });
    assert_eq!(busy.status, 503, "{busy:?}");
    assert_eq!(busy.headers["retry-after"], "1");
    assert_eq!(held.status, 200, "{held:?}");
    let record = server.access.wait_for(2);
    assert!(
        record
            .error
            .as_deref()
            .is_some_and(|e| e.contains("raise --max-concurrent-handlers")),
        "{record:?}"
    );
    // The slot is free again.
    assert_eq!(get(addr, "/hello").status, 200);
}

#[test]
fn shutdown_lets_the_request_in_flight_finish_and_refuses_new_connections() {
    let upstream = TestServer::http();
    let server = Running::start(probe(), policy(&[&upstream.base()]), ServeConfig::default());
    let addr = server.addr;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = upstream.url("/slow/1500");
    let in_flight = rt.spawn(async move {
        send(
            addr,
            "GET",
            &format!("/fetch?url={url}"),
            bytes::Bytes::new(),
        )
        .await
    });
    rt.block_on(async {
        while upstream.stats().in_flight.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let summary = std::thread::spawn(move || server.shutdown());
    // Once the listener is gone, connecting is refused (bounded wait for the drain to
    // begin).
    crate::support::wait_until("new connections to be refused", || {
        std::net::TcpStream::connect(addr).is_err().then_some(())
    });
    let answer = rt.block_on(in_flight).unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, "fetched 200: slow");
    let summary = summary.join().unwrap();
    assert_eq!(summary.abandoned_connections, 0);
    assert_eq!(summary.requests, 1);
}
