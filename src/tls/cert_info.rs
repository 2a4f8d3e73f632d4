//! What the chain checks need from one certificate (`CertInfo`, parsed once with
//! x509-parser), and what a leaf must be good for (`Purpose`).

use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{X509Certificate, X509Version};

/// What the peer's leaf certificate must be good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A server's certificate, checked by a client.
    ServerAuth,
    /// A client's certificate, checked by a server (`requestCert`).
    ClientAuth,
}

/// What the checks need from one certificate.
#[derive(Clone)]
pub(crate) struct CertInfo<'a> {
    pub der: &'a [u8],
    pub subject: Vec<u8>,
    pub issuer: Vec<u8>,
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Vec<u8>>,
    pub v1: bool,
    /// basicConstraints: `Some((cA, pathLen))` when present.
    pub bc: Option<(bool, Option<u32>)>,
    /// keyUsage: `(digitalSignature, keyEncipherment, keyAgreement, keyCertSign)` when present.
    pub ku: Option<(bool, bool, bool, bool)>,
    /// extendedKeyUsage: `(serverAuth, clientAuth)` when present.
    pub eku: Option<(bool, bool)>,
    pub unknown_critical: bool,
    pub not_before: i64,
    pub not_after: i64,
    pub spki: Vec<u8>,
}

impl<'a> CertInfo<'a> {
    pub fn parse(der: &'a [u8]) -> Option<Self> {
        let (_, x) = x509_parser::parse_x509_certificate(der).ok()?;
        Some(Self::from_x509(der, &x))
    }

    fn from_x509(der: &'a [u8], x: &X509Certificate<'_>) -> Self {
        let mut info = CertInfo {
            der,
            subject: x.subject().as_raw().to_vec(),
            issuer: x.issuer().as_raw().to_vec(),
            ski: None,
            aki: None,
            v1: x.version() == X509Version::V1,
            bc: None,
            ku: None,
            eku: None,
            unknown_critical: false,
            not_before: x.validity().not_before.timestamp(),
            not_after: x.validity().not_after.timestamp(),
            spki: x.tbs_certificate.subject_pki.raw.to_vec(),
        };
        for ext in x.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => info.ski = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    info.aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                ParsedExtension::BasicConstraints(b) => {
                    info.bc = Some((b.ca, b.path_len_constraint))
                }
                ParsedExtension::KeyUsage(k) => {
                    info.ku = Some((
                        k.digital_signature(),
                        k.key_encipherment(),
                        k.key_agreement(),
                        k.key_cert_sign(),
                    ))
                }
                ParsedExtension::ExtendedKeyUsage(e) => {
                    info.eku = Some((e.server_auth, e.client_auth))
                }
                ParsedExtension::UnsupportedExtension { .. }
                | ParsedExtension::ParseError { .. } => info.unknown_critical |= ext.critical,
                _ => {}
            }
        }
        info
    }

    /// OpenSSL's `x509_likely_issued(parent, self)`: names chain, key ids agree, and the
    /// parent's keyUsage (if any) allows certificate signing.
    pub fn issued_by(&self, parent: &CertInfo<'_>) -> bool {
        if self.issuer != parent.subject {
            return false;
        }
        if let (Some(aki), Some(ski)) = (&self.aki, &parent.ski) {
            if aki != ski {
                return false;
            }
        }
        !matches!(parent.ku, Some((_, _, _, false)))
    }

    pub fn self_signed(&self) -> bool {
        self.issued_by(self)
    }

    /// OpenSSL's `check_ca`: 0 = not a CA, 1 = v3 CA, 3 = v1 root, 4 = keyUsage certSign only.
    pub(super) fn check_ca(&self) -> u8 {
        if matches!(self.ku, Some((_, _, _, false))) {
            return 0;
        }
        match self.bc {
            Some((true, _)) => 1,
            Some((false, _)) => 0,
            None if self.v1 && self.self_signed() => 3,
            None if self.ku.is_some() => 4,
            None => 0,
        }
    }

    /// OpenSSL's `X509_check_purpose` for `ssl_server`/`ssl_client` (non-strict mode).
    pub(super) fn purpose_ok(&self, purpose: Purpose, as_ca: bool) -> bool {
        let eku_ok = match (self.eku, purpose) {
            (None, _) => true,
            (Some((server, _)), Purpose::ServerAuth) => server,
            (Some((_, client)), Purpose::ClientAuth) => client,
        };
        if !eku_ok {
            return false;
        }
        if as_ca {
            return self.check_ca() != 0;
        }
        match (self.ku, purpose) {
            (None, _) => true,
            (Some((ds, ke, ka, _)), Purpose::ServerAuth) => ds || ke || ka,
            (Some((ds, _, ka, _)), Purpose::ClientAuth) => ds || ka,
        }
    }
}
