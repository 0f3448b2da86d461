//! Outbound TLS: the roots a server's certificate is checked against (web roots, CA
//! files, optionally the system store), certificates pinned by being given as CA files,
//! and per-destination settings (`[[tls]]`: more CAs, a client certificate) chosen by
//! the destination's host and port. Everything is read and built once, at start.

mod asked;
mod files;
mod message;
mod pinned;

use crate::outbound::TlsFailure;
use crate::outbound::connect::ConnectError;
use crate::{Error, ErrorKind};
use message::Given;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use wasmgate_policy::{DestinationPattern, Host};

/// TLS settings for some destinations (a `[[tls]]` entry of the config file): CA files
/// trusted for them besides the common roots, and a client certificate presented to
/// them (and to no other server) when they ask for one.
#[derive(Debug, Clone)]
pub struct TlsEntry {
    hosts: Vec<DestinationPattern>,
    ca_files: Vec<PathBuf>,
    client_cert: Option<(PathBuf, PathBuf)>,
}

impl TlsEntry {
    /// An entry for connections to any of `hosts`.
    pub fn new(hosts: Vec<DestinationPattern>) -> Self {
        Self {
            hosts,
            ca_files: Vec::new(),
            client_cert: None,
        }
    }
    /// Also trusts the CA certificates (or pins the server certificates) in this PEM file.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }
    /// Presents the certificate chain in `cert` (PEM, leaf first) with the private key in
    /// `key` (PEM) when these servers ask for a client certificate (mutual TLS).
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert = Some((cert.into(), key.into()));
        self
    }
}

/// Everything TLS is configured with, before any file is read.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// CA files trusted for every destination (`--ca-cert`).
    pub ca_files: Vec<PathBuf>,
    /// Whether the operating system's trust store is added to the web roots (`--ca-system`).
    pub ca_system: bool,
    /// Per-destination settings; the first entry whose hosts match a connection applies.
    pub entries: Vec<TlsEntry>,
}

/// A ready TLS client configuration (roots + ALPN `h2`, `http/1.1`) for every
/// destination: the default, and one per [`TlsEntry`].
#[derive(Clone)]
pub struct TlsConfig {
    inner: Arc<Profiles>,
}

struct Profiles {
    default: Profile,
    entries: Vec<(Vec<DestinationPattern>, Profile)>,
}

/// One precomputed client configuration and what it was given (for messages).
struct Profile {
    connector: TlsConnector,
    given: Given,
}

impl TlsConfig {
    /// The standard web roots plus each PEM file in `ca_files` (every certificate in a
    /// file is added; one that is a server's own certificate is pinned).
    pub fn new(ca_files: &[impl AsRef<Path>]) -> Result<Self, Error> {
        Self::from_settings(&TlsSettings {
            ca_files: ca_files.iter().map(|f| f.as_ref().to_path_buf()).collect(),
            ..TlsSettings::default()
        })
    }

