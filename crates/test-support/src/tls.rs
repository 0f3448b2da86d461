//! A throw-away certificate authority and a server certificate for `localhost`/127.0.0.1.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A CA whose PEM is written to a file (for `--ca-cert`) and a server config signed by it.
pub struct TestCa {
    /// Path of the CA certificate PEM file.
    pub ca_pem: PathBuf,
    /// rustls server config (ALPN h2 + http/1.1) with a certificate for localhost and 127.0.0.1.
    pub server_config: Arc<rustls::ServerConfig>,
}

impl TestCa {
    /// Creates the CA and server certificate; the PEM goes into `dir`.
    pub fn new(dir: &Path) -> Self {
        Self::issue(dir, "wasmgate test CA", "localhost", true)
    }

    /// Like [`TestCa::new`], but the server certificate is for `name` only (not for
    /// `localhost` nor 127.0.0.1): reaching the server by its address is a name mismatch.
    /// The CA has a name of its own, so it is unrelated to [`TestCa::new`]'s.
    pub fn for_name(dir: &Path, name: &str) -> Self {
        Self::issue(dir, &format!("wasmgate test CA for {name}"), name, false)
    }

    fn issue(dir: &Path, ca_name: &str, name: &str, with_loopback_ip: bool) -> Self {
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, ca_name);
        let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(vec![name.to_string()]).expect("params");
        if with_loopback_ip {
            params
                .subject_alt_names
                .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        }
        let cert = params.signed_by(&key, &issuer).expect("server cert");

        std::fs::create_dir_all(dir).expect("create cert dir");
        let ca_pem = dir.join("test-ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).expect("write ca pem");

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Self {
            ca_pem,
            server_config: Arc::new(config),
        }
    }
}
