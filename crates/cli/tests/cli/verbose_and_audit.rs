//! `-v` request lines and the `--audit-log` JSONL file.

use crate::support::*;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Keys every audit line has (absent values are null), per docs/audit-log.md.
const KEYS: [&str; 16] = [
    "time_unix_ms",
    "origin",
    "method",
    "url",
    "decision",
    "rule",
    "addr",
    "status",
    "bytes_in",
    "bytes_out",
    "duration_ms",
    "error",
    "error_kind",
    "proxy",
    "injected",
    "replaced",
];

/// Parses every line of the audit log; panics on a line that is not a JSON object
/// with every documented key.
fn audit_lines(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("audit log written");
    assert!(text.ends_with('\n'), "log ends with a newline: {text:?}");
    text.lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            let obj = v
                .as_object()
                .unwrap_or_else(|| panic!("not an object: {l}"));
            for k in KEYS {
                assert!(obj.contains_key(k), "key {k} missing: {l}");
            }
            v
        })
        .collect()
}

/// Parses `…, N B in, M B out, T ms…` out of a verbose line.
fn verbose_numbers(line: &str) -> (u64, u64, u64) {
    let after = line.split(" -> ").nth(1).expect("-> in verbose line");
    let parts: Vec<&str> = after.split(", ").collect();
    let num = |s: &str, suffix: &str| -> u64 {
        s.strip_suffix(suffix)
            .unwrap_or_else(|| panic!("{s:?} lacks {suffix:?} in {line:?}"))
            .parse()
            .unwrap_or_else(|_| panic!("bad number in {line:?}"))
    };
    let ms = parts[3].split(' ').next().unwrap();
    (
        num(parts[1], " B in"),
        num(parts[2], " B out"),
        ms.parse().unwrap(),
    )
}

#[test]
fn verbose_prints_one_line_per_request() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let run = wasmgate([
        "run",
        "-v",
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &url,
    ]);
    run.expect_code(0);
    let lines = run.stderr_lines_starting("wasmgate: ");
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    let line = lines[0];
    assert!(
        line.starts_with(&format!("wasmgate: allowed GET {url} -> 200, ")),
        "{line}"
    );
    let (bytes_in, bytes_out, _ms) = verbose_numbers(line);
    assert_eq!(bytes_in, HELLO_BODY.len() as u64, "{line}");
    assert_eq!(bytes_out, 0, "{line}");
    assert!(line.contains(" ms"), "{line}");
    assert!(
        line.ends_with(&format!("(rule {})", server.base())),
        "{line}"
    );
}

#[test]
fn verbose_counts_request_body_bytes() {
    let server = TestServer::http();
    let url = server.url("/sink");
    let run = wasmgate([
        "run",
        "--verbose",
        "--allow",
        &server.base(),
        &http_client(),
        "post",
        &url,
        "1000",
    ]);
    run.expect_code(0).stdout_has("received 1000");
    let lines = run.stderr_lines_starting(&format!("wasmgate: allowed POST {url} -> 200, "));
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    let (bytes_in, bytes_out, _) = verbose_numbers(lines[0]);
    assert_eq!(bytes_out, 1000, "{}", lines[0]);
    assert_eq!(bytes_in, "received 1000".len() as u64, "{}", lines[0]);
}

#[test]
fn verbose_lines_for_sequential_requests() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let run = wasmgate([
        "run",
        "-v",
        "--allow",
        &server.base(),
        &http_client(),
        "seq",
        &url,
        "3",
    ]);
    run.expect_code(0).stdout_has("ok: 3");
    let lines = run.stderr_lines_starting(&format!("wasmgate: allowed GET {url} -> 200, "));
    assert_eq!(lines.len(), 3, "{}", run.stderr);
}

#[test]
fn without_verbose_allowed_requests_are_silent() {
    let server = TestServer::http();
    let run = wasmgate([
        "run",
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &server.url("/hello"),
    ]);
    run.expect_code(0);
    assert_eq!(run.stderr, "", "no output of wasmgate's own");
}

#[test]
fn verbose_denial_has_duration() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let run = wasmgate(["run", "-v", &http_client(), "get", &url]);
    run.expect_code(1);
    let lines = run.stderr_lines_starting("wasmgate: ");
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].starts_with(&format!("wasmgate: denied GET {url}: ")));
    // The duration comes before the suggested flag, which ends the line.
    assert!(
        lines[0].contains(" ms); to allow it, add: --allow "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(&format!("--allow {}", server.base())),
        "{}",
        lines[0]
    );
}

#[test]
fn audit_log_allowed_request() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let log = dir.path().join("audit.jsonl");
    let url = server.url("/hello");
    let before = now_ms();
    let run = wasmgate([
        "run",
        "--audit-log",
        log.to_str().unwrap(),
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &url,
    ]);
    let after = now_ms();
    run.expect_code(0);
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let e = &lines[0];
    let t = e["time_unix_ms"]
        .as_u64()
        .expect("time_unix_ms is a number");
    assert!(before <= t && t <= after, "{t} not in {before}..{after}");
    assert_eq!(e["method"], "GET");
    assert_eq!(e["url"], url.as_str());
    assert_eq!(e["decision"], "allowed");
    assert_eq!(e["rule"], server.base().as_str());
    assert_eq!(e["addr"], server.addr().to_string().as_str());
    assert_eq!(e["status"], 200);
    assert_eq!(e["bytes_in"], HELLO_BODY.len() as u64);
    assert_eq!(e["bytes_out"], 0);
    let d = e["duration_ms"].as_f64().expect("duration_ms is a number");
    assert!((0.0..60_000.0).contains(&d), "{d}");
    assert!(e["error"].is_null(), "{e}");
    assert!(e["error_kind"].is_null(), "{e}");
    assert_eq!(e["origin"], "wasi-http");
}

