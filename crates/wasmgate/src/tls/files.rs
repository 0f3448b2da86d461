//! Reading what TLS is configured with, at start: CA files, client certificate chains
//! and keys, and the operating system's trust store. Every failure here is a config
//! error naming the file and what it should hold.

use crate::{Error, ErrorKind};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

/// Every certificate in the PEM file `file`; `what` says what it is for ("CA certificate",
/// "client certificate") in messages.
pub(super) fn read_certs(file: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| {
            config(format!(
                "cannot read {what} file {}: {e}; expected a PEM file with one or more `-----BEGIN CERTIFICATE-----` blocks",
                file.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(config(format!(
            "{what} file {} holds no certificate; expected PEM `-----BEGIN CERTIFICATE-----` blocks",
            file.display()
        )));
    }
    Ok(certs)
}

/// The private key in the PEM file `file` (PKCS#8, PKCS#1 or SEC1).
pub(super) fn read_key(file: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_file(file).map_err(|e| {
        config(format!(
            "cannot read client key file {}: {e}; expected a PEM file with an unencrypted `-----BEGIN PRIVATE KEY-----` (or RSA/EC PRIVATE KEY) block",
            file.display()
        ))
    })
}

/// Adds the CA certificates of `files` to `roots`; returns every certificate read (the
/// candidates for pinning).
pub(super) fn add_ca_files(
    roots: &mut rustls::RootCertStore,
    files: &[impl AsRef<Path>],
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let mut all = Vec::new();
    for file in files {
        let file = file.as_ref();
        for cert in read_certs(file, "CA certificate")? {
            roots.add(cert.clone()).map_err(|e| {
                config(format!(
                    "CA certificate in {} is not usable: {e}; expected an X.509 certificate (a CA, or the server's own certificate to pin it)",
                    file.display()
                ))
            })?;
            all.push(cert);
        }
    }
    Ok(all)
}

/// Adds the operating system's trust store to `roots`. A store that cannot be read, or
/// a certificate in it that rustls cannot use, is skipped with a debug note: one stale
/// entry among hundreds must not stop every run. Returns how many were added.
pub(super) fn add_system_roots(roots: &mut rustls::RootCertStore) -> usize {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!("system trust store: skipped: {e}");
    }
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        tracing::debug!("system trust store: skipped {ignored} certificates rustls cannot use");
    }
    tracing::debug!("system trust store: {added} certificates added");
    added
}

fn config(msg: String) -> Error {
    Error::new(ErrorKind::Config, msg)
}
