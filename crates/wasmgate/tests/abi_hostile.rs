//! Hostile and careless guests calling the host ABI directly (hand-written WAT): every
//! bad argument gets its error code, the host never panics or hangs, and keeps serving
//! the next call.

#[path = "abi_hostile/reentry.rs"]
mod reentry;

use wasmgate::{GuestConfig, Runner, Stdio};
use wasmgate_policy::{AllowRule, Limits, Policy};
use wasmgate_test_support::TestServer;

const IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasmgate_http_v1" "version" (func $version (result i32)))
  (import "wasmgate_http_v1" "request_new" (func $request_new (param i32 i32 i32 i32) (result i32)))
  (import "wasmgate_http_v1" "request_header" (func $request_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmgate_http_v1" "request_option" (func $request_option (param i32 i32 i64) (result i32)))
  (import "wasmgate_http_v1" "request_send" (func $request_send (param i32 i32) (result i32)))
  (import "wasmgate_http_v1" "body_write" (func $body_write (param i32 i32 i32 i64) (result i32)))
  (import "wasmgate_http_v1" "body_finish" (func $body_finish (param i32) (result i32)))
  (import "wasmgate_http_v1" "poll" (func $poll (param i32 i32 i32 i64) (result i32)))
  (import "wasmgate_http_v1" "response_status" (func $response_status (param i32 i64) (result i32)))
  (import "wasmgate_http_v1" "response_headers" (func $response_headers (param i32 i32 i32) (result i32)))
  (import "wasmgate_http_v1" "body_read" (func $body_read (param i32 i32 i32 i64) (result i32)))
  (import "wasmgate_http_v1" "close" (func $close (param i32) (result i32)))
  (import "wasmgate_http_v1" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasmgate_http_v1" "fetch" (func $fetch (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
"#;

/// A module whose `_start` runs `body` (which leaves an i32 on the stack) and exits
/// with it: negative results exit with their magnitude, others with 100 + the value.
fn module(data: &str, extra: &str, body: &str) -> Vec<u8> {
    build("", data, extra, body)
}

fn build(import: &str, data: &str, extra: &str, body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module {import} {IMPORTS}
  (memory (export "memory") 1)
  {data}
  {extra}
  (func $report (param $v i32)
    (if (i32.lt_s (local.get $v) (i32.const 0))
      (then (call $proc_exit (i32.sub (i32.const 0) (local.get $v))))
      (else (call $proc_exit (i32.add (i32.const 100) (local.get $v))))))
  (func (export "_start") (local $h i32) (local $i i32) (local $r i32)
    {body}
    call $report))"#
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("bad test module: {e}\n{text}"))
}

/// Method "GET" at 0, URL at 16 (length in `url_len`).
fn data_with_url(url: &str) -> String {
    format!(r#"(data (i32.const 0) "GET") (data (i32.const 16) "{url}")"#)
}

struct Outcome {
    code: i32,
    stderr: String,
}

async fn run_with(bytes: &[u8], rules: &[String]) -> Outcome {
    let policy = Policy::new(
        rules.iter().map(|r| AllowRule::parse(r).unwrap()).collect(),
        vec![],
        Limits::default(),
    );
    let runner = Runner::builder().policy(policy).build().unwrap();
    let config = GuestConfig {
        stdio: Stdio::Capture,
        timeout: Some(std::time::Duration::from_secs(30)),
        ..GuestConfig::default()
    };
    let out = runner
        .run_bytes(bytes, "hostile.wasm", &config)
        .await
        .unwrap();
    Outcome {
        code: out
            .status
            .unwrap_or_else(|e| panic!("the guest must not trap: {e:?}")),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn run(bytes: &[u8]) -> i32 {
    run_with(bytes, &[]).await.code
}

fn url_len(url: &str) -> usize {
    url.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn version_is_one() {
    assert_eq!(run(&module("", "", "call $version")).await, 101);
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_bounds_and_overflowing_pointers() {
    let url = "http://127.0.0.1:9/";
    let d = data_with_url(url);
    let n = url_len(url);
    // URL pointer past the end of the 64 KiB memory.
    let body = format!(
        "(call $request_new (i32.const 0) (i32.const 3) (i32.const 65530) (i32.const {n}))"
    );
    assert_eq!(run(&module(&d, "", &body)).await, 2);
    // 0xFFFFFFF0 + 32 wraps around in 32 bits.
    let body = "(call $request_new (i32.const 0) (i32.const 3) (i32.const -16) (i32.const 32))";
    assert_eq!(run(&module(&d, "", body)).await, 2);
    // A negative length is a length of 4 GiB.
    let body = "(call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const -1))";
    assert_eq!(run(&module(&d, "", body)).await, 2);
    // In bounds but longer than any URL may be: refused before it is parsed.
    let body = "(call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 9000))";
    assert_eq!(run(&module(&d, "", body)).await, 5);
    // last_error into a buffer outside memory.
    let body =
        "(drop (call $close (i32.const 77))) (call $last_error (i32.const 70000) (i32.const 100))";
    assert_eq!(run(&module(&d, "", body)).await, 2);
    // poll with a handle array outside memory, and too many handles.
    let body = "(call $poll (i32.const 65535) (i32.const 4) (i32.const 0) (i64.const 0))";
    assert_eq!(run(&module(&d, "", body)).await, 2);
    let body = "(call $poll (i32.const 0) (i32.const 5000) (i32.const 0) (i64.const 0))";
    assert_eq!(run(&module(&d, "", body)).await, 11);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_strings_and_headers() {
    let d = r#"(data (i32.const 0) "GET") (data (i32.const 16) "http://\ff\fe/") (data (i32.const 64) "x-evil") (data (i32.const 80) "a\0d\0aInjected: 1") (data (i32.const 128) "host") (data (i32.const 160) "http://127.0.0.1:9/") (data (i32.const 200) "G T")"#;
    // Invalid UTF-8 in the URL.
    let body = "(call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 10))";
    assert_eq!(run(&module(d, "", body)).await, 3);
    // A method with a space.
    let body = "(call $request_new (i32.const 200) (i32.const 3) (i32.const 160) (i32.const 19))";
    assert_eq!(run(&module(d, "", body)).await, 4);
    let new = "(local.set $h (call $request_new (i32.const 0) (i32.const 3) (i32.const 160) (i32.const 19)))";
    // CR/LF in a header value.
    let body = format!(
        "{new} (call $request_header (local.get $h) (i32.const 64) (i32.const 6) (i32.const 80) (i32.const 14))"
    );
    assert_eq!(run(&module(d, "", &body)).await, 6);
    // The Host header is the host's business.
    let body = format!(
        "{new} (call $request_header (local.get $h) (i32.const 128) (i32.const 4) (i32.const 64) (i32.const 6))"
    );
    assert_eq!(run(&module(d, "", &body)).await, 7);
    // A relative URL.
    let body = "(call $request_new (i32.const 0) (i32.const 3) (i32.const 64) (i32.const 6))";
    assert_eq!(run(&module(d, "", body)).await, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_closed_and_double_closed_handles() {
    let url = "http://127.0.0.1:9/";
    let d = data_with_url(url);
    let n = url_len(url);
    let new = format!(
        "(local.set $h (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})))"
    );
    assert_eq!(
        run(&module(&d, "", "(call $close (i32.const 12345))")).await,
        1
    );
    assert_eq!(
        run(&module(
            &d,
            "",
            "(call $response_status (i32.const -5) (i64.const 0))"
        ))
        .await,
        1
    );
    let body = format!("{new} (drop (call $close (local.get $h))) (call $close (local.get $h))");
    assert_eq!(run(&module(&d, "", &body)).await, 1);
    let body = format!(
        "{new} (drop (call $close (local.get $h))) (call $request_send (local.get $h) (i32.const 0))"
    );
    assert_eq!(run(&module(&d, "", &body)).await, 1);
    // Wrong state: reading a response of a request that was never sent; writing a body
    // that was not announced; an unknown option; unknown send flags; bad timeouts.
    let body = format!("{new} (call $response_status (local.get $h) (i64.const 0))");
    assert_eq!(run(&module(&d, "", &body)).await, 9);
    let body = format!(
        "{new} (drop (call $request_send (local.get $h) (i32.const 0))) (call $body_write (local.get $h) (i32.const 0) (i32.const 3) (i64.const 0))"
    );
    // The request is denied (no rules) — the write reports either the denial or the state.
    let code = run(&module(&d, "", &body)).await;
    assert!(code == 9 || code == 20, "{code}");
    let body = format!("{new} (call $request_option (local.get $h) (i32.const 99) (i64.const 1))");
    assert_eq!(run(&module(&d, "", &body)).await, 11);
    let body = format!("{new} (call $request_send (local.get $h) (i32.const 6))");
    assert_eq!(run(&module(&d, "", &body)).await, 11);
    let body = format!(
        "{new} (drop (call $request_send (local.get $h) (i32.const 0))) (call $response_status (local.get $h) (i64.const -7))"
    );
    assert_eq!(run(&module(&d, "", &body)).await, 11);
}

#[tokio::test(flavor = "multi_thread")]
async fn exhausting_the_handle_table_then_recovering() {
    let url = "http://127.0.0.1:9/";
    let d = data_with_url(url);
    let n = url_len(url);
    let new =
        format!("(call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n}))");
    // Open 1024 handles, then one more fails; close one and the next succeeds.
    let body = format!(
        "(local.set $i (i32.const 0))
         (block $done (loop $more
           (local.set $h {new})
           (br_if $done (i32.lt_s (local.get $h) (i32.const 0)))
           (local.set $i (i32.add (local.get $i) (i32.const 1)))
           (br_if $more (i32.lt_u (local.get $i) (i32.const 2000)))))
         (if (i32.ne (local.get $i) (i32.const 1024)) (then (call $proc_exit (i32.const 70))))
         (if (i32.ne (local.get $h) (i32.const -8)) (then (call $proc_exit (i32.const 71))))
         (drop (call $close (i32.const 1)))
         {new}"
    );
    // Handles are never reused: the new one is 1026, reported as 100 + 1026 = exit 1126,
    // which Wasmtime refuses (>= 126); exit with "handle > 1024" instead.
    let body = format!(
        "{body} (i32.gt_s (i32.const 1024)) (if (result i32) (then (i32.const 5)) (else (i32.const -60)))"
    );
    assert_eq!(run(&module(&d, "", &body)).await, 105);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_request_reports_its_code_and_message() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let d = data_with_url(&url);
    let n = url_len(&url);
    let body = format!(
        "(local.set $h (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})))
         (drop (call $request_send (local.get $h) (i32.const 0)))
         (call $response_status (local.get $h) (i64.const -1))"
    );
    assert_eq!(run(&module(&d, "", &body)).await, 20);
    // The message is the same line a user sees, with the flag that would allow it.
    let print = format!(
        "(local.set $h (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})))
         (drop (call $request_send (local.get $h) (i32.const 0)))
         (drop (call $response_status (local.get $h) (i64.const -1)))
         (local.set $r (call $last_error (i32.const 1024) (i32.const 4096)))
         (i32.store (i32.const 512) (i32.const 1024))
         (i32.store (i32.const 516) (local.get $r))
         (drop (call $fd_write (i32.const 2) (i32.const 512) (i32.const 1) (i32.const 520)))
         (i32.const 0)"
    );
    let fd_write = r#"(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))"#;
    let bytes = module_with_import(&d, fd_write, &print);
    let out = run_with(&bytes, &[]).await;
    assert_eq!(out.code, 100);
    assert!(
        out.stderr
            .contains(&format!("to allow it, add: --allow {}", server.base())),
        "{}",
        out.stderr
    );
    assert_eq!(
        server
            .stats()
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

/// Like `module`, with an extra import placed before the others.
fn module_with_import(data: &str, import: &str, body: &str) -> Vec<u8> {
    build(import, data, "", body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_get_works_end_to_end() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let d = data_with_url(&url);
    let n = url_len(&url);
    // Read the body in 5-byte pieces and return the total (26 bytes).
    let body = format!(
        "(local.set $h (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})))
         (drop (call $request_send (local.get $h) (i32.const 0)))
         (if (i32.ne (call $response_status (local.get $h) (i64.const -1)) (i32.const 200))
           (then (call $proc_exit (i32.const 80))))
         (local.set $i (i32.const 0))
         (block $eof (loop $more
           (local.set $r (call $body_read (local.get $h) (i32.const 4096) (i32.const 5) (i64.const -1)))
           (br_if $eof (i32.le_s (local.get $r) (i32.const 0)))
           (local.set $i (i32.add (local.get $i) (local.get $r)))
           (br $more)))
         (drop (call $close (local.get $h)))
         (if (result i32) (i32.eq (local.get $i) (i32.const 26))
           (then (i32.const 0)) (else (i32.const -90)))"
    );
    assert_eq!(
        run_with(&module(&d, "", &body), &[server.base()])
            .await
            .code,
        100
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_checks_the_allocator() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let d = data_with_url(&url);
    let n = url_len(&url);
    let call = format!(
        "(call $fetch (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2048))"
    );
    let rules = [server.base()];
    // No allocator export.
    assert_eq!(run_with(&module(&d, "", &call), &rules).await.code, 13);
    // An allocator that returns a pointer outside memory.
    let garbage =
        r#"(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const -16))"#;
    assert_eq!(run_with(&module(&d, garbage, &call), &rules).await.code, 14);
    // An allocator that traps.
    let trapping = r#"(func (export "malloc") (param i32) (result i32) unreachable)"#;
    assert_eq!(
        run_with(&module(&d, trapping, &call), &rules).await.code,
        14
    );
    // A sane bump allocator: status 200, then the body length written at 2052.
    let bump = r#"(global $next (mut i32) (i32.const 8192))
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
        (global.get $next) (global.set $next (i32.add (global.get $next) (local.get 3))))"#;
    let checked = format!(
        "(local.set $r {call})
         (if (i32.ne (local.get $r) (i32.const 200)) (then (call $proc_exit (i32.const 82))))
         (if (i32.ne (i32.load (i32.const 2052)) (i32.const 26)) (then (call $proc_exit (i32.const 81))))
         (i32.const 0)"
    );
    assert_eq!(
        run_with(&module(&d, bump, &checked), &rules).await.code,
        100
    );
}

/// Sends GET `url` with `OPT_FOLLOW_REDIRECTS = follow`; exits with the status class
/// (100 + status / 100) or the error code.
fn redirect_module(url: &str, follow: i64) -> Vec<u8> {
    let d = data_with_url(url);
    let n = url_len(url);
    let body = format!(
        "(local.set $h (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})))
         (drop (call $request_option (local.get $h) (i32.const 4) (i64.const {follow})))
         (drop (call $request_send (local.get $h) (i32.const 0)))
         (local.set $r (call $response_status (local.get $h) (i64.const -1)))
         (if (result i32) (i32.lt_s (local.get $r) (i32.const 0))
           (then (local.get $r))
           (else (i32.div_u (local.get $r) (i32.const 100))))"
    );
    module(&d, "", &body)
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_only_on_request_and_rechecked_every_hop() {
    let server = TestServer::http();
    let other = TestServer::http();
    let rules = [server.base()];
    let local = server.url("/redirect/302?to=/hello");
    // Not followed by default: the guest sees the 3xx.
    assert_eq!(
        run_with(&redirect_module(&local, 0), &rules).await.code,
        103
    );
    // Followed when asked: 2xx.
    assert_eq!(
        run_with(&redirect_module(&local, 3), &rules).await.code,
        102
    );
    // A hop to a destination the rules do not allow is denied (-20 → exit 20), and the
    // other server never sees a connection.
    let away = server.url(&format!("/redirect/307?to={}", other.url("/hello")));
    let out = run_with(&redirect_module(&away, 3), &rules).await;
    assert_eq!(out.code, 20);
    assert_eq!(
        other
            .stats()
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    // Three redirects in a row with two allowed (-34 → exit 34); three allowed is fine.
    let chain = server.url("/redirect/302?to=/redirect/301?to=/redirect/308?to=/hello");
    assert_eq!(run_with(&redirect_module(&chain, 2), &rules).await.code, 34);
    assert_eq!(
        run_with(&redirect_module(&chain, 3), &rules).await.code,
        102
    );
}

#[derive(Default)]
struct Events(std::sync::Mutex<Vec<wasmgate::RequestEvent>>);

impl wasmgate::EventSink for Events {
    fn on_request(&self, e: &wasmgate::RequestEvent) {
        self.0.lock().unwrap().push(e.clone());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_a_handle_cancels_the_request_and_logs_it() {
    let server = TestServer::http();
    let url = server.url("/slow/3000");
    let d = data_with_url(&url);
    let n = url_len(&url);
    let body = format!(
        "(local.set $h (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})))
         (drop (call $request_send (local.get $h) (i32.const 0)))
         (local.set $r (call $response_status (local.get $h) (i64.const 300)))
         (if (i32.ne (local.get $r) (i32.const -10)) (then (call $proc_exit (i32.const 83))))
         (call $close (local.get $h))"
    );
    let events = std::sync::Arc::new(Events::default());
    let policy = Policy::new(
        vec![AllowRule::parse(&server.base()).unwrap()],
        vec![],
        Limits::default(),
    );
    let runner = Runner::builder()
        .policy(policy)
        .event_sink(events.clone())
        .build()
        .unwrap();
    let config = GuestConfig {
        stdio: Stdio::Capture,
        ..GuestConfig::default()
    };
    let started = std::time::Instant::now();
    let out = runner
        .run_bytes(&module(&d, "", &body), "cancel.wasm", &config)
        .await
        .unwrap();
    assert_eq!(out.status.unwrap(), 100);
    // The run did not wait for the 3 s answer.
    assert!(started.elapsed() < std::time::Duration::from_millis(2500));
    let events = events.0.lock().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.decision, wasmgate::Decision::Allowed);
    assert_eq!(e.origin, wasmgate::Origin::HostAbi);
    let err = e
        .error
        .as_ref()
        .expect("a cancelled request carries an error");
    assert_eq!(err.kind(), wasmgate::OutboundErrorKind::Cancelled);
    // Closed by the guest before it exited: the guest's doing, not the run's end.
    assert_eq!(
        err.cancellation(),
        Some(wasmgate::Cancellation::ByGuest),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn poll_waits_only_for_the_bits_asked_for() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let d = data_with_url(&url);
    let n = url_len(&url);
    // After the head arrived: asking only for READY_WRITE (4) on a request without a
    // streamed body finds nothing within 50 ms; asking for anything (0) finds it ready.
    let body = format!(
        "(local.set $h (call $request_new (i32.const 0) (i32.const 3) (i32.const 16) (i32.const {n})))
         (drop (call $request_send (local.get $h) (i32.const 0)))
         (drop (call $response_status (local.get $h) (i64.const -1)))
         (i32.store (i32.const 3000) (local.get $h))
         (i32.store8 (i32.const 3100) (i32.const 4))
         (if (i32.ne (call $poll (i32.const 3000) (i32.const 1) (i32.const 3100) (i64.const 50)) (i32.const 0))
           (then (call $proc_exit (i32.const 84))))
         (i32.store8 (i32.const 3100) (i32.const 0))
         (if (i32.ne (call $poll (i32.const 3000) (i32.const 1) (i32.const 3100) (i64.const 50)) (i32.const 1))
           (then (call $proc_exit (i32.const 85))))
         (i32.load8_u (i32.const 3100))"
    );
    // READY_RESPONSE | READY_BODY = 3.
    assert_eq!(
        run_with(&module(&d, "", &body), &[server.base()])
            .await
            .code,
        103
    );
}
