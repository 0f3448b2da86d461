//! `--record` / `--replay` and their options and config keys: a run recorded against a
//! live server replays with the server gone, and every file is HAR 1.2.

use crate::support::*;
use serde_json::Value;
use wasmgate_test_support::check_har;

/// The file's entries, after checking it is a HAR 1.2 document.
fn entries(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read(path).expect("the HAR file exists");
    let doc: Value = serde_json::from_slice(&text).expect("the HAR file is JSON");
    check_har(&doc)
}

#[test]
fn a_recorded_run_replays_without_the_server_and_redacts_secrets() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let har = dir.path().join("api.har");
    let har = har.to_str().unwrap();
    let url = server.url("/hello");
    let base = server.base();
    let client = http_client();
    let guest_args = [
        client.as_str(),
        "get",
        &url,
        "-H",
        "authorization:Bearer TOKEN-1",
        "-H",
        "x-api-key:TOKEN-2",
    ];
    let mut args = vec![
        "run",
        "--allow",
        &base,
        "--record",
        har,
        "--redact-header",
        "X-API-Key",
    ];
    args.extend(guest_args);
    let recorded = wasmgate(&args);
    recorded.expect_code(0).stdout_has("status: 200");
    // (Bodies are not redacted, so the route does not echo the headers.)
    let text = std::fs::read_to_string(har).unwrap();
    assert!(
        !text.contains("TOKEN-1") && !text.contains("TOKEN-2"),
        "{text}"
    );
    let e = entries(std::path::Path::new(har));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["_wasmgate"]["origin"], "wasi-http");
    drop(server);

    let mut args = vec!["run", "--allow", &base, "--replay", har];
    args.extend(guest_args);
    let replayed = wasmgate(&args);
    replayed.expect_code(0);
    assert_eq!(replayed.stdout, recorded.stdout);

    // --record-secrets keeps the default-redacted headers, not the --redact-header ones.
    let server = TestServer::http();
    let base = server.base();
    let url = server.url("/hello");
    let mut args = vec![
        "run",
        "--allow",
        &base,
        "--record",
        har,
        "--record-secrets",
        "--redact-header",
        "x-api-key",
    ];
    let mut guest_args = guest_args;
    guest_args[2] = &url;
    args.extend(guest_args);
    wasmgate(&args).expect_code(0);
    let text = std::fs::read_to_string(har).unwrap();
    assert!(
        text.contains("TOKEN-1") && !text.contains("TOKEN-2"),
        "{text}"
    );
}

#[test]
fn a_run_stopped_by_its_timeout_leaves_a_valid_file() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let har = dir.path().join("t.har");
    let run = wasmgate([
        "run",
        "--allow",
        &server.base(),
        "--record",
        har.to_str().unwrap(),
        "--timeout",
        "1s",
        &http_client(),
        "get",
        &server.url("/slow/30000"),
    ]);
    run.expect_code(124);
    let e = entries(&har);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["_wasmgate"]["errorKind"], "cancelled");
    assert_eq!(e[0]["response"]["status"], 0);
}

#[test]
fn config_keys_record_and_replay_and_an_unmatched_request_is_named() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let base = server.base();
    let record = dir.write(
        "record.toml",
        format!("allow = [\"{base}\"]\n[record]\nfile = \"c.har\"\nmax_body = \"10\"\n"),
    );
    let hello = server.url("/hello");
    wasmgate([
        "run",
        "--config",
        record.to_str().unwrap(),
        &http_client(),
        "get",
        &hello,
    ])
    .expect_code(0);
    let e = entries(&dir.path().join("c.har"));
    assert_eq!(e[0]["response"]["content"]["text"], "hello from");
    assert_eq!(e[0]["response"]["content"]["_truncated"], true);
    drop(server);

    let replay = dir.write(
        "replay.toml",
        format!("allow = [\"{base}\"]\n[replay]\nfile = \"c.har\"\nmissing = \"fail\"\n"),
    );
    let other = format!("{base}/hellx");
    let run = wasmgate([
        "run",
        "--config",
        replay.to_str().unwrap(),
        &http_client(),
        "get",
        &other,
    ]);
    run.expect_code(1).stderr_has(&format!(
        "wasmgate: GET {other} not replayed: no entry in {} has this method and URL; \
         nearest recorded: GET {hello} (entry 0)",
        dir.path().join("c.har").display()
    ));
    // The truncated body replays as it was kept.
    let run = wasmgate([
        "run",
        "--config",
        replay.to_str().unwrap(),
        &http_client(),
        "get",
        &hello,
    ]);
    run.expect_code(0).stdout_has("---\nhello from\n");

    let bad = dir.write("bad.toml", "[replay]\nmissing = \"maybe\"\n");
    wasmgate([
        "run",
        "--config",
        bad.to_str().unwrap(),
        &http_client(),
        "get",
        &hello,
    ])
    .expect_code(125)
    .stderr_has("[replay] missing = \"maybe\": expected \"fail\" or \"network\"");
}

