//! Pinning: a certificate given as a CA file that is itself the server's certificate.
//!
//! `openssl req -x509` makes a self-signed certificate marked CA:TRUE, and WebPKI refuses
//! a CA certificate as a server's (`CaUsedAsEndEntity`) even when it is trusted. curl and
//! Go accept it; so does wasmgate, narrowly. When WebPKI refuses the server's certificate
//! as a CA used as end entity or as from an unknown issuer, it is accepted only if
//! - its DER bytes are identical to a certificate in the CA files for this destination,
//! - it is issued for the name (or IP) in the URL, and
//! - the current time is within its validity dates.
//!
//! The handshake signatures are still checked with the certificate's key (the default
//! provider's algorithms), so only the holder of the pinned certificate's private key
//! passes. Every other refusal (expired, wrong name, bad signature…) stands.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// WebPKI verification, plus the pinned certificates it would refuse (see the module docs).
#[derive(Debug)]
pub(super) struct PinningVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl PinningVerifier {
    pub(super) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        pinned: Vec<CertificateDer<'static>>,
    ) -> Self {
        Self { webpki, pinned }
    }

    /// The checks WebPKI did not get to for a pinned certificate: name, then dates.
    fn check_pinned(
        cert: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let ee = webpki::EndEntityCert::try_from(cert).map_err(|e| {
            rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                Arc::new(e),
            )))
        })?;
        ee.verify_is_valid_for_subject_name(server_name)
            .map_err(|e| match e {
                webpki::Error::CertNotValidForName(ctx) => {
                    rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                        expected: server_name.to_owned(),
                        presented: ctx.presented,
                    })
                }
                _ => rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
            })?;
        let (_, parsed) = x509_parser::parse_x509_certificate(cert)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let validity = parsed.validity();
        let secs = |t: &x509_parser::time::ASN1Time| {
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.timestamp().max(0) as u64))
        };
        let now_secs = now.as_secs() as i64;
        if now_secs > validity.not_after.timestamp() {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ExpiredContext {
                    time: now,
                    not_after: secs(&validity.not_after),
                },
            ));
        }
        if now_secs < validity.not_before.timestamp() {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidYetContext {
                    time: now,
                    not_before: secs(&validity.not_before),
                },
            ));
        }
        Ok(())
    }
}

/// Whether WebPKI's refusal is one that pinning may overrule.
fn pinnable(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => true,
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(e)
                if pinnable(&e)
                    && self
                        .pinned
                        .iter()
                        .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                Self::check_pinned(end_entity, server_name, now)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.webpki.root_hint_subjects()
    }
}
