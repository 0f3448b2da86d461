//! Outbound TLS from the command line: `[[tls]]` entries in the config file (client
//! certificates for some hosts only, their own CAs, relative paths), the client
//! certificate flags, pinning a self-signed certificate with `--ca-cert`, `--ca-system`
//! (read through SSL_CERT_FILE), and the messages for what goes wrong.

use crate::support::*;
use std::ffi::OsStr;
use std::sync::atomic::Ordering;
use wasmgate_test_support::pki::{Authority, Leaf, Usage, Validity};

/// A server CA, a client CA with one client certificate, all in `dir`.
struct Pki {
    dir: TempDir,
    ca: Authority,
    clients: Authority,
    client: Leaf,
}

impl Pki {
    fn new() -> Self {
        let dir = TempDir::new();
        let ca = Authority::new(dir.path(), "server-ca", "wasmgate CLI server CA");
        let clients = Authority::new(dir.path(), "client-ca", "wasmgate CLI client CA");
        let client = clients.leaf(
            dir.path(),
            "client",
            &["client.test"],
            Usage::Client,
            Validity::Current,
        );
        Self {
            dir,
            ca,
            clients,
            client,
        }
    }

    fn server(&self, stem: &str, required: bool) -> TestServer {
        let leaf = self.ca.leaf(
            self.dir.path(),
            stem,
            &["127.0.0.1"],
            Usage::Server,
            Validity::Current,
        );
        TestServer::https(self.clients.server_config_asking(&leaf, required))
    }
}

fn client_certs(server: &TestServer) -> usize {
    server.stats().client_certs.load(Ordering::SeqCst)
}

