//! TLS termination: the server's certificate chain and key from PEM files (rustls,
//! TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`).

use super::ServerTlsFiles;
use crate::{Error, ErrorKind};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The acceptor for `files`; every problem is a configuration error naming the file.
pub(crate) fn acceptor(files: &ServerTlsFiles) -> Result<TlsAcceptor, Error> {
    let config_error = |msg: String| Error::new(ErrorKind::Config, msg);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| {
            config_error(format!(
                "cannot read --tls-cert {}: {e}; expected a PEM file with the certificate chain (`-----BEGIN CERTIFICATE-----` blocks, leaf first)",
                files.cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(config_error(format!(
            "--tls-cert {} holds no certificate; expected PEM `-----BEGIN CERTIFICATE-----` blocks",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        config_error(format!(
            "cannot read --tls-key {}: {e}; expected a PEM private key (`-----BEGIN PRIVATE KEY-----`, RSA or EC)",
            files.key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("cannot set up TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            config_error(format!(
                "--tls-cert {} and --tls-key {} do not make a usable pair: {e}",
                files.cert.display(),
                files.key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
