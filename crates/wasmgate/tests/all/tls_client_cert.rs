//! Mutual TLS: a server that requires a client certificate refuses a client without one
//! (the message names the setting), accepts the one a `[[tls]]` entry gives, and a
//! server outside the entry's hosts never sees it. Bad files are config errors.

use super::harness::*;
use std::sync::atomic::Ordering;
use wasmgate::TlsEntry;
use wasmgate_policy::DestinationPattern;
use wasmgate_test_support::pki::{Authority, Leaf, Usage, Validity};
use wasmgate_test_support::rust_guest::rust_guest;

/// A server trusted through `ca`, asking for client certificates issued by `clients`.
struct Mtls {
    dir: std::path::PathBuf,
    ca: Authority,
    clients: Authority,
    client: Leaf,
}

impl Mtls {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("wasmgate-{name}-{}", std::process::id()));
        let ca = Authority::new(&dir, "server-ca", "wasmgate mTLS server CA");
        let clients = Authority::new(&dir, "client-ca", "wasmgate mTLS client CA");
        let client = clients.leaf(
            &dir,
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

    /// A server requiring (or only asking for) a client certificate.
    fn server(&self, stem: &str, required: bool) -> TestServer {
        let leaf = self.ca.leaf(
            &self.dir,
            stem,
            &["127.0.0.1"],
            Usage::Server,
            Validity::Current,
        );
        TestServer::https(self.clients.server_config_asking(&leaf, required))
    }

    /// An entry presenting the client certificate to `server` only.
    fn entry_for(&self, server: &TestServer) -> TlsEntry {
        let host = DestinationPattern::parse(&server.addr().to_string()).unwrap();
        TlsEntry::new(vec![host]).client_cert(&self.client.cert_pem, &self.client.key_pem)
    }
}

fn client_certs(server: &TestServer) -> usize {
    server.stats().client_certs.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_client_certificate_the_message_names_the_setting() {
    let m = Mtls::new("mtls-none");
    let server = m.server("server", true);
    let ran = Setup::allow(server.base())
        .ca(m.ca.pem.clone())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.failed();
    // wasi:http's code for an alert (with its number, 116, when the alert was read before
    // the connection's write failed), carrying the message.
    let line = ran.error_line();
    assert!(line.starts_with("error: TlsAlertReceived("), "{line}");
    assert!(line.contains("requires a client certificate"), "{line}");
    let msg = ran.last_error();
    assert!(msg.contains("requires a client certificate"), "{msg}");
    assert!(
        msg.contains(&format!("none is configured for {}", server.addr())),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "add a [[tls]] entry with hosts = [\"{}\"], client_cert",
            server.addr()
        )),
        "{msg}"
    );
    assert!(msg.contains("--client-cert-host"), "{msg}");
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 0);

    let abi = tokio::task::spawn_blocking(|| rust_guest("rust-guest-client", "wasm32-wasip1"))
        .await
        .unwrap();
    let ran = Setup::allow(server.base())
        .ca(m.ca.pem.clone())
        .run_wasm(&abi, &["get", &server.url("/hello")])
        .await;
    ran.failed();
    let line = ran.error_line();
    assert!(line.starts_with("error: Tls "), "{line}");
    assert!(line.contains("requires a client certificate"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_entrys_client_certificate_is_presented_to_its_hosts_only() {
    let m = Mtls::new("mtls-ok");
    let requiring = m.server("requiring", true);
    let asking = m.server("asking", false);
    for server in [&requiring, &asking] {
        let ran = Setup::allow(server.base())
            .ca(m.ca.pem.clone())
            .tls_entry(m.entry_for(&requiring))
            .run(Guest::HttpClient, &["get", &server.url("/hello")])
            .await;
        ran.ok();
        assert!(ran.stdout.contains("status: 200"), "{}", ran.stdout);
    }
    assert_eq!(client_certs(&requiring), 1, "presented to the entry's host");
    assert_eq!(asking.stats().tls_handshakes.load(Ordering::SeqCst), 1);
    assert_eq!(
        client_certs(&asking),
        0,
        "never presented to a host outside the entry"
    );

    let abi = tokio::task::spawn_blocking(|| rust_guest("rust-guest-client", "wasm32-wasip1"))
        .await
        .unwrap();
    let ran = Setup::allow(requiring.base())
        .ca(m.ca.pem.clone())
        .tls_entry(m.entry_for(&requiring))
        .run_wasm(&abi, &["get", &requiring.url("/hello")])
        .await;
    ran.ok().has_line("status: 200");
    assert_eq!(client_certs(&requiring), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_certificate_the_server_does_not_trust_is_named() {
    let m = Mtls::new("mtls-untrusted");
    let server = m.server("server", true);
    let stranger = Authority::new(&m.dir, "stranger-ca", "wasmgate stranger CA");
    let wrong = stranger.leaf(
        &m.dir,
        "wrong",
        &["client.test"],
        Usage::Client,
        Validity::Current,
    );
    let host = DestinationPattern::parse(&server.addr().to_string()).unwrap();
    let ran = Setup::allow(server.base())
        .ca(m.ca.pem.clone())
        .tls_entry(TlsEntry::new(vec![host]).client_cert(&wrong.cert_pem, &wrong.key_pem))
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.failed();
    assert!(
        ran.error_line().starts_with("error: TlsAlertReceived("),
        "{}",
        ran.error_line()
    );
    let msg = ran.last_error();
    assert!(
        msg.contains("did not accept the client certificate"),
        "{msg}"
    );
    assert!(msg.contains(&wrong.cert_pem.display().to_string()), "{msg}");
    assert!(
        !msg.contains("[[tls]]"),
        "the setting is there already: {msg}"
    );
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 0);
}

#[test]
fn bad_client_certificate_files_are_config_errors_naming_the_file() {
    let m = Mtls::new("mtls-files");
    let other = m.clients.leaf(
        &m.dir,
        "other",
        &["other.test"],
        Usage::Client,
        Validity::Current,
    );
    let host = || vec![DestinationPattern::parse("127.0.0.1:*").unwrap()];
    let build = |entry: TlsEntry| match wasmgate::Runner::builder().tls_entry(entry).build() {
        Ok(_) => panic!("the entry must be refused"),
        Err(e) => e,
    };
    let e = build(TlsEntry::new(host()).client_cert(&m.client.cert_pem, &other.key_pem));
    assert_eq!(e.kind(), wasmgate::ErrorKind::Config);
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "client key {} does not fit client certificate {}",
            other.key_pem.display(),
            m.client.cert_pem.display()
        )),
        "{msg}"
    );

    let missing = m.dir.join("missing.pem");
    let msg = build(TlsEntry::new(host()).client_cert(&missing, &m.client.key_pem)).to_string();
    assert!(
        msg.contains(&format!(
            "cannot read client certificate file {}",
            missing.display()
        )),
        "{msg}"
    );
    let msg = build(TlsEntry::new(host()).client_cert(&m.client.cert_pem, &missing)).to_string();
    assert!(
        msg.contains(&format!(
            "cannot read client key file {}",
            missing.display()
        )),
        "{msg}"
    );
    let msg = build(TlsEntry::new(host()).ca_file(&m.client.key_pem)).to_string();
    assert!(msg.contains("holds no certificate"), "{msg}");
}
