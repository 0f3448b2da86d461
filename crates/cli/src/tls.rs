//! Outbound TLS settings from the config file (`ca_system`, `[[tls]]` entries) and the
//! flags (`--ca-system`, `--client-cert`/`--client-key`/`--client-cert-host`), validated
//! into the library's [`TlsEntry`] values. The files themselves are read, and checked,
//! when the runner is built.

use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use wasmgate::TlsEntry;
use wasmgate_policy::DestinationPattern;

/// One `[[tls]]` table of the config file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsSection {
    /// Destinations, `HOST[:PORT]` as in rules (no port = 443).
    #[serde(default)]
    pub(crate) hosts: Vec<String>,
    /// CA files trusted for these hosts besides the common roots.
    #[serde(default)]
    pub(crate) ca_certs: Vec<PathBuf>,
    /// Client certificate chain (PEM) presented to these hosts.
    pub(crate) client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub(crate) client_key: Option<PathBuf>,
}

impl TlsSection {
    /// Makes relative paths relative to the config file's folder `base`.
    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        for path in self
            .ca_certs
            .iter_mut()
            .chain(&mut self.client_cert)
            .chain(&mut self.client_key)
        {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }
}

/// The TLS flags of `run` and `serve`.
#[derive(Args, Debug, Default)]
pub(crate) struct TlsFlags {
    /// Also trust the operating system's certificate store (it honours SSL_CERT_FILE and
    /// SSL_CERT_DIR).
    #[arg(long = "ca-system")]
    ca_system: bool,
    /// Present this client certificate (PEM chain) to the --client-cert-host servers
    /// that ask for one (mutual TLS); needs --client-key.
    #[arg(long = "client-cert", value_name = "CERT.pem", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// The private key (PEM) of --client-cert.
    #[arg(long = "client-key", value_name = "KEY.pem", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// A server the --client-cert is presented to: HOST[:PORT] as in rules, no port
    /// meaning 443 (repeatable; required with --client-cert).
    #[arg(
        long = "client-cert-host",
        value_name = "HOST[:PORT]",
        requires = "client_cert"
    )]
    client_cert_host: Vec<String>,
}

/// The validated TLS part of a plan.
#[derive(Debug, Default)]
pub(crate) struct TlsPlan {
    pub(crate) ca_system: bool,
    /// The flags' entry first (flags win over the file), then the file's in order.
    pub(crate) entries: Vec<TlsEntry>,
}

/// Validates the file's `ca_system` and `[[tls]]` tables with the flags.
pub(crate) fn plan(
    file_ca_system: bool,
    sections: Vec<TlsSection>,
    flags: TlsFlags,
) -> Result<TlsPlan, String> {
    let mut entries = Vec::with_capacity(sections.len() + 1);
    if let (Some(cert), Some(key)) = (flags.client_cert, flags.client_key) {
        if flags.client_cert_host.is_empty() {
            return Err(format!(
                "--client-cert {} needs --client-cert-host HOST[:PORT] naming the servers it is presented to, e.g. --client-cert-host api.internal:8443; a client certificate is never sent to every server",
                cert.display()
            ));
        }
        let hosts = destinations("--client-cert-host", &flags.client_cert_host)?;
        entries.push(TlsEntry::new(hosts).client_cert(cert, key));
    }
    for (i, section) in sections.into_iter().enumerate() {
        let at = format!("[[tls]] entry {}", i + 1);
        if section.hosts.is_empty() {
            return Err(format!(
                "{at} has no hosts; expected hosts = [\"HOST[:PORT]\", …] naming the servers it applies to, e.g. hosts = [\"api.internal:8443\"]"
            ));
        }
        let hosts = destinations(&at, &section.hosts)?;
        let mut entry = TlsEntry::new(hosts);
        for ca in section.ca_certs.iter() {
            entry = entry.ca_file(ca);
        }
        entry = match (section.client_cert, section.client_key) {
            (Some(cert), Some(key)) => entry.client_cert(cert, key),
            (Some(cert), None) => {
                return Err(format!(
                    "{at} has client_cert = {:?} but no client_key; expected client_key = \"KEY.pem\", the certificate's private key",
                    cert.display().to_string()
                ));
            }
            (None, Some(key)) => {
                return Err(format!(
                    "{at} has client_key = {:?} but no client_cert; expected client_cert = \"CERT.pem\", the certificate (chain) of that key",
                    key.display().to_string()
                ));
            }
            (None, None) if section.ca_certs.is_empty() => {
                return Err(format!(
                    "{at} sets nothing for its hosts; expected ca_certs = [\"CA.pem\"] and/or client_cert with client_key"
                ));
            }
            (None, None) => entry,
        };
        entries.push(entry);
    }
    Ok(TlsPlan {
        ca_system: flags.ca_system || file_ca_system,
        entries,
    })
}

fn destinations(what: &str, hosts: &[String]) -> Result<Vec<DestinationPattern>, String> {
    hosts
        .iter()
        .map(|h| DestinationPattern::parse(h).map_err(|e| format!("{what}: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(hosts: &[&str], ca: bool, cert: bool, key: bool) -> TlsSection {
        TlsSection {
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ca_certs: if ca { vec!["ca.pem".into()] } else { vec![] },
            client_cert: cert.then(|| "c.pem".into()),
            client_key: key.then(|| "c.key".into()),
        }
    }

    fn err(s: TlsSection) -> String {
        plan(false, vec![s], TlsFlags::default()).unwrap_err()
    }

    #[test]
    fn incomplete_entries_are_refused_saying_what_is_missing() {
        assert!(err(section(&[], true, false, false)).contains("[[tls]] entry 1 has no hosts"));
        assert!(err(section(&["a.example"], false, true, false)).contains("no client_key"));
        assert!(err(section(&["a.example"], false, false, true)).contains("no client_cert"));
        assert!(err(section(&["a.example"], false, false, false)).contains("sets nothing"));
        let bad = err(section(&["https://a.example"], true, false, false));
        assert!(
            bad.contains("[[tls]] entry 1: invalid destination \"https://a.example\""),
            "{bad}"
        );
    }

    #[test]
    fn a_client_certificate_flag_needs_its_hosts() {
        let flags = TlsFlags {
            client_cert: Some("c.pem".into()),
            client_key: Some("c.key".into()),
            ..TlsFlags::default()
        };
        let e = plan(false, vec![], flags).unwrap_err();
        assert!(e.contains("needs --client-cert-host"), "{e}");
        let flags = TlsFlags {
            client_cert: Some("c.pem".into()),
            client_key: Some("c.key".into()),
            client_cert_host: vec!["a.example:8443".into()],
            ca_system: true,
        };
        let p = plan(
            false,
            vec![section(&["b.example"], true, false, false)],
            flags,
        )
        .unwrap();
        assert_eq!(p.entries.len(), 2);
        assert!(p.ca_system);
    }
}
