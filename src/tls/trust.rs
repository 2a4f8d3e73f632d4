//! Trusted roots: the `ca` option, or the system's store (loaded once per process).

use std::sync::{Arc, OnceLock};

use rustls::DistinguishedName;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor};

use super::cert_info::CertInfo;
use super::error::{TlsError, ERR_MATERIAL};

/// Trusted roots: the `ca` option, or the system's store. Parsed once, shared.
#[derive(Debug)]
pub struct TrustStore {
    certs: Vec<CertificateDer<'static>>,
    subjects: Vec<Vec<u8>>,
    pub(super) webpki: Vec<TrustAnchor<'static>>,
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
