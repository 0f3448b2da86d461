//! What a TLS failure means, in words, with only the fixes not already applied: the
//! message knows which CA files, system store and client certificate the destination
//! was given.

use crate::outbound::TlsFailure;
use rustls::{AlertDescription, CertificateError};
use std::path::PathBuf;

/// What one destination's TLS was configured with, for messages.
#[derive(Debug, Clone, Default)]
pub(super) struct Given {
    /// CA files trusted for this destination (`--ca-cert`, `ca_certs`, the entry's).
    pub(super) ca_files: Vec<PathBuf>,
    /// Whether the system trust store is in the roots.
    pub(super) ca_system: bool,
    /// The client certificate file presented when the server asks, if any.
    pub(super) client_cert: Option<PathBuf>,
}

/// The failure class and message for a rustls error on a connection to `dest`
/// (`host:port`).
pub(super) fn describe(e: &rustls::Error, given: &Given, dest: &str) -> (TlsFailure, String) {
    match e {
        rustls::Error::InvalidCertificate(cert) => {
            (TlsFailure::Certificate, certificate(e, cert, given, dest))
        }
        rustls::Error::AlertReceived(alert) => (
            TlsFailure::Alert(Some(u8::from(*alert))),
            received(*alert, given, dest),
        ),
        rustls::Error::NoCertificatesPresented => (
            TlsFailure::Certificate,
            "the server presented no certificate".to_string(),
        ),
        _ => (TlsFailure::Protocol, e.to_string()),
    }
}