    /// Reads every file of `settings` and builds one client configuration per entry.
    /// A missing or malformed file, or a key that does not belong to its certificate,
    /// is an [`ErrorKind::Config`] error naming the file.
    pub fn from_settings(settings: &TlsSettings) -> Result<Self, Error> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        if settings.ca_system {
            files::add_system_roots(&mut roots);
        }
        let pinned = files::add_ca_files(&mut roots, &settings.ca_files)?;
        let base = Given {
            ca_files: settings.ca_files.clone(),
            ca_system: settings.ca_system,
            client_cert: None,
        };
        let default = Profile::build(roots.clone(), pinned.clone(), None, base.clone())?;
        let mut entries = Vec::with_capacity(settings.entries.len());
        for entry in &settings.entries {
            let mut roots = roots.clone();
            let mut pinned = pinned.clone();
            pinned.extend(files::add_ca_files(&mut roots, &entry.ca_files)?);
            let mut given = base.clone();
            given.ca_files.extend(entry.ca_files.iter().cloned());
            given.client_cert = entry.client_cert.as_ref().map(|(c, _)| c.clone());
            let profile = Profile::build(roots, pinned, entry.client_cert.as_ref(), given)?;
            entries.push((entry.hosts.clone(), profile));
        }
        Ok(Self {
            inner: Arc::new(Profiles { default, entries }),
        })
    }

    /// The profile for `host`:`port`: the first entry that matches, else the default.
    fn profile(&self, host: &Host, port: u16) -> &Profile {
        self.inner
            .entries
            .iter()
            .find(|(hosts, _)| hosts.iter().any(|h| h.matches(host, port)))
            .map_or(&self.inner.default, |(_, p)| p)
    }

    /// The TLS handshake with `host`:`port` on `stream`, under the settings for that
    /// destination; also says whether the server asked for a client certificate.
    pub(crate) async fn connect(
        &self,
        host: &Host,
        port: u16,
        stream: TcpStream,
    ) -> Result<(TlsStream<TcpStream>, bool), ConnectError> {
        let name = match host {
            Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
            Host::Name(n) => ServerName::try_from(n.clone()).map_err(|e| {
                ConnectError::Tls(TlsFailure::Protocol, format!("invalid server name: {e}"))
            })?,
        };
        let profile = self.profile(host, port);
        let (done, asked) = asked::recording(profile.connector.connect(name, stream)).await;
        let stream = done.map_err(|e| {
            let rustls_error = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            match rustls_error {
                Some(r) => {
                    let (failure, msg) = message::describe(r, &profile.given, &dest(host, port));
                    ConnectError::Tls(failure, msg)
                }
                None => ConnectError::Tls(TlsFailure::Protocol, e.to_string()),
            }
        })?;
        Ok((stream, asked))
    }

    /// The failure class and message for an exchange that failed after the handshake: a
    /// TLS 1.3 server refuses a client certificate after the client finished, with an
    /// alert (a rustls error among `e`'s causes) or, when the write failed first, just a
    /// closed connection — explained when the server `asked_then_closed` (asked for a
    /// client certificate and sent no response). `None` when neither applies.
    pub(crate) fn describe_later(
        &self,
        host: &Host,
        port: u16,
        asked_then_closed: bool,
        e: &(dyn std::error::Error + 'static),
    ) -> Option<(TlsFailure, String)> {
        let mut cause = Some(e);
        let mut text = String::new();
        while let Some(err) = cause {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&err.to_string());
            let found = err.downcast_ref::<rustls::Error>().or_else(|| {
                err.downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            });
            if let Some(r) = found {
                let profile = self.profile(host, port);
                return Some(message::describe(r, &profile.given, &dest(host, port)));
            }
            cause = err.source();
        }
        asked_then_closed.then(|| {
            let profile = self.profile(host, port);
            message::closed_after_asking(&text, &profile.given, &dest(host, port))
        })
    }
}

impl Profile {
    fn build(
        roots: rustls::RootCertStore,
        pinned: Vec<CertificateDer<'static>>,
        client_cert: Option<&(PathBuf, PathBuf)>,
        given: Given,
    ) -> Result<Self, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| config(format!("TLS set-up failed: {e}")))?;
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| config(format!("TLS set-up failed: {e}")))?;
        let builder = if pinned.is_empty() {
            builder.with_webpki_verifier(webpki)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(pinned::PinningVerifier::new(
                    webpki, pinned,
                )))
        };
        let key = match client_cert {
            None => None,
            Some((cert, key)) => {
                let chain = files::read_certs(cert, "client certificate")?;
                let key_der = files::read_key(key)?;
                let certified = rustls::sign::CertifiedKey::from_der(chain, key_der, &provider)
                    .map_err(|e| {
                        config(format!(
                            "client key {} does not fit client certificate {}: {e}; expected the private key made with that certificate (client_key next to client_cert)",
                            key.display(),
                            cert.display()
                        ))
                    })?;
                Some(certified)
            }
        };
        let mut config =
            builder.with_client_cert_resolver(Arc::new(asked::RecordingResolver::new(key)));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            given,
        })
    }
}

/// `host:port` as written in a `[[tls]]` entry's hosts.
fn dest(host: &Host, port: u16) -> String {
    match host {
        Host::Ip(std::net::IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        Host::Ip(ip) => format!("{ip}:{port}"),
        Host::Name(n) => format!("{n}:{port}"),
    }
}

fn config(msg: String) -> Error {
    Error::new(ErrorKind::Config, msg)
}
