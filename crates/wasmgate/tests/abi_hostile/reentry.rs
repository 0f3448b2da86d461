//! Guests whose allocator, called by the host during `fetch`, calls the ABI again: every
//! such call fails at once with `ERR_REENTRANT` (-15), the outer `fetch` completes, no
//! nested request reaches the network, and `--timeout` still ends the run on time.

use super::{build, data_with_url, run_with};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use wasmgate::{ErrorKind, GuestConfig, Runner, Stdio};
use wasmgate_policy::{AllowRule, Limits, Policy};
use wasmgate_test_support::TestServer;

const ERR_REENTRANT: i32 = -15;

/// How much the test process may grow while a re-entering guest runs. Before the fix
/// each nested `fetch` kept a fiber stack and a request alive, hundreds of MB in a few
/// seconds; a bounded run needs a few MB, and this leaves room for tests running
/// alongside in the same process.
const MAX_RSS_GROWTH_MB: u64 = 100;

/// Slack on top of the timeout: the epoch ticks every 10 ms, and a loaded CI machine
/// may be slow to schedule; being late by seconds is the bug.
const TIMEOUT_SLACK: Duration = Duration::from_secs(2);

/// The extra imports (not in `IMPORTS`) the tests below call.
const MORE_IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasmgate_http_v1" "response_version" (func $response_version (param i32) (result i32)))
  (import "wasmgate_http_v1" "response_header" (func $response_header (param i32 i32 i32 i32 i32 i32) (result i32)))
"#;

/// `fetch` of the URL at 16 (method at 0), result at 2048.
fn fetch_call(n: usize) -> String {
    format!(
        "(call $fetch (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2048))"
    )
}

/// A bump allocator at 8192 that runs `inner` first.
fn allocator(inner: &str) -> String {
    format!(
        r#"(global $next (mut i32) (i32.const 8192))
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
        {inner}
        (global.get $next) (global.set $next (i32.add (global.get $next) (local.get 3))))"#
    )
}

fn resident_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allocator_calling_fetch_gets_err_reentrant_and_the_outer_fetch_completes() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let n = url.len();
    let d = data_with_url(&url);
    // The nested result goes to 4000; the outer fetch must still deliver the 26-byte body.
    let alloc = allocator(&format!("(i32.store (i32.const 4000) {})", fetch_call(n)));
    let body = format!(
        "(local.set $r {fetch})
         (if (i32.ne (local.get $r) (i32.const 200)) (then (call $proc_exit (i32.const 82))))
         (if (i32.ne (i32.load (i32.const 2052)) (i32.const 26)) (then (call $proc_exit (i32.const 81))))
         (if (i32.ne (i32.load (i32.const 4000)) (i32.const {ERR_REENTRANT})) (then (call $proc_exit (i32.const 83))))
         ;; last_error says why, for a guest library to show.
         (local.set $r (call $last_error (i32.const 1024) (i32.const 4096)))
         (i32.store (i32.const 512) (i32.const 1024))
         (i32.store (i32.const 516) (local.get $r))
         (drop (call $fd_write (i32.const 2) (i32.const 512) (i32.const 1) (i32.const 520)))
         (i32.const 0)",
        fetch = fetch_call(n)
    );
    let out = run_with(&build(MORE_IMPORTS, &d, &alloc, &body), &[server.base()]).await;
    assert_eq!(out.code, 100, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("fetch: called from inside the guest's allocator"),
        "{}",
        out.stderr
    );
    // Only the outer request reached the server.
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allocator_calling_any_other_abi_function_is_refused_and_changes_nothing() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let n = url.len();
    let d = data_with_url(&url);
    // Handle 1 is a real request being built, so a refusal is not a bad-handle error.
    // Results land at 4000 + 4 * i.
    let calls = [
        "(call $version)".to_string(),
        format!("(call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n}))"),
        "(call $request_header (i32.const 1) (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 3))".into(),
        "(call $request_option (i32.const 1) (i32.const 4) (i64.const 1))".into(),
        "(call $request_send (i32.const 1) (i32.const 0))".into(),
        "(call $body_write (i32.const 1) (i32.const 0) (i32.const 3) (i64.const 0))".into(),
        "(call $body_finish (i32.const 1))".into(),
        "(call $poll (i32.const 3000) (i32.const 1) (i32.const 3100) (i64.const -1))".into(),
        "(call $response_status (i32.const 1) (i64.const -1))".into(),
        "(call $response_version (i32.const 1))".into(),
        "(call $response_headers (i32.const 1) (i32.const 5000) (i32.const 100))".into(),
        "(call $response_header (i32.const 1) (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 5000) (i32.const 100))".into(),
        "(call $body_read (i32.const 1) (i32.const 5000) (i32.const 100) (i64.const -1))".into(),
        "(call $close (i32.const 1))".into(),
        "(call $last_error (i32.const 5000) (i32.const 100))".into(),
    ];
    let inner: String = calls
        .iter()
        .enumerate()
        .map(|(i, call)| format!("(i32.store (i32.const {}) {call})\n", 4000 + 4 * i))
        .collect();
    let count = calls.len();
    let body = format!(
        "(i32.store (i32.const 3000) (i32.const 1))
         (if (i32.ne (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})) (i32.const 1))
           (then (call $proc_exit (i32.const 80))))
         (if (i32.ne {fetch} (i32.const 200)) (then (call $proc_exit (i32.const 82))))
         (local.set $i (i32.const 0))
         (loop $each
           (if (i32.ne (i32.load (i32.add (i32.const 4000) (i32.shl (local.get $i) (i32.const 2)))) (i32.const {ERR_REENTRANT}))
             ;; exit 20 + the index of the call that was not refused
             (then (call $proc_exit (i32.add (i32.const 20) (local.get $i)))))
           (local.set $i (i32.add (local.get $i) (i32.const 1)))
           (br_if $each (i32.lt_u (local.get $i) (i32.const {count}))))
         ;; Handle 1 is untouched and still being built; the refused request_new took no
         ;; handle number; outside the callback every call works again.
         (if (i32.ne (call $request_option (i32.const 1) (i32.const 4) (i64.const 1)) (i32.const 0))
           (then (call $proc_exit (i32.const 84))))
         (if (i32.ne (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})) (i32.const 2))
           (then (call $proc_exit (i32.const 85))))
         (if (i32.ne (call $version) (i32.const 1)) (then (call $proc_exit (i32.const 86))))
         (call $close (i32.const 1))",
        fetch = fetch_call(n)
    );
    let out = run_with(
        &build(MORE_IMPORTS, &d, &allocator(&inner), &body),
        &[server.base()],
    )
    .await;
    assert_eq!(out.code, 100, "{}", out.stderr);
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_inside_the_allocator_ends_the_run() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let d = data_with_url(&url);
    let alloc = allocator("(call $proc_exit (i32.const 42))");
    let out = run_with(
        &build("", &d, &alloc, &fetch_call(url.len())),
        &[server.base()],
    )
    .await;
    assert_eq!(
        out.code, 42,
        "exit is not a failed allocation: {}",
        out.stderr
    );
}