fn certificate(e: &rustls::Error, cert: &CertificateError, given: &Given, dest: &str) -> String {
    use CertificateError as C;
    let files = file_list(&given.ca_files);
    let system = if given.ca_system {
        ""
    } else {
        "; if this machine's trust store has its issuer, add --ca-system (ca_system = true)"
    };
    match cert {
        C::UnknownIssuer if given.ca_files.is_empty() => format!(
            "the certificate's issuer is unknown; if the server uses a private CA, pass it with --ca-cert FILE.pem (or ca_certs in a [[tls]] entry for {dest}); for a self-signed server certificate, pass that certificate itself to pin it{system}"
        ),
        C::UnknownIssuer => format!(
            "the certificate's issuer is unknown: it does not chain to the CA files given for {dest} ({files}) nor to the web roots{}; check that one of them is the CA that issued the server's certificate, or the server's certificate itself{system}",
            if given.ca_system { " or the system trust store" } else { "" }
        ),
        C::Other(other)
            if matches!(
                other.0.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ) =>
        {
            let given_files = if given.ca_files.is_empty() {
                String::new()
            } else {
                format!(" (none of {files} holds this exact certificate)")
            };
            format!(
                "the server's certificate is a CA certificate (CA:TRUE, as `openssl req -x509` makes it) used as the server's own, and it is not pinned{given_files}; to trust this self-signed certificate, pass the server's current certificate itself with --ca-cert FILE.pem (or ca_certs in a [[tls]] entry for {dest})"
            )
        }
        C::NotValidForNameContext {
            expected,
            presented,
        } => {
            let host = expected.to_str();
            if presented.is_empty() {
                format!(
                    "the certificate names no host and is not valid for {host}; the server needs a certificate issued for {host}"
                )
            } else {
                format!(
                    "the certificate is issued for {}, not for {host}; use one of those names in the URL, or give the server a certificate for {host}",
                    presented
                        .iter()
                        .map(|n| plain_name(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }
        C::NotValidForName => {
            "the certificate is not issued for the host name in the URL; use a name it is issued for".to_string()
        }
        C::ExpiredContext { not_after, .. } => format!(
            "the certificate expired on {} (or this machine's clock is wrong); the server needs a renewed certificate",
            date(not_after.as_secs())
        ),
        C::Expired => {
            "the certificate has expired (or this machine's clock is wrong); the server needs a renewed certificate".to_string()
        }
        C::NotValidYetContext { not_before, .. } => format!(
            "the certificate is not valid before {} (or this machine's clock is wrong)",
            date(not_before.as_secs())
        ),
        C::NotValidYet => {
            "the certificate is not valid yet (or this machine's clock is wrong)".to_string()
        }
        _ => e.to_string(),
    }
}

/// The setting that presents a client certificate to `dest`.
fn add_client_cert(dest: &str) -> String {
    format!(
        "add a [[tls]] entry with hosts = [\"{dest}\"], client_cert = \"CERT.pem\" and client_key = \"KEY.pem\" to the config file, or pass --client-cert CERT.pem --client-key KEY.pem --client-cert-host {dest}"
    )
}

/// What to check about a client certificate the server did not accept.
const CHECK_CLIENT_CERT: &str = "check that the server trusts the CA that issued it, that it is not expired, and that it is meant for client authentication";

/// A server that asked for a client certificate, then closed the connection without a
/// response (`text` says how the exchange failed): by far most likely a refusal of the
/// certificate sent, or of its absence.
pub(super) fn closed_after_asking(text: &str, given: &Given, dest: &str) -> (TlsFailure, String) {
    let msg = match &given.client_cert {
        None => format!(
            "the server asked for a client certificate and closed the connection without a response ({text}): it most likely requires a client certificate, and none is configured for {dest}; {}",
            add_client_cert(dest)
        ),
        Some(file) => format!(
            "the server asked for a client certificate, was sent {}, and closed the connection without a response ({text}): it most likely did not accept the client certificate; {CHECK_CLIENT_CERT}",
            file.display()
        ),
    };
    (TlsFailure::Alert(None), msg)
}

/// An alert from the server: where it is about the client certificate, says which
/// setting presents one, or which one it refused.
fn received(alert: AlertDescription, given: &Given, dest: &str) -> String {
    use AlertDescription as A;
    let name = alert_name(alert);
    let add = add_client_cert(dest);
    match (&given.client_cert, alert) {
        (None, A::CertificateRequired) => format!(
            "the server requires a client certificate (TLS alert {name}), and none is configured for {dest}; {add}"
        ),
        (None, A::HandshakeFailure) => format!(
            "the server ended the handshake (TLS alert {name}); if it requires a client certificate, none is configured for {dest}: {add}"
        ),
        (
            Some(file),
            A::CertificateRequired
            | A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::AccessDenied
            | A::DecryptError
            | A::HandshakeFailure,
        ) => format!(
            "the server did not accept the client certificate {} (TLS alert {name}); {CHECK_CLIENT_CERT}",
            file.display()
        ),
        _ => format!("the server sent TLS alert {name}"),
    }
}

/// `CertificateRequired` → `certificate_required`, as the TLS specifications name alerts.
fn alert_name(alert: AlertDescription) -> String {
    let debug = format!("{alert:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    // An underscore before each run of capitals but the first: `UnknownCA` → `unknown_ca`.
    let mut after_capital = true;
    for c in debug.chars() {
        let capital = c.is_ascii_uppercase();
        if capital && !after_capital {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        after_capital = capital;
    }
    out
}

/// WebPKI's `DnsName("a.example")` / `IpAddress(127.0.0.1)` as `a.example` / `127.0.0.1`.
fn plain_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|s| s.strip_suffix("\")"))
        .or_else(|| {
            presented
                .strip_prefix("IpAddress(")
                .and_then(|s| s.strip_suffix(')'))
        })
        .unwrap_or(presented)
}

fn file_list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Unix time as the certificate's own date form (`Jan  1 00:00:00 2020 +00:00`).
fn date(secs: u64) -> String {
    match x509_parser::time::ASN1Time::from_timestamp(secs as i64) {
        Ok(t) => t.to_string(),
        Err(_) => format!("{secs} seconds after 1970"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;
    use rustls::pki_types::ServerName;

    fn given(ca: bool, system: bool, client: bool) -> Given {
        Given {
            ca_files: if ca { vec!["corp.pem".into()] } else { vec![] },
            ca_system: system,
            client_cert: client.then(|| "client.pem".into()),
        }
    }

    fn says(e: rustls::Error, g: &Given) -> String {
        describe(&e, g, "api.internal:8443").1
    }

    #[test]
    fn an_unknown_issuer_suggests_only_what_was_not_given() {
        let bare = says(
            rustls::Error::InvalidCertificate(C::UnknownIssuer),
            &given(false, false, false),
        );
        assert!(bare.contains("pass it with --ca-cert"), "{bare}");
        assert!(bare.contains("--ca-system"), "{bare}");
        let both = says(
            rustls::Error::InvalidCertificate(C::UnknownIssuer),
            &given(true, true, false),
        );
        assert!(!both.contains("pass it with --ca-cert"), "{both}");
        assert!(!both.contains("add --ca-system"), "{both}");
        assert!(both.contains("corp.pem"), "{both}");
    }

    #[test]
    fn a_missing_client_certificate_names_the_setting_and_a_refused_one_names_the_file() {
        let none = says(
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
            &given(false, false, false),
        );
        assert!(none.contains("requires a client certificate"), "{none}");
        assert!(none.contains("certificate_required"), "{none}");
        assert!(
            none.contains("hosts = [\"api.internal:8443\"], client_cert"),
            "{none}"
        );
        let refused = says(
            rustls::Error::AlertReceived(AlertDescription::UnknownCA),
            &given(false, false, true),
        );
        assert!(
            refused.contains("did not accept the client certificate client.pem"),
            "{refused}"
        );
        assert!(refused.contains("unknown_ca"), "{refused}");
        assert!(!refused.contains("[[tls]]"), "{refused}");
    }

    #[test]
    fn a_name_mismatch_lists_the_certificates_names_plainly() {
        let e = rustls::Error::InvalidCertificate(C::NotValidForNameContext {
            expected: ServerName::try_from("127.0.0.1").unwrap(),
            presented: vec![
                "DnsName(\"a.example\")".into(),
                "IpAddress(10.0.0.1)".into(),
            ],
        });
        let msg = says(e, &given(true, false, false));
        assert!(
            msg.contains("issued for a.example, 10.0.0.1, not for 127.0.0.1"),
            "{msg}"
        );
        assert!(!msg.contains("--ca-cert"), "{msg}");
    }

    #[test]
    fn alert_names_are_the_specifications() {
        assert_eq!(
            alert_name(AlertDescription::CertificateRequired),
            "certificate_required"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::HandshakeFailure),
            "handshake_failure"
        );
    }
}
