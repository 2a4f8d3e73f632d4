//! Node-compatible certificate verification, as pure functions (no I/O beyond loading the
//! system roots once). Owns the trust store and `verify_chain`.
//!
//! Two gates, both must pass:
//! 1. [`chain`](super::chain) emulates OpenSSL's `X509_verify_cert` as Node runs it and yields
//!    Node's code (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`, ...). This is where
//!    Node's extra acceptance lives: X.509 v1 roots and leaves, a CA:TRUE self-signed
//!    certificate listed as its own `ca`, CN-only leaves (names are checked in identity.rs).
//! 2. webpki (`EndEntityCert::verify_for_usage`) keeps its strictness for modern
//!    certificates; only its refusals that Node does not share are waived:
//!    `UnsupportedCertVersion` (v1), `CaUsedAsEndEntity`, and `UnknownIssuer` (the OpenSSL
//!    path found a trusted issuer webpki could not use, e.g. a v1 or CA-leaf anchor).

use std::sync::{Arc, OnceLock};

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::DistinguishedName;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};

use super::chain::{self, CertInfo};
use super::error::{TlsError, VerifyError, X509Code, ERR_MATERIAL};

/// What the peer's leaf certificate must be good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A server's certificate, checked by a client.
    ServerAuth,
    /// A client's certificate, checked by a server (`requestCert`).
    ClientAuth,
}

/// Trusted roots: the `ca` option, or the system's store. Parsed once, shared.
#[derive(Debug)]
pub struct TrustStore {
    certs: Vec<CertificateDer<'static>>,
    subjects: Vec<Vec<u8>>,
    webpki: Vec<TrustAnchor<'static>>,
}

impl TrustStore {
    /// A store from the `ca` option; every certificate must parse.
    pub fn from_certs(certs: Vec<CertificateDer<'static>>) -> Result<Self, TlsError> {
        Self::build(certs, true)
    }

    fn build(certs: Vec<CertificateDer<'static>>, strict: bool) -> Result<Self, TlsError> {
        let mut kept = Vec::with_capacity(certs.len());
        let mut subjects = Vec::with_capacity(certs.len());
        let mut webpki_anchors = Vec::with_capacity(certs.len());
        for cert in certs {
            let Some(info) = CertInfo::parse(cert.as_ref()) else {
                if strict {
                    return Err(TlsError::new(
                        ERR_MATERIAL,
                        "'ca' holds a certificate that is not valid X.509",
                    ));
                }
                continue;
            };
            subjects.push(info.subject);
            // webpki takes v1 anchors too; an anchor it cannot take is left to the OpenSSL path.
            if let Ok(anchor) = webpki::anchor_from_trusted_cert(&cert) {
                webpki_anchors.push(anchor.to_owned());
            }
            kept.push(cert);
        }
        Ok(TrustStore {
            certs: kept,
            subjects,
            webpki: webpki_anchors,
        })
    }

    /// The system roots (`SSL_CERT_FILE`, else the usual bundle paths), loaded once per process.
    /// Empty when none is found: then every chain fails like an unknown issuer.
    pub fn system() -> Arc<TrustStore> {
        static SYSTEM: OnceLock<Arc<TrustStore>> = OnceLock::new();
        SYSTEM.get_or_init(|| Arc::new(load_system_roots())).clone()
    }

    /// The trusted certificate that issued `der` (matched by name), when `der` is not
    /// self-issued: what Node shows as the last `issuerCertificate` of a peer chain.
    pub fn issuer_of(&self, der: &[u8]) -> Option<CertificateDer<'static>> {
        let info = CertInfo::parse(der)?;
        if info.issuer == info.subject {
            return None;
        }
        let i = self.subjects.iter().position(|s| *s == info.issuer)?;
        Some(self.certs[i].clone())
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Subjects of the roots, sent as hints in a CertificateRequest (as Node/OpenSSL do).
    pub fn subjects(&self) -> Vec<DistinguishedName> {
        self.subjects
            .iter()
            .map(|s| DistinguishedName::from(s.clone()))
            .collect()
    }

    /// Roots whose subject is `issuer` (DER name bytes).
    pub(crate) fn candidates(&self, issuer: &[u8]) -> Vec<&[u8]> {
        self.subjects
            .iter()
            .zip(&self.certs)
            .filter(|(s, _)| s.as_slice() == issuer)
            .map(|(_, c)| c.as_ref())
            .collect()
    }
}

const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
];

fn load_system_roots() -> TrustStore {
    let from_env = std::env::var("SSL_CERT_FILE").ok();
    let paths = from_env
        .iter()
        .map(String::as_str)
        .chain(SYSTEM_BUNDLES.iter().copied());
    for path in paths {
        if let Ok(bytes) = std::fs::read(path) {
            let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
                .filter_map(Result::ok)
                .collect();
            if !certs.is_empty() {
                if let Ok(store) = TrustStore::build(certs, false) {
                    return store;
                }
            }
        }
    }
    TrustStore {
        certs: Vec::new(),
        subjects: Vec::new(),
        webpki: Vec::new(),
    }
}

/// Verifies a presented chain (leaf first) against `store` for `purpose` at `now`, returning
/// the error Node would report. Host names are not checked here (see identity.rs).
pub fn verify_chain(
    chain: &[CertificateDer<'_>],
    store: &TrustStore,
    purpose: Purpose,
    now: UnixTime,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<(), VerifyError> {
    let Some(leaf) = chain.first() else {
        // What Node reports for a peer that sent no certificate.
        return Err(X509Code::UnableToGetIssuerCert.into());
    };
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    chain::openssl_verify(chain, store, purpose, secs, algs).map_err(VerifyError::from)?;
    let usage = match purpose {
        Purpose::ServerAuth => webpki::KeyUsage::server_auth(),
        Purpose::ClientAuth => webpki::KeyUsage::client_auth(),
    };
    let strict = webpki::EndEntityCert::try_from(leaf).and_then(|ee| {
        ee.verify_for_usage(algs.all, &store.webpki, &chain[1..], now, usage, None, None)
            .map(|_| ())
    });
    match strict {
        Ok(()) => Ok(()),
        Err(e) if node_accepts(&e) => Ok(()),
        Err(e) => Err(webpki_code(&e).into()),
    }
}

/// webpki refusals that Node (OpenSSL) does not share, once the OpenSSL path succeeded.
fn node_accepts(e: &webpki::Error) -> bool {
    matches!(
        e,
        webpki::Error::UnsupportedCertVersion
            | webpki::Error::CaUsedAsEndEntity
            | webpki::Error::UnknownIssuer
    )
}

/// The closest Node code for a webpki refusal the OpenSSL path did not see.
fn webpki_code(e: &webpki::Error) -> X509Code {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } | E::InvalidCertValidity => X509Code::CertHasExpired,
        E::CertNotValidYet { .. } => X509Code::CertNotYetValid,
        E::InvalidSignatureForPublicKey => X509Code::CertSignatureFailure,
        E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => X509Code::InvalidPurpose,
        E::EndEntityUsedAsCa => X509Code::InvalidCa,
        E::PathLenConstraintViolated => X509Code::PathLengthExceeded,
        E::UnsupportedCriticalExtension => X509Code::UnhandledCriticalExtension,
        E::NameConstraintViolation => X509Code::PermittedViolation,
        E::MaximumPathDepthExceeded => X509Code::CertChainTooLong,
        _ => X509Code::CertRejected,
    }
}