#[test]
fn audit_log_denied_request() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let log = dir.path().join("audit.jsonl");
    let url = server.url("/hello");
    let run = wasmgate([
        "run",
        "--audit-log",
        log.to_str().unwrap(),
        &http_client(),
        "get",
        &url,
    ]);
    run.expect_code(1);
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let e = &lines[0];
    assert_eq!(e["decision"], "denied");
    assert_eq!(e["method"], "GET");
    assert_eq!(e["url"], url.as_str());
    assert!(e["rule"].is_null(), "{e}");
    assert!(e["addr"].is_null(), "{e}");
    assert!(e["status"].is_null(), "{e}");
    assert_eq!(e["bytes_in"], 0);
    assert_eq!(e["bytes_out"], 0);
    assert!(e["duration_ms"].is_number(), "{e}");
    let err = e["error"].as_str().expect("error is a string");
    assert!(
        err.starts_with(&format!("denied GET {url}: no --allow rules were given")),
        "{err}"
    );
    assert!(
        err.ends_with(&format!("to allow it, add: --allow {}", server.base())),
        "{err}"
    );
    assert_eq!(e["error_kind"], "denied");
    // The same text as the stderr line, without its prefix.
    assert_eq!(
        run.stderr_lines_starting("wasmgate: "),
        vec![format!("wasmgate: {err}")]
    );
}

#[test]
fn audit_log_limit_hit_before_sending() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let log = dir.path().join("audit.jsonl");
    let url = server.url("/hello");
    wasmgate([
        "run",
        "--audit-log",
        log.to_str().unwrap(),
        "--max-requests",
        "1",
        "--allow",
        &server.base(),
        &http_client(),
        "seq",
        &url,
        "3",
    ])
    .expect_code(1)
    .stdout_has("ok: 1");
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["decision"], "allowed");
    assert!(lines[0]["error_kind"].is_null());
    assert_eq!(lines[1]["decision"], "denied");
    assert_eq!(lines[1]["error_kind"], "limit");
    assert!(lines[1]["addr"].is_null(), "{}", lines[1]);
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("raise it with --max-requests"),
        "{}",
        lines[1]
    );
    assert_eq!(requests(&server), 1);
}

#[test]
fn audit_log_one_line_per_request() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let log = dir.path().join("audit.jsonl");
    let url = server.url("/hello");
    let run = wasmgate([
        "run",
        "--audit-log",
        log.to_str().unwrap(),
        "--allow",
        &server.base(),
        &http_client(),
        "seq",
        &url,
        "5",
    ]);
    run.expect_code(0).stdout_has("ok: 5");
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 5, "{lines:?}");
    let mut last_time = 0;
    for e in &lines {
        assert_eq!(e["decision"], "allowed");
        assert_eq!(e["status"], 200);
        assert_eq!(e["url"], url.as_str());
        let t = e["time_unix_ms"].as_u64().unwrap();
        assert!(t >= last_time, "sequential requests logged in order");
        last_time = t;
    }
    assert_eq!(requests(&server), 5);
}

#[test]
fn audit_log_records_request_body_bytes() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let log = dir.path().join("audit.jsonl");
    wasmgate([
        "run",
        "--audit-log",
        log.to_str().unwrap(),
        "--allow",
        &format!("POST {}/sink", server.base()),
        &http_client(),
        "post",
        &server.url("/sink"),
        "3000",
    ])
    .expect_code(0);
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["bytes_out"], 3000);
    assert_eq!(
        lines[0]["rule"],
        format!("POST {}/sink", server.base()).as_str()
    );
}

#[test]
fn audit_log_appends_across_runs() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let log = dir.path().join("audit.jsonl");
    let url = server.url("/hello");
    for _ in 0..2 {
        wasmgate([
            "run",
            "--audit-log",
            log.to_str().unwrap(),
            "--allow",
            &server.base(),
            &http_client(),
            "get",
            &url,
        ])
        .expect_code(0);
    }
    wasmgate([
        "run",
        "--audit-log",
        log.to_str().unwrap(),
        &http_client(),
        "get",
        &url,
    ])
    .expect_code(1);
    let decisions: Vec<Value> = audit_lines(&log)
        .into_iter()
        .map(|e| e["decision"].clone())
        .collect();
    assert_eq!(decisions, ["allowed", "allowed", "denied"]);
}

#[test]
fn audit_log_in_missing_directory_is_a_usage_error() {
    let dir = TempDir::new();
    let log = dir.path().join("no/such/dir/audit.jsonl");
    let run = wasmgate(["run", "--audit-log", log.to_str().unwrap(), &wasip1_hello()]);
    run.expect_code(125)
        .stderr_has(&format!("error: cannot open audit log {}", log.display()));
    assert_eq!(run.stdout, "", "the guest must not run");
}

#[test]
fn verbose_and_audit_show_non_2xx_status() {
    // An HTTP error status is a completed request: exit 0, logged with its status.
    let server = TestServer::http();
    let dir = TempDir::new();
    let log = dir.path().join("audit.jsonl");
    let url = server.url("/status/503");
    let run = wasmgate([
        "run",
        "-v",
        "--audit-log",
        log.to_str().unwrap(),
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &url,
    ]);
    run.expect_code(0)
        .stdout_has("status: 503\n")
        .stderr_has(&format!("wasmgate: allowed GET {url} -> 503, 15 B in, "));
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["status"], 503);
    assert_eq!(lines[0]["decision"], "allowed");
    assert!(lines[0]["error"].is_null());
}
