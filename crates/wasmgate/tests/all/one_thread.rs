//! Runs on a current-thread runtime, as `wasmgate run` does (the guest, its connections
//! and its timers share one thread): a guest waiting in the host never holds up another
//! guest on the same thread, and every limit and timeout still fires.

use super::harness::*;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use wasmgate::{Cancellation, Decision, GuestConfig, Runner, Stdio};
use wasmgate_policy::{AllowRule, Limits, Policy};

/// How long the held request waits at the server: far longer than any test here runs,
/// so that it can only end because the test ended it.
const HELD_MS: u64 = 600_000;

fn runner(rule: &str, limits: Limits, events: Arc<Collect>) -> Runner {
    Runner::builder()
        .cache_dir(wasmgate_test_support::test_cache_dir())
        .policy(Policy::new(
            vec![AllowRule::parse(rule).unwrap()],
            vec![],
            limits,
        ))
        .event_sink(events)
        .build()
        .expect("runner")
}

fn config(args: &[&str], timeout: Duration) -> GuestConfig {
    GuestConfig {
        program_name: "guest.wasm".into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdio: Stdio::Capture,
        timeout: Some(timeout),
        ..GuestConfig::default()
    }
}

fn rust_core() -> std::path::PathBuf {
    wasmgate_test_support::rust_guest::rust_guest("rust-guest-client", "wasm32-wasip1")
}

/// Guest `held` waits (`get`) on a response that does not come while guest `busy` makes
/// 20 requests (`bench`) to another server on the same thread; `busy` must finish while
/// `held` is still waiting (the slow server still has its request in flight).
async fn held_does_not_stall_busy(held: &Path, busy: &Path) {
    let slow = TestServer::http();
    let fast = TestServer::http();
    let held_events = Arc::new(Collect::default());
    let held_runner = runner(&slow.base(), Limits::default(), held_events.clone());
    let busy_runner = runner(
        &fast.base(),
        Limits::default(),
        Arc::new(Collect::default()),
    );
    let held_config = config(
        &["get", &slow.url(&format!("/slow/{HELD_MS}"))],
        Duration::from_millis(HELD_MS),
    );
    let busy_config = config(
        &["bench", &fast.url("/bytes/1024"), "20"],
        Duration::from_secs(120),
    );

    // Boxed, so that dropping it below really drops the run.
    let mut held_run = Box::pin(held_runner.run_file(held, &held_config));
    let busy_outcome = tokio::select! {
        outcome = &mut held_run => {
            panic!("the held guest ended first: {:?}", outcome.map(|o| o.status))
        }
        outcome = busy_runner.run_file(busy, &busy_config) => outcome.expect("busy guest links"),
    };
    let stdout = String::from_utf8_lossy(&busy_outcome.stdout);
    assert!(
        matches!(busy_outcome.status, Ok(0)),
        "{:?}\n{stdout}\n{}",
        busy_outcome.status,
        String::from_utf8_lossy(&busy_outcome.stderr)
    );
    assert!(stdout.contains("ok: 20\n"), "{stdout}");
    assert_eq!(fast.stats().requests.load(Ordering::SeqCst), 20);
    // The held guest's request is still at the server: it was waiting all along.
    assert_eq!(slow.stats().in_flight.load(Ordering::SeqCst), 1);
    assert!(held_events.0.lock().unwrap().is_empty());

    // Dropping the run cancels it: its request is reported once, as cancelled.
    drop(held_run);
    for _ in 0..200 {
        if !held_events.0.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let events = held_events.0.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].decision, Decision::Allowed);
    let error = events[0].error.as_ref().expect("an error");
    assert!(error.cancellation().is_some(), "{error}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_component_waiting_on_a_response_does_not_stall_a_core_module() {
    held_does_not_stall_busy(&guest(Guest::HttpClient), &rust_core()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_core_module_waiting_on_a_response_does_not_stall_a_component() {
    held_does_not_stall_busy(&rust_core(), &guest(Guest::HttpClient)).await;
}

#[tokio::test(flavor = "current_thread")]
async fn limits_and_the_run_timeout_fire_on_one_thread() {
    let server = TestServer::http();
    let slow_url = server.url(&format!("/slow/{HELD_MS}"));

    // The first-byte limit, enforced by a timer on the guest's own thread.
    let events = Arc::new(Collect::default());
    let limits = Limits {
        first_byte_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let outcome = runner(&server.base(), limits, events.clone())
        .run_file(
            &guest(Guest::HttpClient),
            &config(&["get", &slow_url], Duration::from_secs(120)),
        )
        .await
        .expect("links");
    assert!(matches!(outcome.status, Ok(1)), "{:?}", outcome.status);
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    assert!(stderr.contains("error: HttpResponseTimeout"), "{stderr}");
    let error = events.0.lock().unwrap()[0]
        .error
        .as_ref()
        .unwrap()
        .to_string();
    assert!(error.contains("--first-byte-timeout"), "{error}");

    // The run's own timeout stops a guest blocked in the host, on both kinds.
    for (wasm, args) in [
        (guest(Guest::HttpClient), vec!["get", &slow_url]),
        (rust_core(), vec!["get", &slow_url]),
    ] {
        let events = Arc::new(Collect::default());
        let outcome = runner(&server.base(), Limits::default(), events.clone())
            .run_file(&wasm, &config(&args, Duration::from_millis(500)))
            .await
            .expect("links");
        for i in 0..40 {
            if !events.0.lock().unwrap().is_empty() {
                eprintln!("DEBUG after {i}00ms");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("DEBUG stderr {}", String::from_utf8_lossy(&outcome.stderr));
        let err = outcome.status.expect_err("timed out");
        assert_eq!(err.kind(), wasmgate::ErrorKind::Timeout, "{err}");
        let events = events.0.lock().unwrap().clone();
        assert_eq!(events.len(), 1, "{events:?}");
        let cancellation = events[0].error.as_ref().and_then(|e| e.cancellation());
        assert_eq!(cancellation, Some(Cancellation::TimedOut), "{events:?}");
    }
}
