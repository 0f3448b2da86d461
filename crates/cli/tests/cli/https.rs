//! HTTPS to a server whose certificate comes from a private CA passed with `--ca-cert`.

use crate::support::*;

struct Https {
    _dir: TempDir,
    ca_pem: String,
    server: TestServer,
}

fn https_server() -> Https {
    let dir = TempDir::new();
    let ca = TestCa::new(dir.path());
    let server = TestServer::https(ca.server_config.clone());
    Https {
        ca_pem: ca.ca_pem.display().to_string(),
        _dir: dir,
        server,
    }
}

#[test]
fn localhost_with_ca_cert_succeeds() {
    let h = https_server();
    let port = h.server.addr().port();
    let url = format!("https://localhost:{port}/hello");
    let run = wasmgate([
        "run",
        "-v",
        "--ca-cert",
        &h.ca_pem,
        "--allow",
        &format!("https://localhost:{port}"),
        &http_client(),
        "get",
        &url,
    ]);
    run.expect_code(0)
        .stdout_has("status: 200\n")
        .stdout_has(HELLO_BODY)
        .stderr_has(&format!("wasmgate: allowed GET {url} -> 200, "))
        .stderr_lacks("TLS");
    assert_eq!(requests(&h.server), 1);
}

#[test]
fn ip_literal_with_ca_cert_succeeds() {
    let h = https_server();
    let run = wasmgate([
        "run",
        "--ca-cert",
        &h.ca_pem,
        "--allow",
        &h.server.base(),
        &http_client(),
        "get",
        &h.server.url("/hello"),
    ]);
    run.expect_code(0).stdout_has(HELLO_BODY);
}

#[test]
fn without_ca_cert_the_certificate_is_refused_with_a_hint() {
    let h = https_server();
    let port = h.server.addr().port();
    let url = format!("https://localhost:{port}/hello");
    let run = wasmgate([
        "run",
        "--allow",
        &format!("https://localhost:{port}"),
        &http_client(),
        "get",
        &url,
    ]);
    run.expect_code(1)
        .stderr_has("error: TlsCertificateError")
        .stderr_has(&format!(
            "wasmgate: GET {url} failed: TLS certificate not accepted: "
        ))
        .stderr_has("if the server uses a private CA, pass it with --ca-cert FILE.pem")
        .stdout_lacks("status:");
    assert_eq!(
        requests(&h.server),
        0,
        "no request over an untrusted connection"
    );
}

/// With `--ca-cert` given, an untrusted server is not told to pass one: the message says
/// the certificate does not chain to the given files or the web roots.
#[test]
fn with_an_unrelated_ca_cert_the_hint_names_what_was_tried() {
    let h = https_server();
    let other = TempDir::new();
    let unrelated = TestCa::for_name(other.path(), "unrelated.test");
    let run = wasmgate([
        "run",
        "--ca-cert",
        unrelated.ca_pem.to_str().unwrap(),
        "--allow",
        &h.server.base(),
        &http_client(),
        "get",
        &h.server.url("/hello"),
    ]);
    run.expect_code(1)
        .stderr_has("error: TlsCertificateError")
        .stderr_has("the certificate's issuer is unknown")
        .stderr_has(&format!(
            "it does not chain to the CA files given for {} ({}) nor to the web roots",
            h.server.addr(),
            unrelated.ca_pem.display()
        ))
        .stderr_lacks("pass it with --ca-cert");
    assert_eq!(requests(&h.server), 0);
}

/// A certificate for another name (from the CA given): said so, with no `--ca-cert`
/// suggestion, which cannot fix it.
#[test]
fn a_certificate_for_another_name_is_a_name_mismatch() {
    let dir = TempDir::new();
    let ca = TestCa::for_name(dir.path(), "elsewhere.test");
    let server = TestServer::https(ca.server_config.clone());
    let run = wasmgate([
        "run",
        "--ca-cert",
        ca.ca_pem.to_str().unwrap(),
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &server.url("/hello"),
    ]);
    run.expect_code(1)
        .stderr_has("error: TlsCertificateError")
        .stderr_has(&format!(
            "the certificate is issued for elsewhere.test, not for {}",
            server.addr().ip()
        ))
        .stderr_lacks("pass it with --ca-cert");
    assert_eq!(requests(&server), 0);
}

#[test]
fn https_request_is_denied_without_a_rule() {
    let h = https_server();
    let port = h.server.addr().port();
    let url = format!("https://localhost:{port}/hello");
    let run = wasmgate(["run", "--ca-cert", &h.ca_pem, &http_client(), "get", &url]);
    run.expect_code(1)
        .stderr_has(&format!(
            "wasmgate: denied GET {url}: no --allow rules were given: every request is denied by default; to allow it, add: --allow https://localhost:{port}"
        ))
        .stderr_has("error: HttpRequestDenied");
    assert_eq!(
        h.server
            .stats()
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn unreadable_ca_cert_exits_125() {
    let dir = TempDir::new();
    let missing = dir.path().join("missing.pem");
    let run = wasmgate([
        "run",
        "--ca-cert",
        missing.to_str().unwrap(),
        &wasip1_hello(),
    ]);
    run.expect_code(125)
        .stderr_has(&missing.display().to_string());
    assert_eq!(run.stdout, "", "the guest must not run");

    let junk = dir.write("junk.pem", "not a certificate\n");
    let run = wasmgate(["run", "--ca-cert", junk.to_str().unwrap(), &wasip1_hello()]);
    run.expect_code(125).stderr_has(&junk.display().to_string());
    assert_eq!(run.stdout, "");
}
