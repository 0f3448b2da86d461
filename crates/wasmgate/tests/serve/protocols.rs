//! HTTP/2 (prior knowledge) and TLS termination with ALPN, readiness and metrics.

use crate::support::{Running, get, policy, probe};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use wasmgate::{ServeConfig, ServerTlsFiles};

#[test]
fn http2_with_prior_knowledge() {
    let server = Running::start(probe(), policy(&[]), ServeConfig::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (version, body) = rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = http::Request::builder()
            .uri(format!("http://{}/hello", server.addr))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let version = resp.version();
        (
            version,
            resp.into_body().collect().await.unwrap().to_bytes(),
        )
    });
    assert_eq!(version, http::Version::HTTP_2);
    assert_eq!(&body[..], b"hello from serve-probe");
}

/// A self-signed certificate for 127.0.0.1, written as PEM files into a temp dir.
fn certificate() -> (ServerTlsFiles, CertificateDer<'static>) {
    let dir = std::env::temp_dir().join(format!("wasmgate-serve-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.self_signed(&key).unwrap();
    let files = ServerTlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    (files, CertificateDer::from(cert.der().to_vec()))
}

#[test]
fn tls_termination_serves_http2_and_http1_by_alpn() {
    let (files, der) = certificate();
    let server = Running::start(
        probe(),
        policy(&[]),
        ServeConfig {
            tls: Some(files),
            ..ServeConfig::default()
        },
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (alpn, want) in [
        (b"h2".to_vec(), http::Version::HTTP_2),
        (b"http/1.1".to_vec(), http::Version::HTTP_11),
    ] {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![alpn];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let (version, body) = rt.block_on(async {
            let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
            let name =
                ServerName::IpAddress("127.0.0.1".parse::<std::net::IpAddr>().unwrap().into());
            let tls = connector.connect(name, tcp).await.expect("TLS handshake");
            let io = TokioIo::new(tls);
            let req = http::Request::builder()
                .uri(format!("https://{}/hello", server.addr))
                .header("host", server.addr.to_string())
                .body(Empty::<Bytes>::new())
                .unwrap();
            let resp = if want == http::Version::HTTP_2 {
                let (mut s, c) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .unwrap();
                tokio::spawn(c);
                let mut req = req;
                req.headers_mut().remove("host");
                s.send_request(req).await.unwrap()
            } else {
                let (mut s, c) = hyper::client::conn::http1::handshake(io).await.unwrap();
                tokio::spawn(c);
                s.send_request(req).await.unwrap()
            };
            let version = resp.version();
            (
                version,
                resp.into_body().collect().await.unwrap().to_bytes(),
            )
        });
        assert_eq!(version, want);
        assert_eq!(&body[..], b"hello from serve-probe");
    }
}

#[test]
fn metrics_and_readiness_on_their_own_address() {
    let server = Running::start(
        probe(),
        policy(&[]),
        ServeConfig {
            metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
            ..ServeConfig::default()
        },
    );
    let metrics = server.metrics.expect("metrics address");
    assert_eq!(get(server.addr, "/hello").status, 200);
    assert_eq!(get(server.addr, "/trap").status, 500);
    server.access.wait_for(2);
    let ready = get(metrics, "/healthz");
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));
    let text = get(metrics, "/metrics").body;
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    assert_eq!(value("wasmgate_serve_requests_total{status=\"200\"}"), 1.0);
    assert_eq!(value("wasmgate_serve_requests_total{status=\"500\"}"), 1.0);
    assert_eq!(value("wasmgate_serve_handler_traps_total"), 1.0);
    assert_eq!(value("wasmgate_serve_request_duration_seconds_count"), 2.0);
    assert_eq!(value("wasmgate_serve_in_flight_requests"), 0.0);
    // The handler's path is not served on the metrics address, nor the reverse.
    assert_eq!(get(metrics, "/hello").status, 404);
    assert_eq!(get(server.addr, "/metrics").status, 404);
}
