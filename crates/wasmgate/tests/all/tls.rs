//! HTTPS against a local rustls server: trusted through an added CA, refused without it,
//! HTTP/2 by ALPN with `:authority` and no `Host` header.

use super::harness::*;
use wasmgate::StaticResolver;

fn localhost() -> StaticResolver {
    StaticResolver::new().with("localhost", ["127.0.0.1".parse().unwrap()])
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_the_ca_uses_http2_and_authority() {
    let dir = tempdir("tls-ok");
    let ca = TestCa::new(&dir);
    let server = TestServer::https(ca.server_config.clone());
    let port = server.addr().port();
    let ran = Setup::allow(format!("https://localhost:{port}"))
        .resolver(localhost())
        .ca(ca.ca_pem.clone())
        .run(
            Guest::HttpClient,
            &["get", &format!("https://localhost:{port}/echo")],
        )
        .await;
    ran.ok();
    assert!(
        ran.stdout.contains("header: x-test-version: HTTP/2.0"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!(
            "header: x-test-uri: https://localhost:{port}/echo"
        )),
        "{}",
        ran.stdout
    );

    let ran = Setup::allow(format!("https://localhost:{port}"))
        .resolver(localhost())
        .ca(ca.ca_pem.clone())
        .run(
            Guest::HttpClient,
            &["get", &format!("https://localhost:{port}/headers")],
        )
        .await;
    ran.ok();
    let body = ran.stdout.split_once("---\n").unwrap().1;
    assert!(
        !body.contains("host:"),
        "HTTP/2 requests must not carry Host: {body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn https_without_the_ca_fails_with_a_certificate_error() {
    let dir = tempdir("tls-bad");
    let ca = TestCa::new(&dir);
    let server = TestServer::https(ca.server_config.clone());
    let ran = Setup::allow(server.base())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.guest_error("TlsCertificateError");
    let msg = ran.last_error();
    assert!(msg.contains("TLS certificate not accepted"), "{msg}");
    assert!(msg.contains("--ca-cert"), "{msg}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_ca_file_is_a_config_error() {
    let dir = tempdir("tls-file");
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = match wasmgate::Runner::builder().ca_file(&junk).build() {
        Ok(_) => panic!("a junk CA file must be refused"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), wasmgate::ErrorKind::Config);
    assert!(err.to_string().contains("holds no certificate"), "{err}");
    let missing = dir.join("missing.pem");
    let err = wasmgate::Runner::builder()
        .ca_file(&missing)
        .build()
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("cannot read CA certificate file"),
        "{err}"
    );
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("wasmgate-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
