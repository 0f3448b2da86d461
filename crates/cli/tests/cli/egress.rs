//! `--proxy`, `--no-proxy`, `--proxy-from-env`, `--inject` and their config keys, run
//! as a user would: through the recording test proxy, with secrets from the environment
//! and files, checking what the proxy, the server, the guest and every log saw.

use crate::support::*;
use wasmgate_test_support::{TestProxy, basic};

const SECRET: &str = "s3cret-token-value-9876";

fn audit_text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).expect("audit log written")
}

#[test]
fn proxy_tunnels_https_and_lines_name_the_proxy_never_its_credentials() {
    let dir = TempDir::new();
    let ca = TestCa::new(dir.path());
    let server = TestServer::https(ca.server_config.clone());
    let port = server.addr().port();
    let proxy = TestProxy::with_credentials("user", SECRET);
    let audit = dir.path().join("audit.jsonl");
    let url = format!("https://localhost:{port}/hello");
    let run = wasmgate([
        "run",
        "-v",
        "--proxy",
        &proxy.url_with("user", SECRET),
        "--ca-cert",
        &ca.ca_pem.display().to_string(),
        "--audit-log",
        &audit.display().to_string(),
        "--allow",
        &format!("https://localhost:{port}"),
        &http_client(),
        "get",
        &url,
    ]);
    run.expect_code(0)
        .stdout_has(HELLO_BODY)
        .stderr_has(&format!("wasmgate: allowed GET {url} -> 200, "))
        .stderr_has(&format!("(via proxy {})", proxy.addr()))
        .stderr_lacks(SECRET);
    let seen = proxy.seen();
    assert_eq!(seen[0].line, format!("CONNECT localhost:{port}"));
    assert_eq!(
        seen[0].proxy_authorization.as_deref(),
        Some(basic("user", SECRET).as_str())
    );
    let log = audit_text(&audit);
    assert!(
        log.contains(&format!("\"proxy\":\"{}\"", proxy.addr())),
        "{log}"
    );
    assert!(!log.contains(SECRET), "{log}");
    assert!(!log.contains(&basic("user", SECRET)[6..]), "{log}");
}

#[test]
fn a_proxy_asking_for_credentials_names_the_flag() {
    let server = TestServer::http();
    let proxy = TestProxy::with_credentials("user", SECRET);
    let run = wasmgate([
        "run",
        "--proxy",
        &proxy.url(),
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &server.url("/hello"),
    ]);
    run.expect_code(1)
        .stderr_has(&format!(
            "the proxy {} requires authentication (407)",
            proxy.addr()
        ))
        .stderr_has(&format!("--proxy http://USER:PASSWORD@{}", proxy.addr()));
    assert_eq!(requests(&server), 0);
}

