//! Per-request limits set on the command line: each one stops the request, the guest
//! sees the matching error code and stderr names the flag that raises it.

use crate::support::*;
use std::time::Duration;

#[test]
fn max_response_body() {
    let server = TestServer::http();
    let url = server.url("/bytes/100000");
    let run = wasmgate([
        "run",
        "--max-response-body",
        "1KiB",
        "--allow",
        &server.base(),
        &http_client(),
        "download",
        &url,
    ]);
    run.expect_code(1)
        .stderr_has("error: HttpResponseBodySize")
        .stderr_has(&format!(
            "wasmgate: GET {url} stopped: response body size limit of 1 KiB reached; raise it with --max-response-body"
        ))
        .stdout_lacks("body-bytes: 100000");

    // Raising it lets the same download through.
    wasmgate([
        "run",
        "--max-response-body",
        "1MiB",
        "--allow",
        &server.base(),
        &http_client(),
        "download",
        &url,
    ])
    .expect_code(0)
    .stdout_has("body-bytes: 100000");
}

#[test]
fn first_byte_timeout() {
    let server = TestServer::http();
    let url = server.url("/slow/2000");
    let run = wasmgate([
        "run",
        "--first-byte-timeout",
        "200ms",
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &url,
    ]);
    run.expect_code(1)
        .stderr_has("error: HttpResponseTimeout")
        .stderr_has(&format!("wasmgate: GET {url} stopped: first-byte timeout limit of 200ms reached; raise it with --first-byte-timeout"))
        .stdout_lacks("status:");
    assert!(
        run.elapsed < Duration::from_millis(1900),
        "the request waited for the slow server: {:?}",
        run.elapsed
    );
}

#[test]
fn between_bytes_timeout() {
    let server = TestServer::http();
    let url = server.url("/stall/2000");
    let run = wasmgate([
        "run",
        "--between-bytes-timeout",
        "200ms",
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &url,
    ]);
    run.expect_code(1)
        .stdout_has("status: 200\n")
        .stderr_has(&format!("wasmgate: GET {url} stopped: between-bytes timeout limit of 200ms reached; raise it with --between-bytes-timeout"));
    assert!(!run.stdout.contains("firstlater"), "{}", run.stdout);
}

#[test]
fn max_requests() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let run = wasmgate([
        "run",
        "--max-requests",
        "2",
        "--allow",
        &server.base(),
        &http_client(),
        "seq",
        &url,
        "5",
    ]);
    run.expect_code(1)
        .stdout_has("ok: 2\n")
        .stderr_has(&format!("wasmgate: GET {url} stopped: requests-per-run limit of 2 reached; raise it with --max-requests"));
    assert_eq!(requests(&server), 2, "the third request was not sent");
}

#[test]
fn max_request_body() {
    let server = TestServer::http();
    let url = server.url("/sink");
    let run = wasmgate([
        "run",
        "--max-request-body",
        "1KiB",
        "--allow",
        &server.base(),
        &http_client(),
        "post",
        &url,
        "10000",
        "--content-length",
    ]);
    run.expect_code(1)
        .stderr_has("error: HttpRequestBodySize(Some(1024))")
        .stderr_has(&format!("wasmgate: POST {url} stopped: request body size limit of 1 KiB reached; raise it with --max-request-body"))
        .stdout_lacks("received 10000");
    assert!(
        server
            .stats()
            .body_bytes
            .load(std::sync::atomic::Ordering::SeqCst)
            <= 1024,
        "no more than the limit reached the server"
    );

    // Streamed without content-length: stopped once the limit is crossed.
    let run = wasmgate([
        "run",
        "--max-request-body",
        "1KiB",
        "--allow",
        &server.base(),
        &http_client(),
        "post",
        &url,
        "10000",
        "100",
    ]);
    run.expect_code(1)
        .stderr_has("error: HttpRequestBodySize")
        .stderr_has("--max-request-body")
        .stdout_lacks("received 10000");
}

/// A limit hit in the middle of a body reaches a wasi:http guest as its error code
/// (wasmgate's `http-error-code`). Even with RUST_BACKTRACE=1 in the environment, the
/// guest's output carries no host backtrace.
#[test]
fn mid_body_errors_show_the_guest_no_host_backtrace() {
    let server = TestServer::http();
    let url = server.url("/chunked/100000");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasmgate"))
        .args([
            "run",
            "--max-response-body",
            "1KiB",
            "--allow",
            &server.base(),
        ])
        .arg(http_client())
        .args(["download", &url])
        .env("RUST_BACKTRACE", "1")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("run wasmgate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l == "error: HttpResponseBodySize(Some(1024))"),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");
}

/// The audit log's `bytes_in` is what the guest received: with the limit hit mid-body
/// (no `content-length`), exactly the limit; within the limit, the whole body.
#[test]
fn audit_bytes_in_is_what_the_guest_received() {
    const LIMIT: u64 = 1024 * 1024;
    let server = TestServer::http();
    for (size, code) in [(3 * LIMIT, 1), (100_000, 0)] {
        let dir = TempDir::new();
        let log = dir.path().join("audit.jsonl");
        let url = server.url(&format!("/chunked/{size}"));
        let run = wasmgate([
            "run",
            "--max-response-body",
            "1M",
            "--audit-log",
            log.to_str().unwrap(),
            "--allow",
            &server.base(),
            &http_client(),
            "download",
            &url,
        ]);
        run.expect_code(code);
        let got = size.min(LIMIT);
        run.stdout_has(&format!("body-bytes: {got}\n"));
        let text = std::fs::read_to_string(&log).expect("audit log written");
        let record: serde_json::Value = serde_json::from_str(text.trim()).expect("one record");
        assert_eq!(record["bytes_in"], got, "{text}");
    }
}
