//! What a denied request prints, and that the suggested flag really allows it.

use crate::support::*;

/// Runs http-client with `rules` as `--allow` flags and the guest `args`.
fn run_with(rules: &[String], guest_args: &[&str]) -> Run {
    let mut args = vec!["run".to_string()];
    for r in rules {
        args.push("--allow".into());
        args.push(r.clone());
    }
    args.push(http_client());
    args.extend(guest_args.iter().map(|s| s.to_string()));
    wasmgate(args)
}

/// Asserts `run` is a denial whose only wasmgate line is exactly `expected`, with the
/// guest seeing `HttpRequestDenied`.
#[track_caller]
fn assert_denied_line(run: &Run, expected: &str) {
    run.expect_code(1)
        .stderr_has("error: HttpRequestDenied")
        .stdout_lacks("status:");
    let lines = run.stderr_lines_starting("wasmgate: ");
    assert_eq!(lines, vec![expected], "stderr:\n{}", run.stderr);
}

/// Reruns the denied command with the suggested flag added and asserts success: proves
/// the suggestion is right, not just well formed.
#[track_caller]
fn assert_suggestion_works(denied: &Run, rules: &[String], guest_args: &[&str]) {
    let [flag, value] = denied.suggestion();
    let mut args = vec!["run".to_string()];
    for r in rules {
        args.push("--allow".into());
        args.push(r.clone());
    }
    args.push(flag);
    args.push(value);
    args.push(http_client());
    args.extend(guest_args.iter().map(|s| s.to_string()));
    let run = wasmgate(args);
    run.expect_code(0)
        .stdout_has("status: 200\n")
        .stdout_has(HELLO_BODY);
    assert!(
        run.stderr_lines_starting("wasmgate: ").is_empty(),
        "{}",
        run.stderr
    );
}

#[test]
fn no_rules() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let run = run_with(&[], &["get", &url]);
    assert_denied_line(
        &run,
        &format!(
            "wasmgate: denied GET {url}: no --allow rules were given: every request is denied by default; to allow it, add: --allow {}",
            server.base()
        ),
    );
    assert_eq!(requests(&server), 0, "denied before sending");
    assert_suggestion_works(&run, &[], &["get", &url]);
    assert_eq!(requests(&server), 1);
}

#[test]
fn wrong_method() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let rules = vec![format!("GET {}", server.base())];
    let run = run_with(&rules, &["post", &url, "5"]);
    assert_denied_line(
        &run,
        &format!(
            "wasmgate: denied POST {url}: rule \"GET {base}\" does not allow method POST; to allow it, add: --allow 'POST {base}'",
            base = server.base()
        ),
    );
    assert_eq!(requests(&server), 0);
    assert_suggestion_works(&run, &rules, &["post", &url, "5"]);
    // The rule still allows GET: the denial was about the method only.
    run_with(&rules, &["get", &url]).expect_code(0);
}

#[test]
fn method_denial_keeps_the_path_restriction() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let rules = vec![format!("GET {}/hello", server.base())];
    let run = run_with(&rules, &["post", &url, "5"]);
    run.expect_code(1);
    assert_eq!(
        run.suggestion(),
        [
            "--allow".to_string(),
            format!("POST {}/hello", server.base())
        ]
    );
    assert_suggestion_works(&run, &rules, &["post", &url, "5"]);
}

#[test]
fn path_outside_prefix() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let rules = vec![format!("{}/api", server.base())];
    let run = run_with(&rules, &["get", &url]);
    assert_denied_line(
        &run,
        &format!(
            "wasmgate: denied GET {url}: rule \"{base}/api\" allows paths under /api, not /hello; to allow it, add: --allow {base}/hello",
            base = server.base()
        ),
    );
    assert_eq!(requests(&server), 0);
    assert_suggestion_works(&run, &rules, &["get", &url]);
}

#[test]
fn path_prefix_is_segment_wise() {
    // `/hel` is a prefix of `/hello` as a string but not as a path.
    let server = TestServer::http();
    let url = server.url("/hello");
    let run = run_with(&[format!("{}/hel", server.base())], &["get", &url]);
    run.expect_code(1)
        .stderr_has("allows paths under /hel, not /hello");
    assert_eq!(requests(&server), 0);
    // While `/hello` as prefix allows `/hello`.
    run_with(&[format!("{}/hello", server.base())], &["get", &url]).expect_code(0);
}