#[test]
fn bad_record_and_replay_flags_are_refused_before_the_guest_runs() {
    let dir = TempDir::new();
    let not_har = dir.write("x.har", "hello");
    wasmgate([
        "run",
        "--replay",
        not_har.to_str().unwrap(),
        &wasip1_hello(),
    ])
    .expect_code(125)
    .stderr_has("not a HAR file");
    wasmgate(["run", "--replay-missing", "network", &wasip1_hello()])
        .expect_code(125)
        .stderr_has("--replay-missing needs --replay FILE.har");
    let har = dir.path().join("r.har");
    wasmgate([
        "run",
        "--record",
        har.to_str().unwrap(),
        "--redact-header",
        "a b",
        &wasip1_hello(),
    ])
    .expect_code(125)
    .stderr_has("--redact-header \"a b\": not a header name");
    wasmgate(["run", "--record", "/nonexistent/dir/r.har", &wasip1_hello()])
        .expect_code(125)
        .stderr_has("--record /nonexistent/dir/r.har: cannot write it");
}

/// Ctrl-C kills a run (the default SIGINT action: `run` installs no handler) at any
/// moment; the file must still be a complete HAR document holding every request that
/// finished before it.
#[test]
fn a_run_killed_by_ctrl_c_leaves_a_valid_file() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let server = TestServer::http();
    let dir = TempDir::new();
    let har = dir.path().join("int.har");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmgate"))
        .args([
            "run",
            "--allow",
            &server.base(),
            "--record",
            har.to_str().unwrap(),
            &http_client(),
            "seq",
            &server.url("/slow/200"),
            "1000",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env(
            "XDG_CACHE_HOME",
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-cache"),
        )
        .spawn()
        .expect("spawn wasmgate");
    // Wait (bounded) until two requests are on file: the run is in its loop, a third
    // request is most likely in flight.
    let start = Instant::now();
    loop {
        let recorded = std::fs::read(&har)
            .ok()
            .and_then(|t| serde_json::from_slice::<Value>(&t).ok())
            .and_then(|d| d["log"]["entries"].as_array().map(Vec::len))
            .unwrap_or(0);
        if recorded >= 2 {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("the run did not record two requests (recorded {recorded})");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child's pid.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "kill(SIGINT)");
    let status = child.wait().expect("wait for wasmgate");
    assert!(!status.success(), "the run ended by Ctrl-C: {status:?}");
    let e = entries(&har);
    assert!(e.len() >= 2, "{e:?}");
    for entry in &e {
        assert_eq!(entry["response"]["status"], 200, "{entry}");
        assert_eq!(entry["response"]["content"]["text"], "slow", "{entry}");
    }
}

/// An injected secret is added after the recorder took the guest's headers: it is in
/// no entry, not even with `--record-secrets`. (That the server receives it is
/// egress.rs's test; here the route does not echo it, so only the request side could
/// leak it into the file.)
#[test]
fn injected_secrets_are_never_recorded() {
    const TOKEN: &str = "inj-secret-5150-never-on-file";
    let server = TestServer::http();
    let dir = TempDir::new();
    let base = server.base();
    for keep in [false, true] {
        let har = dir.path().join(format!("inject-{keep}.har"));
        let inject = format!(
            "{} authorization: Bearer ${{env:WG_TEST_TOKEN}}",
            server.base()
        );
        let mut args = vec![
            "run",
            "--allow",
            &base,
            "--inject",
            &inject,
            "--record",
            har.to_str().unwrap(),
        ];
        if keep {
            args.push("--record-secrets");
        }
        let client = http_client();
        let url = server.url("/hello");
        args.extend([client.as_str(), "get", &url]);
        let run = wasmgate_env(None, &[("WG_TEST_TOKEN", TOKEN)], args);
        run.expect_code(0).stdout_has("status: 200");
        let text = std::fs::read_to_string(&har).unwrap();
        assert!(!text.contains(TOKEN), "--record-secrets={keep}: {text}");
        let e = entries(&har);
        assert_eq!(e.len(), 1, "{e:?}");
        // The request as the guest sent it: no authorization header at all.
        let names: Vec<&str> = e[0]["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.eq_ignore_ascii_case("authorization")),
            "{names:?}"
        );
    }
}
