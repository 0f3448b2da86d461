//! The C guest header (`guest/c/wasmgate_http.h`) against real servers on 127.0.0.1: C
//! programs built with clang for `wasm32-wasi` make HTTP requests through the host ABI,
//! run through the library with a policy, captured stdio and collected events. The
//! `hostile` program calls the ABI with bad arguments and checks every code.

mod common;
use common::*;
use std::sync::atomic::Ordering;
use wasmgate::{Decision, Origin};
use wasmgate_test_support::TestServer;
use wasmgate_test_support::c::c_guest;

impl Run {
    async fn c(self, program: &str, args: &[&str]) -> Ran {
        let program = program.to_string();
        let wasm = tokio::task::spawn_blocking(move || c_guest(&program))
            .await
            .unwrap();
        self.run(&wasm, args).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn get_returns_status_headers_and_body() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .c("httpclient", &["get", &server.url("/hello")])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("header: content-length: 26")
        .has_line("body-bytes: 26");
    assert_eq!(ran.body(), "hello from the test server");
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    let e = &ran.events[0];
    assert_eq!(e.origin, Origin::HostAbi);
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.status, Some(200));
    assert_eq!(e.bytes_in, 26);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_works() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .c("get", &[&server.url("/hello")])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("hello from the test server");
}

#[tokio::test(flavor = "multi_thread")]
async fn post_streams_a_body_and_gets_it_echoed() {
    let server = TestServer::http();
    let size = 3 * 1024 * 1024 + 7;
    let ran = Run::allow(server.base())
        .c(
            "httpclient",
            &["post", &server.url("/echo"), &size.to_string()],
        )
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

#[tokio::test(flavor = "multi_thread")]
async fn headers_travel_both_ways() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .c("httpclient", &["headers", &server.url("/headers")])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("header: x-test-reply: yes");
    let sent: Vec<&str> = ran.body().lines().collect();
    assert!(sent.contains(&"x-from-guest: 42"), "{sent:?}");
    assert!(
        sent.contains(&format!("host: {}", server.addr()).as_str()),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_response_streams_in_bounded_memory() {
    let server = TestServer::http();
    let size: u64 = 100 * 1024 * 1024 + 13;
    // A guest that buffered the body would need more memory than this and trap.
    let ran = Run::allow(server.base())
        .max_memory(64 * 1024 * 1024)
        .c(
            "httpclient",
            &["download", &server.url(&format!("/chunked/{size}"))],
        )
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line(&format!("body-bytes: {size}"));
    assert_eq!(ran.events[0].bytes_in, size);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_request_reports_the_code_and_the_hosts_message() {
    let server = TestServer::http();
    let ran = Run::deny_all()
        .c("httpclient", &["get", &server.url("/hello")])
        .await;
    ran.failed();
    let line = ran
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{}", ran.stderr));
    assert!(line.starts_with("error: -20 denied GET "), "{line}");
    assert!(
        line.contains(&format!("--allow {}", server.base())),
        "the message should name the flag: {line}"
    );
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 0);
    assert_eq!(ran.events.len(), 1);
    assert_eq!(ran.events[0].decision, Decision::Denied);
}

/// Every case of `hostile.c` and the code docs/abi.md specifies for it.
const HOSTILE_CASES: &[(&str, i32)] = &[
    ("version", 1),
    ("url_out_of_bounds", -2),
    ("url_len_overflow", -2),
    ("method_negative_len", -2),
    ("last_error_out_of_bounds", -2),
    ("url_bad_utf8", -3),
    ("method_bad_utf8", -3),
    ("method_not_a_token", -4),
    ("url_not_http", -5),
    ("url_relative", -5),
    ("header_crlf_value", -6),
    ("header_lf_value", -6),
    ("header_nul_value", -6),
    ("header_bad_name", -6),
    ("header_empty_name", -6),
    ("header_forbidden_host", -7),
    ("header_forbidden_host_upper", -7),
    ("header_forbidden_connection", -7),
    ("header_forbidden_transfer_encoding", -7),
    ("header_value_out_of_bounds", -2),
    ("header_ok", 0),
    ("option_unknown", -11),
    ("option_zero_timeout", -11),
    ("option_negative_timeout", -11),
    ("option_redirects_21", -11),
    ("option_ok", 0),
    ("status_before_send", -9),
    ("send_bad_flags", -11),
    ("close", 0),
    ("double_close", -1),
    ("header_after_close", -1),
    ("unknown_handle_header", -1),
    ("unknown_handle_send", -1),
    ("unknown_handle_status", -1),
    ("unknown_handle_close", -1),
    ("zero_handle_close", -1),
    ("negative_handle_close", -1),
    ("send", 0),
    ("send_twice", -9),
    ("header_after_send", -9),
    ("option_after_send", -9),
    ("body_write_without_stream", -9),
    ("body_finish_without_stream", -9),
    ("status_bad_timeout", -11),
    ("body_read_zero_cap", -11),
    ("body_read_out_of_bounds", -2),
    ("status", 200),
    ("headers_small_buffer_untouched", 0),
    ("header_not_found", -12),
    ("header_bad_index", -12),
    ("send_stream", 0),
    ("body_write_out_of_bounds", -2),
    ("body_finish", 0),
    ("body_finish_twice", -9),
    ("body_write_after_finish", -9),
    ("poll_closed_handles", 2),
    ("poll_ready_bits", 0),
    ("poll_too_many", -11),
    ("poll_negative_count", -11),
    ("poll_bad_timeout", -11),
    ("poll_out_of_bounds", -2),
    ("poll_sleep", 0),
    ("fetch_no_allocator", -13),
    ("last_error_nonempty", 0),
    ("too_many_handles", -8),
    ("handle_after_closing_all", 0),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_guest_gets_error_codes_and_the_host_survives() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .c("hostile", &[&server.url("/hello")])
        .await;
    let got: Vec<(&str, i32)> = ran
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("case "))
        .map(|l| {
            let (name, code) = l.split_once(": ").expect("case line");
            (name, code.parse().expect("case code"))
        })
        .collect();
    let mut wrong = Vec::new();
    for (name, expected) in HOSTILE_CASES {
        match got.iter().find(|(n, _)| n == name) {
            Some((_, code)) if code == expected => {}
            Some((_, code)) => wrong.push(format!("{name}: got {code}, expected {expected}")),
            None => wrong.push(format!("{name}: missing")),
        }
    }
    for (name, _) in &got {
        assert!(
            HOSTILE_CASES.iter().any(|(n, _)| n == name),
            "case {name} has no expectation"
        );
    }
    assert!(
        wrong.is_empty(),
        "hostile cases with the wrong code:\n  {}\nstdout:\n{}\nstderr:\n{}",
        wrong.join("\n  "),
        ran.stdout,
        ran.stderr
    );
    ran.ok()
        .has_line("opened: 1024")
        .has_line("final: status 200")
        .has_line("final-body-bytes: 26");
}