#[test]
fn wrong_port() {
    let server = TestServer::http();
    let other = TestServer::http();
    let port = server.addr().port();
    let other_port = other.addr().port();
    let url = server.url("/hello");
    let rules = vec![other.base()];
    let run = run_with(&rules, &["get", &url]);
    assert_denied_line(
        &run,
        &format!(
            "wasmgate: denied GET {url}: rule \"{}\" allows port {other_port} only, not {port}; to allow it, add: --allow {}",
            other.base(),
            server.base()
        ),
    );
    assert_eq!(requests(&server) + requests(&other), 0);
    assert_suggestion_works(&run, &rules, &["get", &url]);
}

#[test]
fn wrong_scheme() {
    let server = TestServer::http();
    let url = server.url("/hello");
    let rules = vec![format!("https://{}", server.addr())];
    let run = run_with(&rules, &["get", &url]);
    assert_denied_line(
        &run,
        &format!(
            "wasmgate: denied GET {url}: rule \"https://{}\" allows https only, not http; to allow it, add: --allow {}",
            server.addr(),
            server.base()
        ),
    );
    assert_eq!(requests(&server), 0);
    assert_suggestion_works(&run, &rules, &["get", &url]);
}

#[test]
fn other_host_rule_is_host_not_allowed() {
    // A rule for a name (never resolved: the request is to 127.0.0.1) does not match.
    let server = TestServer::http();
    let url = server.url("/hello");
    let rules = vec![format!("http://localhost.invalid:{}", server.addr().port())];
    let run = run_with(&rules, &["get", &url]);
    assert_denied_line(
        &run,
        &format!(
            "wasmgate: denied GET {url}: no --allow rule matches host {}; to allow it, add: --allow {}",
            server.addr(),
            server.base()
        ),
    );
    assert_suggestion_works(&run, &rules, &["get", &url]);
}

#[test]
fn wildcard_host_does_not_reach_loopback_without_naming_it() {
    // `*` allows any host by URL, but the loopback address is special: it needs a rule
    // naming it or --allow-cidr.
    let server = TestServer::http();
    let url = server.url("/hello");
    let rules = vec![format!("http://*:{}", server.addr().port())];
    let run = run_with(&rules, &["get", &url]);
    run.expect_code(1)
        .stderr_has(&format!(
            "wasmgate: denied GET {url}: address 127.0.0.1 is "
        ))
        .stderr_has("to allow it, add: --allow-cidr 127.0.0.1/32")
        .stderr_has("error: DestinationIpProhibited");
    assert_eq!(requests(&server), 0);
    assert_eq!(
        run.suggestion(),
        ["--allow-cidr".to_string(), "127.0.0.1/32".to_string()]
    );
    assert_suggestion_works(&run, &rules, &["get", &url]);
}

#[test]
fn allowed_requests_all_reach_the_server() {
    let server = TestServer::http();
    let run = run_with(&[server.base()], &["seq", &server.url("/hello"), "3"]);
    run.expect_code(0).stdout_has("ok: 3");
    assert_eq!(requests(&server), 3);
}

#[test]
fn wasi_http_component_runs_unchanged_under_allow() {
    // A component written against plain wasi:http (as run with `wasmtime run -S http`)
    // needs no changes: only the --allow flag.
    let server = TestServer::http();
    let url = server.url("/hello");
    let allowed = wasmgate([
        "run",
        "--allow",
        &server.base(),
        &wstd_client(),
        "get",
        &url,
    ]);
    allowed
        .expect_code(0)
        .stdout_has(&format!("status: 200\n---\n{HELLO_BODY}\n"));
    assert_eq!(requests(&server), 1);

    let denied = wasmgate(["run", &wstd_client(), "get", &url]);
    assert_ne!(denied.code, Some(0), "{denied:?}");
    denied
        .stderr_has(&format!("wasmgate: denied GET {url}"))
        .stderr_has(&format!("to allow it, add: --allow {}", server.base()))
        .stderr_has("HttpRequestDenied")
        .stdout_lacks("status:");
    assert_eq!(requests(&server), 1, "the denied request was not sent");
}

