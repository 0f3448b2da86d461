//! Requests wasi-http refuses before wasmgate's client sees them (a scheme other than
//! exactly `http`/`https`, no authority) get a `denied … refused (invalid URL)` stderr
//! line and an audit record like any other invalid URL (`127.1`, user info, port 0), and
//! the guest gets `HttpRequestUriInvalid`.

use crate::support::*;

#[test]
fn refused_schemes_and_missing_authority_are_reported_and_audited() {
    let server = TestServer::http();
    let addr = server.addr();
    let cases = [
        (format!("ftp://{addr}/x"), None, "scheme \"ftp\""),
        (format!("gopher://{addr}/"), None, "scheme \"gopher\""),
        (
            "file://localhost/etc/passwd".into(),
            None,
            "scheme \"file\"",
        ),
        (
            format!("HTTP://{addr}/"),
            Some("--verbatim-scheme"),
            "scheme \"HTTP\"",
        ),
        (format!("http://{addr}/"), Some("--no-authority"), "no host"),
        // Refused by wasmgate's own URL check, reported the same way.
        (format!("http://127.1:{}/", addr.port()), None, "127.1"),
        (format!("http://user@{addr}/"), None, "user"),
        ("http://127.0.0.1:0/".to_string(), None, "0"),
    ];
    for (url, flag, why) in cases {
        let dir = TempDir::new();
        let log = dir.path().join("audit.jsonl");
        let mut args = vec![
            "run".to_string(),
            "--audit-log".into(),
            log.to_str().unwrap().into(),
            "--allow".into(),
            server.base(),
            http_client(),
            "get".into(),
            url.clone(),
        ];
        args.extend(flag.map(String::from));
        let run = wasmgate(args);
        run.expect_code(1)
            .stderr_has("error: HttpRequestUriInvalid")
            .stderr_has(why);
        let line = run
            .stderr
            .lines()
            // Not the first line: a fresh build of the guest adds a compile notice.
            .find(|l| l.starts_with("wasmgate: ") && !l.starts_with("wasmgate: compiling"))
            .unwrap_or_else(|| panic!("{url}: no wasmgate line: {}", run.stderr));
        // A refusal, worded as one: nothing was sent.
        assert!(
            line.starts_with("wasmgate: denied GET ") && line.contains(": refused (invalid URL): "),
            "{url}: {line}"
        );
        assert!(line.contains(why), "{url}: {line}");
        let text = std::fs::read_to_string(&log).expect("audit log written");
        let record: serde_json::Value = serde_json::from_str(text.trim()).expect("one record");
        assert_eq!(record["decision"], "denied", "{text}");
        assert_eq!(record["error_kind"], "invalid-request", "{text}");
        assert_eq!(record["origin"], "wasi-http", "{text}");
        let error = record["error"].as_str().unwrap_or_default();
        assert!(error.contains("refused (invalid URL)"), "{text}");
    }
    assert_eq!(
        server
            .stats()
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}
