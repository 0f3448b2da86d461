//! TLS client configuration: the standard web roots plus any CA files the user adds.

use crate::outbound::TlsFailure;
use crate::outbound::connect::ConnectError;
use crate::{Error, ErrorKind};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use wasmgate_policy::Host;

/// A ready TLS client configuration (roots + ALPN `h2`, `http/1.1`).
#[derive(Clone)]
pub struct TlsConfig {
    connector: TlsConnector,
}

impl TlsConfig {
    /// The standard web roots plus each PEM file in `ca_files` (every certificate in a
    /// file is added).
    pub fn new(ca_files: &[impl AsRef<Path>]) -> Result<Self, Error> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        for file in ca_files {
            let file = file.as_ref();
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Config,
                        format!(
                            "cannot read CA certificate file {}: {e}; expected a PEM file with one or more `-----BEGIN CERTIFICATE-----` blocks",
                            file.display()
                        ),
                    )
                })?;
            if certs.is_empty() {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "CA certificate file {} holds no certificate; expected PEM `-----BEGIN CERTIFICATE-----` blocks",
                        file.display()
                    ),
                ));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    Error::new(
                        ErrorKind::Config,
                        format!("CA certificate in {} is not usable: {e}", file.display()),
                    )
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::new(ErrorKind::Config, format!("TLS set-up failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    pub(crate) async fn connect(
        &self,
        host: &Host,
        stream: TcpStream,
    ) -> Result<TlsStream<TcpStream>, ConnectError> {
        let name = match host {
            Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
            Host::Name(n) => ServerName::try_from(n.clone()).map_err(|e| {
                ConnectError::Tls(TlsFailure::Protocol, format!("invalid server name: {e}"))
            })?,
        };
        self.connector.connect(name, stream).await.map_err(|e| {
            let failure = match e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(
                    rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::InvalidCertRevocationList(_),
                ) => TlsFailure::Certificate,
                _ => TlsFailure::Protocol,
            };
            ConnectError::Tls(failure, e.to_string())
        })
    }
}