fn get(config: &std::path::Path, extra: &[&str], server: &TestServer) -> Run {
    let mut args = vec![
        "run".to_string(),
        "--config".into(),
        config.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([http_client(), "get".into(), server.url("/hello")]);
    wasmgate(args)
}

#[test]
fn a_tls_entry_presents_its_client_certificate_to_its_hosts_only() {
    let pki = Pki::new();
    let requiring = pki.server("requiring", true);
    let asking = pki.server("asking", false);
    // Relative paths: relative to the config file's folder.
    let config = pki.dir.write(
        "wasmgate.toml",
        format!(
            r#"allow = ["{}", "{}"]
ca_certs = ["server-ca.pem"]

[[tls]]
hosts = ["{}"]
client_cert = "client.pem"
client_key = "client.key"
"#,
            requiring.base(),
            asking.base(),
            requiring.addr()
        ),
    );
    get(&config, &[], &requiring)
        .expect_code(0)
        .stdout_has(HELLO_BODY);
    assert_eq!(client_certs(&requiring), 1);
    get(&config, &[], &asking)
        .expect_code(0)
        .stdout_has(HELLO_BODY);
    assert_eq!(asking.stats().tls_handshakes.load(Ordering::SeqCst), 1);
    assert_eq!(
        client_certs(&asking),
        0,
        "not sent outside the entry's hosts"
    );
}

#[test]
fn without_a_client_certificate_the_refusal_names_the_setting() {
    let pki = Pki::new();
    let server = pki.server("server", true);
    let run = wasmgate([
        "run",
        "--ca-cert",
        pki.ca.pem.to_str().unwrap(),
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &server.url("/hello"),
    ]);
    run.expect_code(1)
        .stderr_has("error: TlsAlertReceived(")
        .stderr_has(&format!(
            "wasmgate: GET {} failed: TLS refused by the server: ",
            server.url("/hello")
        ))
        .stderr_has("requires a client certificate")
        .stderr_has(&format!(
            "none is configured for {}; add a [[tls]] entry with hosts = [\"{}\"]",
            server.addr(),
            server.addr()
        ))
        .stderr_has(&format!("--client-cert-host {}", server.addr()));
    assert_eq!(requests(&server), 0);

    // The flags the message names work.
    let run = wasmgate([
        "run",
        "--ca-cert",
        pki.ca.pem.to_str().unwrap(),
        "--client-cert",
        pki.client.cert_pem.to_str().unwrap(),
        "--client-key",
        pki.client.key_pem.to_str().unwrap(),
        "--client-cert-host",
        &server.addr().to_string(),
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &server.url("/hello"),
    ]);
    run.expect_code(0).stdout_has(HELLO_BODY);
    assert_eq!(client_certs(&server), 1);
}

#[test]
fn bad_tls_settings_exit_125_naming_what_is_wrong() {
    let pki = Pki::new();
    let other = pki.clients.leaf(
        pki.dir.path(),
        "other",
        &["o.test"],
        Usage::Client,
        Validity::Current,
    );
    let cases = [
        (
            "[[tls]]\nhosts = [\"127.0.0.1:*\"]\nclient_cert = \"client.pem\"\nclient_key = \"other.key\"\n"
                .to_string(),
            format!(
                "client key {} does not fit client certificate {}",
                other.key_pem.display(),
                pki.client.cert_pem.display()
            ),
        ),
        (
            "[[tls]]\nhosts = [\"https://127.0.0.1\"]\nca_certs = [\"server-ca.pem\"]\n"
                .to_string(),
            "[[tls]] entry 1: invalid destination \"https://127.0.0.1\"".to_string(),
        ),
        (
            "[[tls]]\nhosts = [\"127.0.0.1\"]\nclient_cert = \"client.pem\"\n".to_string(),
            "[[tls]] entry 1 has client_cert".to_string(),
        ),
        (
            "[[tls]]\nhosts = [\"127.0.0.1\"]\nca_certs = [\"missing.pem\"]\n".to_string(),
            format!(
                "cannot read CA certificate file {}",
                pki.dir.path().join("missing.pem").display()
            ),
        ),
        (
            "[[tls]]\nhosts = [\"127.0.0.1\"]\nclient_certs = \"client.pem\"\n".to_string(),
            "unknown field `client_certs`".to_string(),
        ),
    ];
    for (i, (toml, says)) in cases.iter().enumerate() {
        let config = pki.dir.write(&format!("bad{i}.toml"), toml);
        let run = wasmgate(["run", "--config", config.to_str().unwrap(), &wasip1_hello()]);
        run.expect_code(125).stderr_has(says);
        assert_eq!(run.stdout, "", "the guest must not run");
    }
    let run = wasmgate([
        "run",
        "--client-cert",
        pki.client.cert_pem.to_str().unwrap(),
        "--client-key",
        pki.client.key_pem.to_str().unwrap(),
        &wasip1_hello(),
    ]);
    run.expect_code(125)
        .stderr_has("needs --client-cert-host HOST[:PORT]");
}

#[test]
fn a_self_signed_server_certificate_is_pinned_with_ca_cert() {
    let dir = TempDir::new();
    let leaf = Leaf::self_signed_ca(dir.path(), "self-signed");
    let server = TestServer::https(leaf.server_config());
    let args = |ca: bool| {
        let mut a = vec!["run".to_string()];
        if ca {
            a.extend(["--ca-cert".into(), leaf.cert_pem.display().to_string()]);
        }
        a.extend([
            "--allow".into(),
            server.base(),
            http_client(),
            "get".into(),
            server.url("/hello"),
        ]);
        a
    };
    wasmgate(args(false))
        .expect_code(1)
        .stderr_has("error: TlsCertificateError")
        .stderr_has("is a CA certificate (CA:TRUE, as `openssl req -x509` makes it)");
    wasmgate(args(true)).expect_code(0).stdout_has(HELLO_BODY);
    assert_eq!(requests(&server), 1);
}

#[test]
fn an_expired_certificate_is_named_with_its_date() {
    let dir = TempDir::new();
    let ca = Authority::new(dir.path(), "ca", "wasmgate CLI expiry CA");
    let leaf = ca.leaf(
        dir.path(),
        "server",
        &["127.0.0.1"],
        Usage::Server,
        Validity::Expired,
    );
    let server = TestServer::https(leaf.server_config());
    let run = wasmgate([
        "run",
        "--ca-cert",
        ca.pem.to_str().unwrap(),
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &server.url("/hello"),
    ]);
    run.expect_code(1)
        .stderr_has("error: TlsCertificateError")
        .stderr_has("the certificate expired on Jan  1 00:00:00 2001")
        .stderr_lacks("--ca-cert FILE");
}

/// `--ca-system` (and `ca_system = true`) read the system store, which SSL_CERT_FILE
/// points at here: the private CA in it is then trusted.
#[test]
fn ca_system_trusts_the_system_store() {
    let dir = TempDir::new();
    let ca = TestCa::new(dir.path());
    let server = TestServer::https(ca.server_config.clone());
    let env: [(&str, &OsStr); 1] = [("SSL_CERT_FILE", ca.ca_pem.as_os_str())];
    let run = |extra: &[&str]| {
        let mut a: Vec<String> = vec!["run".into()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend([
            "--allow".into(),
            server.base(),
            http_client(),
            "get".into(),
            server.url("/hello"),
        ]);
        wasmgate_with_env(None, &env, a)
    };
    run(&[])
        .expect_code(1)
        .stderr_has("add --ca-system (ca_system = true)");
    run(&["--ca-system"]).expect_code(0).stdout_has(HELLO_BODY);
    let config = dir.write("wasmgate.toml", "ca_system = true\n");
    run(&["--config", config.to_str().unwrap()])
        .expect_code(0)
        .stdout_has(HELLO_BODY);
}
