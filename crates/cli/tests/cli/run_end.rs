//! Requests still open when the run ends (the guest exits, or `--timeout` fires): one
//! stderr line with their number, and an audit record each that says why.

use crate::support::*;
use serde_json::Value;

/// Requests the guest leaves open: enough that a line each would flood stderr.
const OPEN: usize = 100;

/// The server answers long after every run here has ended.
const SLOW_PATH: &str = "/slow/30000";

fn records(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("audit log written");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Runs `http-client abandon` with `extra` flags; returns the run and its audit records.
fn abandon(extra: &[&str]) -> (Run, Vec<Value>) {
    let server = TestServer::http();
    let dir = TempDir::new();
    let log = dir.path().join("audit.jsonl");
    let client = http_client();
    let url = server.url(SLOW_PATH);
    let open = OPEN.to_string();
    let base = server.base();
    let mut args = vec![
        "run",
        "--audit-log",
        log.to_str().unwrap(),
        "--allow",
        &base,
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[&client, "abandon", &url, &open]);
    let run = wasmgate(&args);
    let records = records(&log);
    (run, records)
}

fn check_records(records: &[Value], why: &str) {
    assert_eq!(records.len(), OPEN, "one audit record per request");
    for r in records {
        assert_eq!(r["error_kind"], "cancelled", "{r}");
        let error = r["error"].as_str().unwrap_or_default();
        assert!(
            error.ends_with(&format!("cancelled: still open when {why}")),
            "{r}"
        );
    }
}

#[test]
fn requests_open_when_the_guest_exits_get_one_line() {
    let (run, records) = abandon(&[]);
    run.expect_code(0)
        .stdout_has(&format!("started: {OPEN}\n"))
        .stderr_lacks("cancelled by the guest");
    let ours = run.stderr_lines_starting("wasmgate: ");
    assert_eq!(
        ours,
        [format!(
            "wasmgate: {OPEN} requests were still open when the guest exited; they were cancelled"
        )],
        "{}",
        run.stderr
    );
    check_records(&records, "the guest exited");
}

#[test]
fn requests_open_when_the_timeout_fires_get_one_line() {
    let (run, records) = abandon(&["--timeout", "1s", "--env", "HANG=1"]);
    run.expect_code(124)
        .stderr_has("--timeout")
        .stderr_lacks("cancelled by the guest");
    let ours = run.stderr_lines_starting("wasmgate: ");
    assert_eq!(
        ours,
        [format!(
            "wasmgate: {OPEN} requests were still open when --timeout fired; they were cancelled"
        )],
        "{}",
        run.stderr
    );
    check_records(&records, "--timeout fired");
}
