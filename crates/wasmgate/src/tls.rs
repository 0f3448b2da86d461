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
    /// Whether CA files were added to the web roots (`--ca-cert`): decides the hint
    /// for a certificate from an unknown issuer.
    ca_given: bool,
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
            ca_given: !ca_files.is_empty(),
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
            let rustls_error = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            match rustls_error {
                Some(rustls::Error::InvalidCertificate(cert)) => ConnectError::Tls(
                    TlsFailure::Certificate,
                    certificate_message(&e.to_string(), cert, self.ca_given),
                ),
                Some(
                    rustls::Error::NoCertificatesPresented
                    | rustls::Error::InvalidCertRevocationList(_),
                ) => ConnectError::Tls(TlsFailure::Certificate, e.to_string()),
                _ => ConnectError::Tls(TlsFailure::Protocol, e.to_string()),
            }
        })
    }
}

/// The text of a refused certificate: rustls' own words, then what they mean and,
/// only where it is the fix, the flag to use. `--ca-cert` helps only with an unknown
/// issuer, and only when no CA file was given yet.
fn certificate_message(text: &str, e: &rustls::CertificateError, ca_given: bool) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer if ca_given => {
            format!("{text}: it does not chain to the --ca-cert files given or to the web roots")
        }
        C::UnknownIssuer => {
            format!("{text}; if the server uses a private CA, pass it with --ca-cert FILE.pem")
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => format!(
            "{text}: the certificate is not issued for the host name in the URL; use a name it is issued for"
        ),
        C::Expired | C::ExpiredContext { .. } => {
            format!("{text}: the certificate has expired (or this machine's clock is wrong)")
        }
        C::NotValidYet | C::NotValidYetContext { .. } => {
            format!("{text}: the certificate is not valid yet (or this machine's clock is wrong)")
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;

    #[test]
    fn only_an_unknown_issuer_without_ca_files_suggests_ca_cert() {
        let hint = "pass it with --ca-cert";
        let table: &[(C, bool, &str, bool)] = &[
            (
                C::UnknownIssuer,
                false,
                "if the server uses a private CA",
                true,
            ),
            (
                C::UnknownIssuer,
                true,
                "does not chain to the --ca-cert files",
                false,
            ),
            (
                C::NotValidForName,
                false,
                "not issued for the host name",
                false,
            ),
            (
                C::NotValidForName,
                true,
                "not issued for the host name",
                false,
            ),
            (C::Expired, false, "has expired", false),
            (C::NotValidYet, true, "not valid yet", false),
            (C::BadSignature, false, "x", false),
        ];
        for (e, ca_given, says, hints) in table {
            let msg = certificate_message("x", e, *ca_given);
            assert!(msg.contains(says), "{e:?} {ca_given}: {msg}");
            assert_eq!(msg.contains(hint), *hints, "{e:?} {ca_given}: {msg}");
        }
    }
}