/// Runs `bytes` with a `timeout`; returns how it ended and how long it took.
async fn run_timed(
    bytes: &[u8],
    rules: &[String],
    timeout: Duration,
) -> (Result<i32, wasmgate::Error>, Duration) {
    let policy = Policy::new(
        rules.iter().map(|r| AllowRule::parse(r).unwrap()).collect(),
        vec![],
        Limits::default(),
    );
    let runner = Runner::builder().policy(policy).build().unwrap();
    let config = GuestConfig {
        stdio: Stdio::Capture,
        timeout: Some(timeout),
        ..GuestConfig::default()
    };
    let started = Instant::now();
    let out = runner
        .run_bytes(bytes, "reenter.wasm", &config)
        .await
        .unwrap();
    (out.status, started.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_reentering_in_a_loop_is_stopped_on_time_with_bounded_memory() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let n = url.len();
    let d = data_with_url(&url);
    let timeout = Duration::from_secs(2);
    let rss_before = resident_mb();
    // The allocator never returns: it calls fetch forever, each call refused at once,
    // so the host never waits on anything the run's tokio timeout could interrupt.
    let spinning = allocator(&format!(
        "(loop $again (drop {}) (br $again))",
        fetch_call(n)
    ));
    let (status, took) = run_timed(
        &build("", &d, &spinning, &fetch_call(n)),
        &[server.base()],
        timeout,
    )
    .await;
    let err = status.expect_err("the run must time out");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(took < timeout + TIMEOUT_SLACK, "took {took:?}");
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 1);

    // The outer loop this time: fetch after fetch, each allocator call re-entering once.
    let once = allocator(&format!("(drop {})", fetch_call(n)));
    let looping = format!(
        "(loop $again (drop {}) (br $again)) (i32.const 0)",
        fetch_call(n)
    );
    let (status, took) =
        run_timed(&build("", &d, &once, &looping), &[server.base()], timeout).await;
    let err = status.expect_err("the run must time out");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(took < timeout + TIMEOUT_SLACK, "took {took:?}");
    let grew = resident_mb().saturating_sub(rss_before);
    assert!(grew < MAX_RSS_GROWTH_MB, "grew by {grew} MB");
}
