//! A handler that traps, times out, runs out of memory, never answers, or loses its
//! client: the client gets 500/504, the log one line naming the cause, and the server
//! keeps serving.

use crate::support::{Running, get, policy, probe, wait_until};
use std::sync::atomic::Ordering;
use std::time::Duration;
use wasmgate::{ServeConfig, ServeLimits};
use wasmgate_test_support::TestServer;

fn config(request_timeout: Duration, max_memory: u64) -> ServeConfig {
    let mut c = ServeConfig {
        limits: ServeLimits {
            request_timeout,
            ..ServeLimits::default()
        },
        ..ServeConfig::default()
    };
    c.guest.max_memory = max_memory;
    c
}

#[test]
fn each_fault_gets_its_status_and_cause_and_the_server_keeps_serving() {
    let server = Running::start(
        probe(),
        policy(&[]),
        config(Duration::from_secs(1), 32 * 1024 * 1024),
    );
    // (path, status, what the log line says)
    let table: &[(&str, u16, &str)] = &[
        (
            "/trap",
            500,
            "the handler trapped: wasm trap: wasm `unreachable`",
        ),
        // Spinning in wasm: the epoch deadline.
        ("/spin", 504, "within the --request-timeout of 1s"),
        // Waiting in the host: the tokio timeout.
        (
            "/sleep?ms=600000",
            504,
            "within the --request-timeout of 1s",
        ),
        (
            "/alloc?mib=64",
            500,
            "more memory than the --max-memory of 32 MiB",
        ),
        ("/silent", 500, "returned without sending a response"),
    ];
    for (i, (path, status, cause)) in table.iter().enumerate() {
        let a = get(server.addr, path);
        assert_eq!(a.status, *status, "{path}: {a:?}");
        // The client learns the kind of failure, not the guest's internals.
        assert!(!a.body.contains("wasm"), "{path}: {}", a.body);
        let record = server.access.wait_for(2 * i as u64 + 1);
        let error = record.error.unwrap_or_default();
        assert!(error.contains(cause), "{path}: {error}");
        assert!(!error.contains('\n'), "one line: {error:?}");
        // Still serving.
        let hello = get(server.addr, "/hello");
        assert_eq!(hello.status, 200, "after {path}");
        server.access.wait_for(2 * i as u64 + 2);
    }
}

#[test]
fn a_handler_that_fails_after_its_head_breaks_off_the_body() {
    let server = Running::start(
        probe(),
        policy(&[]),
        config(Duration::from_secs(1), 32 * 1024 * 1024),
    );
    // The head and "first " go out, then the request timeout fires mid-body.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = http::Request::builder()
            .uri("/drip?ms=600000")
            .header("host", "probe")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        http_body_util::BodyExt::collect(resp.into_body()).await
    });
    assert!(outcome.is_err(), "the body must fail, not end: {outcome:?}");
    let record = server.access.wait_for(1);
    assert!(
        record
            .error
            .as_deref()
            .is_some_and(|e| e.contains("--request-timeout")),
        "{record:?}"
    );
}

#[test]
fn a_client_that_disconnects_cancels_its_handler_and_its_outbound_request() {
    let upstream = TestServer::http();
    let server = Running::start(
        probe(),
        policy(&[&upstream.base()]),
        config(Duration::from_secs(120), 32 * 1024 * 1024),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        let conn = tokio::spawn(conn);
        let req = http::Request::builder()
            .uri(format!("/fetch?url={}", upstream.url("/slow/600000")))
            .header("host", "probe")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let pending = tokio::spawn(async move { sender.send_request(req).await });
        // The handler's request is at the upstream: the handler is running.
        while upstream.stats().in_flight.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The client goes away.
        pending.abort();
        conn.abort();
    });
    // The aborted tasks (and their socket) go with the client's runtime.
    drop(rt);
    // The handler is cancelled, and with it its outbound request.
    let record = server.access.wait_for(1);
    assert!(
        record
            .error
            .as_deref()
            .is_some_and(|e| e.contains("client went away")),
        "{record:?}"
    );
    wait_until("the upstream request to be cancelled", || {
        (upstream.stats().in_flight.load(Ordering::SeqCst) == 0).then_some(())
    });
    let event = wait_until("the outbound event", || server.events().into_iter().next());
    assert_eq!(event.incoming.as_deref(), Some("GET /fetch #1"));
    assert_eq!(event.to_json()["error_kind"], "cancelled", "{event:?}");
    assert_eq!(get(server.addr, "/hello").status, 200);
}

#[test]
fn a_client_that_leaves_mid_body_is_recorded_and_its_handler_cancelled() {
    // One handler slot: while the dripping handler lives, nothing else is served.
    let mut one_slot = config(Duration::from_secs(120), 32 * 1024 * 1024);
    one_slot.limits.max_concurrent_handlers = 1;
    let server = Running::start(probe(), policy(&[]), one_slot);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = http::Request::builder()
            .uri("/drip?ms=600000")
            .header("host", "probe")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let mut body = resp.into_body();
        // The first part arrived: the handler is now waiting before the second.
        let first = http_body_util::BodyExt::frame(&mut body)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.into_data().unwrap(), "first ");
    });
    drop(rt);
    let record = server.access.wait_for(1);
    assert_eq!(record.status, 200);
    assert!(
        record
            .error
            .as_deref()
            .is_some_and(|e| e.contains("the client went away before the response ended")),
        "{record:?}"
    );
    // The handler was cancelled: its slot frees (it would otherwise sleep 600 s).
    wait_until("the handler slot to free", || {
        (get(server.addr, "/hello").status == 200).then_some(())
    });
}

#[test]
fn an_http2_stream_the_client_resets_cancels_its_handler() {
    let mut one_slot = config(Duration::from_secs(120), 32 * 1024 * 1024);
    one_slot.limits.max_concurrent_handlers = 1;
    let server = Running::start(probe(), policy(&[]), one_slot);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let req = http::Request::builder()
            .uri(format!("http://{}/sleep?ms=600000", server.addr))
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        // Dropping the response future resets the stream; the connection stays up.
        let pending = sender.send_request(req);
        let _ = tokio::time::timeout(Duration::from_millis(300), pending).await;
        let record = tokio::time::timeout(crate::support::BOUND, async {
            loop {
                if let Some(r) = server.access.0.lock().unwrap().first().cloned() {
                    break r;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the access record in time");
        assert!(
            record
                .error
                .as_deref()
                .is_some_and(|e| e.contains("client went away")),
            "{record:?}"
        );
    });
    drop(rt);
    // The handler was cancelled: its one slot frees.
    wait_until("the handler slot to free", || {
        (get(server.addr, "/hello").status == 200).then_some(())
    });
}
