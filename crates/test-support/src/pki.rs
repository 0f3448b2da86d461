//! Certificates for TLS tests beyond [`crate::TestCa`]: an authority that issues any
//! number of leaves (expired ones, client certificates), a self-signed server
//! certificate marked CA:TRUE as `openssl req -x509` makes it, and server configs that
//! ask for client certificates.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A certificate authority whose certificate is written to `<dir>/<stem>.pem`.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    /// The CA certificate's PEM file.
    pub pem: PathBuf,
}

/// When a leaf is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// From 1975 to 4096: valid now, whatever the clock says.
    Current,
    /// From 2000 to 2001: expired.
    Expired,
}

/// What a leaf is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// A server certificate (serverAuth) for the names given.
    Server,
    /// A client certificate (clientAuth).
    Client,
}

/// A certificate and its key, in memory and as PEM files.
pub struct Leaf {
    /// The certificate's PEM file.
    pub cert_pem: PathBuf,
    /// The private key's PEM file (PKCS#8).
    pub key_pem: PathBuf,
    der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl Authority {
    /// A new CA named `name`, its PEM in `dir/<stem>.pem`.
    pub fn new(dir: &Path, stem: &str, name: &str) -> Self {
        let key = KeyPair::generate().expect("ca key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("ca cert");
        std::fs::create_dir_all(dir).expect("create cert dir");
        let pem = dir.join(format!("{stem}.pem"));
        std::fs::write(&pem, cert.pem()).expect("write ca pem");
        Self {
            issuer: Issuer::new(params, key),
            der: cert.der().clone(),
            pem,
        }
    }

    /// A leaf signed by this CA for `names` (DNS names or IP addresses), written to
    /// `dir/<stem>.pem` and `dir/<stem>.key`.
    pub fn leaf(
        &self,
        dir: &Path,
        stem: &str,
        names: &[&str],
        usage: Usage,
        validity: Validity,
    ) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = leaf_params(names, validity);
        params.extended_key_usages = vec![match usage {
            Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        let cert = params.signed_by(&key, &self.issuer).expect("leaf cert");
        Leaf::write(dir, stem, cert.pem(), cert.der().clone(), key)
    }

    /// A server config presenting `leaf` that asks for a client certificate issued by
    /// this CA: required, or optional (then the handshake goes on without one).
    pub fn server_config_asking(&self, leaf: &Leaf, required: bool) -> Arc<rustls::ServerConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.der.clone()).expect("client CA root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        let verifier = if required {
            verifier.build()
        } else {
            verifier.allow_unauthenticated().build()
        }
        .expect("client verifier");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![leaf.der.clone()], leaf.key())
            .expect("server config");
        alpn(config)
    }
}

impl Leaf {
    /// A self-signed certificate for `localhost` and 127.0.0.1 marked CA:TRUE, as
    /// `openssl req -x509 -newkey … -subj /CN=localhost -addext subjectAltName=…` makes it.
    pub fn self_signed_ca(dir: &Path, stem: &str) -> Leaf {
        let key = KeyPair::generate().expect("key");
        let mut params = leaf_params(&["localhost", "127.0.0.1"], Validity::Current);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = params.self_signed(&key).expect("self-signed cert");
        Leaf::write(dir, stem, cert.pem(), cert.der().clone(), key)
    }

    fn write(
        dir: &Path,
        stem: &str,
        pem: String,
        der: CertificateDer<'static>,
        key: KeyPair,
    ) -> Leaf {
        std::fs::create_dir_all(dir).expect("create cert dir");
        let cert_pem = dir.join(format!("{stem}.pem"));
        let key_pem = dir.join(format!("{stem}.key"));
        std::fs::write(&cert_pem, pem).expect("write cert pem");
        std::fs::write(&key_pem, key.serialize_pem()).expect("write key pem");
        Leaf {
            cert_pem,
            key_pem,
            der,
            key_der: key.serialize_der(),
        }
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// A server config presenting this certificate, asking for no client certificate.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.der.clone()], self.key())
            .expect("server config");
        alpn(config)
    }
}

fn leaf_params(names: &[&str], validity: Validity) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    for name in names {
        params.subject_alt_names.push(match name.parse() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*name).try_into().expect("dns name")),
        });
    }
    let (from, to) = match validity {
        Validity::Current => (1975, 4096),
        Validity::Expired => (2000, 2001),
    };
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(to, 1, 1);
    params
}

fn alpn(mut config: rustls::ServerConfig) -> Arc<rustls::ServerConfig> {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}
