//! Trusting servers: a self-signed CA:TRUE certificate pinned by giving it as a CA file
//! (and refused without it, for another name, or when another certificate is given), a
//! private CA's expired or misnamed leaf (the message says which), and the system store.

use super::harness::*;
use wasmgate::StaticResolver;
use wasmgate_test_support::pki::{Authority, Leaf, Usage, Validity};
use wasmgate_test_support::rust_guest::rust_guest;

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("wasmgate-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The Rust guest client built for the host ABI (a core module).
async fn abi_client() -> std::path::PathBuf {
    tokio::task::spawn_blocking(|| rust_guest("rust-guest-client", "wasm32-wasip1"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_ca_certificate_given_as_ca_cert_is_pinned_for_both_guest_kinds() {
    let dir = tempdir("pin-ok");
    let leaf = Leaf::self_signed_ca(&dir, "server");
    let server = TestServer::https(leaf.server_config());
    let ran = Setup::allow(server.base())
        .ca(leaf.cert_pem.clone())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.ok();
    assert!(ran.stdout.contains("status: 200"), "{}", ran.stdout);

    let ran = Setup::allow(server.base())
        .ca(leaf.cert_pem.clone())
        .run_wasm(&abi_client().await, &["get", &server.url("/hello")])
        .await;
    ran.ok().has_line("status: 200");
    assert_eq!(ran.body(), "hello from the test server");
    assert_eq!(
        server
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_ca_certificate_without_ca_cert_is_refused_saying_how_to_pin_it() {
    let dir = tempdir("pin-none");
    let leaf = Leaf::self_signed_ca(&dir, "server");
    let server = TestServer::https(leaf.server_config());
    let ran = Setup::allow(server.base())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.guest_error("TlsCertificateError");
    let msg = ran.last_error();
    assert!(msg.contains("is a CA certificate (CA:TRUE"), "{msg}");
    assert!(
        msg.contains("pass the server's current certificate itself with --ca-cert"),
        "{msg}"
    );

    let ran = Setup::allow(server.base())
        .run_wasm(&abi_client().await, &["get", &server.url("/hello")])
        .await;
    ran.failed();
    let line = ran.error_line();
    assert!(line.starts_with("error: Tls "), "{line}");
    assert!(line.contains("TLS certificate not accepted"), "{line}");
    assert!(line.contains("CA:TRUE"), "{line}");
    assert_eq!(
        server
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pinning_needs_the_same_certificate_and_a_matching_name() {
    let dir = tempdir("pin-other");
    let leaf = Leaf::self_signed_ca(&dir, "server");
    let other = Leaf::self_signed_ca(&dir, "other");
    let server = TestServer::https(leaf.server_config());
    // Another self-signed certificate with the same names is not this one.
    let ran = Setup::allow(server.base())
        .ca(other.cert_pem.clone())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.guest_error("TlsCertificateError");
    let msg = ran.last_error();
    assert!(msg.contains("none of"), "{msg}");
    assert!(msg.contains("holds this exact certificate"), "{msg}");

    // The pinned certificate, reached by a name it is not issued for.
    let port = server.addr().port();
    let ran = Setup::allow(format!("https://pinned.test:{port}"))
        .resolver(StaticResolver::new().with("pinned.test", ["127.0.0.1".parse().unwrap()]))
        .cidr("127.0.0.1/32")
        .ca(leaf.cert_pem.clone())
        .run(
            Guest::HttpClient,
            &["get", &format!("https://pinned.test:{port}/hello")],
        )
        .await;
    ran.guest_error("TlsCertificateError");
    let msg = ran.last_error();
    assert!(
        msg.contains("issued for localhost, 127.0.0.1, not for pinned.test"),
        "{msg}"
    );
    assert_eq!(
        server
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_certificate_says_when_it_expired() {
    let dir = tempdir("expired");
    let ca = Authority::new(&dir, "ca", "wasmgate expiry CA");
    let leaf = ca.leaf(
        &dir,
        "server",
        &["127.0.0.1"],
        Usage::Server,
        Validity::Expired,
    );
    let server = TestServer::https(leaf.server_config());
    let ran = Setup::allow(server.base())
        .ca(ca.pem.clone())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.guest_error("TlsCertificateError");
    let msg = ran.last_error();
    assert!(msg.contains("the certificate expired on"), "{msg}");
    assert!(msg.contains("2001"), "{msg}");
    assert!(
        !msg.contains("--ca-cert"),
        "the CA is trusted already: {msg}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_mismatch_lists_the_names_the_certificate_has() {
    let dir = tempdir("mismatch");
    let ca = Authority::new(&dir, "ca", "wasmgate mismatch CA");
    let leaf = ca.leaf(
        &dir,
        "server",
        &["elsewhere.test", "alt.test"],
        Usage::Server,
        Validity::Current,
    );
    let server = TestServer::https(leaf.server_config());
    let ran = Setup::allow(server.base())
        .ca(ca.pem.clone())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.guest_error("TlsCertificateError");
    let msg = ran.last_error();
    assert!(
        msg.contains("issued for elsewhere.test, alt.test, not for 127.0.0.1"),
        "{msg}"
    );
    assert!(!msg.contains("--ca-cert"), "{msg}");
}

/// The system store loads (whatever it holds on this machine), and a message for an
/// unknown issuer no longer suggests adding it.
#[tokio::test(flavor = "multi_thread")]
async fn the_system_store_loads_and_is_not_suggested_once_added() {
    wasmgate::Runner::builder()
        .ca_system(true)
        .build()
        .expect("--ca-system loads without error");
    let dir = tempdir("system");
    let ca = TestCa::new(&dir);
    let server = TestServer::https(ca.server_config.clone());
    let ran = Setup::allow(server.base())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.guest_error("TlsCertificateError");
    assert!(
        ran.last_error().contains("add --ca-system"),
        "{}",
        ran.last_error()
    );
    let ran = Setup::allow(server.base())
        .ca_system()
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.guest_error("TlsCertificateError");
    let msg = ran.last_error();
    assert!(!msg.contains("add --ca-system"), "{msg}");
    assert!(msg.contains("pass it with --ca-cert"), "{msg}");
}