#[test]
fn proxy_variables_are_ignored_unless_proxy_from_env() {
    let server = TestServer::http();
    let proxy = TestProxy::open();
    let env = [("HTTP_PROXY", proxy.url()), ("HTTPS_PROXY", proxy.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = |extra: &[&str]| {
        let mut a = vec!["run".to_string()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend([
            "--allow".into(),
            server.base(),
            http_client(),
            "get".into(),
            server.url("/hello"),
        ]);
        a
    };

    // Off by default: the host's environment is not the guest's.
    let run = wasmgate_env(None, &env, args(&[]));
    run.expect_code(0).stdout_has(HELLO_BODY);
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());

    let run = wasmgate_env(None, &env, args(&["--proxy-from-env", "-v"]));
    run.expect_code(0)
        .stdout_has(HELLO_BODY)
        .stderr_has(&format!("(via proxy {})", proxy.addr()));
    assert_eq!(
        proxy.seen()[0].line,
        format!("GET {}", server.url("/hello"))
    );

    // NO_PROXY from the environment, and --no-proxy, send it direct.
    let mut with_no_proxy = env.clone();
    with_no_proxy.push(("NO_PROXY", "localhost, 127.0.0.1"));
    let run = wasmgate_env(None, &with_no_proxy, args(&["--proxy-from-env"]));
    run.expect_code(0).stdout_has(HELLO_BODY);
    let run = wasmgate(args(&[
        "--proxy",
        &proxy.url(),
        "--no-proxy",
        "127.0.0.0/8",
    ]));
    run.expect_code(0).stdout_has(HELLO_BODY);
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());
}

#[test]
fn bad_proxy_settings_are_usage_errors_that_hide_the_password() {
    let run = wasmgate([
        "run",
        "--proxy",
        &format!("socks5://user:{SECRET}@127.0.0.1:1080"),
        &http_client(),
        "env",
    ]);
    run.expect_code(125)
        .stderr_has("invalid proxy URL in --proxy (socks5://<redacted>@127.0.0.1:1080)")
        .stderr_has("only http:// proxies are")
        .stderr_lacks(SECRET);
    let run = wasmgate(["run", "--no-proxy", "example.com", &http_client(), "env"]);
    run.expect_code(125)
        .stderr_has("without a proxy; add --proxy URL");
    let run = wasmgate([
        "run",
        "--proxy",
        "http://127.0.0.1:3128",
        "--no-proxy",
        "*.example.com",
        &http_client(),
        "env",
    ]);
    run.expect_code(125)
        .stderr_has("invalid entry \"*.example.com\" in --no-proxy");
}

#[test]
fn an_injected_secret_reaches_the_server_and_nothing_else() {
    let dir = TempDir::new();
    let server = TestServer::http();
    let audit = dir.path().join("audit.jsonl");
    let inject = format!(
        "{} authorization: Bearer ${{env:WASMGATE_TEST_TOKEN}}",
        server.base()
    );
    let env = [("WASMGATE_TEST_TOKEN", SECRET)];
    let common = |cmd: &[&str]| {
        let mut a: Vec<String> = [
            "run",
            "-v",
            "--inject",
            &inject,
            "--audit-log",
            &audit.display().to_string(),
            "--env",
            "VISIBLE=yes",
            "--allow",
            &server.base(),
            &http_client(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(cmd.iter().map(|s| s.to_string()));
        a
    };
    let run = wasmgate_env(
        None,
        &env,
        common(&[
            "get",
            "-H",
            "authorization: from-guest",
            &server.url("/headers"),
        ]),
    );
    // The test server echoes request headers: that is how the test sees what arrived.
    run.expect_code(0)
        .stdout_has(&format!("authorization: Bearer {SECRET}\n"))
        .stdout_lacks("from-guest")
        .stderr_has("(injected authorization, replacing the guest's authorization)")
        .stderr_lacks(SECRET);
    let log = audit_text(&audit);
    assert!(!log.contains(SECRET), "{log}");
    assert!(log.contains("\"injected\":[\"authorization\"]"), "{log}");
    assert!(log.contains("\"replaced\":[\"authorization\"]"), "{log}");

    // The guest's environment has what --env gave it, and not the secret's variable.
    let run = wasmgate_env(None, &env, common(&["env"]));
    run.expect_code(0)
        .stdout_has("env: VISIBLE=yes\n")
        .stdout_lacks(SECRET)
        .stdout_lacks("WASMGATE_TEST_TOKEN");

    // A request that was injected into and then failed: its message has no secret either.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let run = wasmgate_env(
        None,
        &env,
        [
            "run".to_string(),
            "-v".into(),
            "--inject".into(),
            format!("http://{closed} authorization: ${{env:WASMGATE_TEST_TOKEN}}"),
            "--allow".into(),
            format!("http://{closed}"),
            http_client(),
            "get".into(),
            format!("http://{closed}/x"),
        ],
    );
    run.expect_code(1)
        .stderr_has(&format!("GET http://{closed}/x failed: "))
        .stderr_lacks(SECRET);
}

#[test]
fn a_missing_variable_or_file_is_a_config_error_naming_it() {
    let run = wasmgate([
        "run",
        "--inject",
        "https://api.example.com authorization: Bearer ${env:WASMGATE_TEST_UNSET_VAR}",
        &http_client(),
        "env",
    ]);
    run.expect_code(125)
        .stderr_has("the environment variable WASMGATE_TEST_UNSET_VAR is not set")
        .stdout_lacks("env:");
    let run = wasmgate([
        "run",
        "--inject",
        "https://api.example.com x-api-key: ${file:/nonexistent/wasmgate-secret}",
        &http_client(),
        "env",
    ]);
    run.expect_code(125)
        .stderr_has("cannot read /nonexistent/wasmgate-secret");
    let run = wasmgate([
        "run",
        "--inject",
        &format!("https://api.example.com authorization={SECRET}"),
        &http_client(),
        "env",
    ]);
    run.expect_code(125)
        .stderr_has("expected 'RULE NAME: VALUE'")
        .stderr_lacks(SECRET);
}

#[test]
fn the_config_file_sets_the_proxy_and_injects_from_a_file_beside_it() {
    let dir = TempDir::new();
    let server = TestServer::http();
    let proxy = TestProxy::open();
    dir.write("secret.txt", format!("{SECRET}\n"));
    let config = dir.write(
        "wasmgate.toml",
        format!(
            r#"allow = ["{base}"]
proxy = "{proxy}"

[[inject]]
rule = "{base}"
headers = {{ x-api-key = "${{file:secret.txt}}" }}
"#,
            base = server.base(),
            proxy = proxy.url()
        ),
    );
    let run = wasmgate([
        "run",
        "-v",
        "--config",
        &config.display().to_string(),
        &http_client(),
        "get",
        &server.url("/headers"),
    ]);
    run.expect_code(0)
        .stdout_has(&format!("x-api-key: {SECRET}\n"))
        .stderr_has("(via proxy ")
        .stderr_has("injected x-api-key)")
        .stderr_lacks(SECRET);
    assert_eq!(
        proxy.seen()[0].line,
        format!("GET {}", server.url("/headers"))
    );
}