/// A guest's `get` is another method than `GET`: a `GET`-only rule refuses it (nothing
/// reaches the server), the denial says why and suggests a rule without methods (a
/// rule cannot list a lowercase method), and whatever reaches the server is the method
/// exactly as the guest wrote it.
#[test]
fn a_lowercase_method_is_not_the_uppercase_one() {
    let server = TestServer::http();
    let base = server.base();
    let url = server.url("/echo");
    let rules = vec![format!("GET {base}/echo")];
    for method in ["get", "GeT", "gET"] {
        let run = run_with(&rules, &["get", &url, "--method", method]);
        run.expect_code(1)
            .stderr_has("error: HttpRequestDenied")
            .stdout_lacks("status:");
        // Only the denial line: a first run may also say it is compiling the guest.
        assert_eq!(
            run.stderr_lines_starting("wasmgate: denied "),
            vec![format!(
                "wasmgate: denied {method} {url}: rule \"GET {base}/echo\" does not allow method {method}: HTTP methods are case-sensitive and a rule's methods are uppercase, so only a rule without methods (any method) allows {method}; to allow it, add: --allow {base}/echo"
            )],
            "{}",
            run.stderr
        );
    }
    assert_eq!(
        requests(&server),
        0,
        "a method the rule never named was sent"
    );

    // The rule's own method goes out as GET.
    run_with(&rules, &["get", &url])
        .expect_code(0)
        .stdout_has("header: x-test-method: GET\n");
    // The suggested rule lets `get` out, and the server gets `get`, not `GET`.
    let denied = run_with(&rules, &["get", &url, "--method", "get"]);
    let [flag, value] = denied.suggestion();
    assert_eq!(
        [flag.as_str(), value.as_str()],
        ["--allow", &*format!("{base}/echo")]
    );
    run_with(&[value], &["get", &url, "--method", "get"])
        .expect_code(0)
        .stdout_has("header: x-test-method: get\n");
    assert_eq!(requests(&server), 2);
}

/// Runs http-client with `-v` and `flags` before the guest.
fn run_verbose(flags: &[String], guest_args: &[&str]) -> Run {
    let mut args = vec!["run".to_string(), "-v".to_string()];
    args.extend(flags.iter().cloned());
    args.push(http_client());
    args.extend(guest_args.iter().map(|s| s.to_string()));
    wasmgate(args)
}

/// With `-v`, a denial's suggested flag still ends the line (the duration comes before
/// it), so pasting it works: parse it out, run again with it, and the request succeeds.
#[test]
fn verbose_suggestions_paste_cleanly() {
    let server = TestServer::http();
    let base = server.base();
    let url = server.url("/hello");
    let port = server.addr().port();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![], "no rules"),
        (
            vec!["--allow".into(), format!("GET {base}/api")],
            "path miss",
        ),
        (
            vec!["--allow".into(), format!("POST {base}")],
            "method miss",
        ),
        (
            vec!["--allow".into(), format!("http://*:{port}")],
            "loopback address: --allow-cidr",
        ),
    ];
    for (flags, case) in cases {
        let denied = run_verbose(&flags, &["get", &url]);
        denied.expect_code(1);
        let lines = denied.stderr_lines_starting("wasmgate: denied ");
        assert_eq!(lines.len(), 1, "{case}: {}", denied.stderr);
        let [flag, value] = denied.suggestion();
        let (body, tail) = lines[0]
            .split_once("; to allow it, add: ")
            .unwrap_or_else(|| panic!("{case}: {}", lines[0]));
        assert!(
            body.ends_with(" ms)"),
            "{case}: duration before the flag: {}",
            lines[0]
        );
        assert!(
            tail.starts_with(&format!("{flag} ")),
            "{case}: {}",
            lines[0]
        );

        let mut fixed = flags.clone();
        fixed.extend([flag, value]);
        let run = run_verbose(&fixed, &["get", &url]);
        run.expect_code(0).stdout_has(HELLO_BODY);
        let allowed = run.stderr_lines_starting(&format!("wasmgate: allowed GET {url} -> 200, "));
        assert_eq!(allowed.len(), 1, "{case}: {}", run.stderr);
    }
}
