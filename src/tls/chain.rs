//! OpenSSL's verification order, emulated, so cio reports the code Node reports.
//!
//! Node runs OpenSSL with a verify callback that always continues, then reads
//! `SSL_get_verify_result`: the **last** error OpenSSL recorded wins. So this module walks the
//! same steps as OpenSSL 3's `X509_verify_cert` (build_chain, check_extensions,
//! internal_verify) and returns the last error: e.g. an expired leaf from a wrong CA is
//! `CERT_HAS_EXPIRED` in Node, not `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. This is what lets X.509
//! v1 roots, CA:TRUE self-signed leaves and CN-only leaves pass as they do in Node.
//! Signatures are checked with the crypto provider's webpki algorithms.

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::CertificateDer;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{X509Certificate, X509Version};

use super::der;
use super::error::X509Code;
use super::verify::{Purpose, TrustStore};

/// Node/OpenSSL's default verify depth is 100; chains here are short, this only stops loops.
const MAX_DEPTH: usize = 32;

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
    fn check_ca(&self) -> u8 {
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
    fn purpose_ok(&self, purpose: Purpose, as_ca: bool) -> bool {
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

struct Node<'a> {
    info: CertInfo<'a>,
    trusted: bool,
}

/// Verifies `chain` (leaf first, then whatever the peer sent) the way OpenSSL does for Node
/// and returns the error Node would report, if any.
pub(crate) fn openssl_verify(
    chain: &[CertificateDer<'_>],
    store: &TrustStore,
    purpose: Purpose,
    now: i64,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<(), X509Code> {
    let leaf = chain
        .first()
        .and_then(|c| CertInfo::parse(c.as_ref()))
        .ok_or(X509Code::CertRejected)?;
    let untrusted: Vec<CertInfo<'_>> = chain
        .iter()
        .skip(1)
        .filter_map(|c| CertInfo::parse(c.as_ref()))
        .collect();
    let mut errors = Vec::new();
    let path = build_path(leaf, &untrusted, store, &mut errors);
    check_extensions(&path, purpose, &mut errors);
    internal_verify(&path, now, algs, &mut errors);
    match errors.pop() {
        Some(code) => Err(code),
        None => Ok(()),
    }
}

/// OpenSSL's build_chain: issuers from the trust store first, then from the peer's chain.
fn build_path<'a>(
    leaf: CertInfo<'a>,
    untrusted: &[CertInfo<'a>],
    store: &'a TrustStore,
    errors: &mut Vec<X509Code>,
) -> Vec<Node<'a>> {
    let mut path = vec![Node {
        info: leaf,
        trusted: false,
    }];
    while let Some(top) = path.last() {
        if top.trusted && top.info.self_signed() {
            return path;
        }
        if path.len() > MAX_DEPTH {
            errors.push(X509Code::CertChainTooLong);
            return path;
        }
        let trusted_issuer = store
            .candidates(&top.info.issuer)
            .into_iter()
            .filter_map(CertInfo::parse)
            .find(|c| top.info.issued_by(c));
        if let Some(issuer) = trusted_issuer {
            let self_signed_top = top.info.self_signed();
            let node = Node {
                info: issuer,
                trusted: true,
            };
            if self_signed_top {
                // An untrusted self-signed cert that the store holds (or a twin of): trusted.
                path.pop();
            }
            path.push(node);
            continue;
        }
        if top.trusted || top.info.self_signed() {
            break;
        }
        let next = untrusted
            .iter()
            .find(|c| top.info.issued_by(c) && !path.iter().any(|n| n.info.der == c.der))
            .cloned();
        match next {
            Some(info) => path.push(Node {
                info,
                trusted: false,
            }),
            None => break,
        }
    }
    if let Some(top) = path.last() {
        let code = if top.info.self_signed() {
            if path.len() == 1 {
                X509Code::DepthZeroSelfSignedCert
            } else {
                X509Code::SelfSignedCertInChain
            }
        } else if top.trusted {
            X509Code::UnableToGetIssuerCert
        } else if path.len() == 1 {
            X509Code::UnableToVerifyLeafSignature
        } else {
            X509Code::UnableToGetIssuerCertLocally
        };
        errors.push(code);
    }
    path
}

/// OpenSSL's check_extensions (non-strict): critical extensions, CA-ness of issuers,
/// purpose, path length (`plen` counts the non-self-issued intermediates below `x`).
fn check_extensions(path: &[Node<'_>], purpose: Purpose, errors: &mut Vec<X509Code>) {
    let mut plen: u32 = 0;
    for (i, node) in path.iter().enumerate() {
        let x = &node.info;
        if x.unknown_critical {
            errors.push(X509Code::UnhandledCriticalExtension);
        }
        if i > 0 {
            let ca = x.check_ca();
            if ca == 0 || (i + 1 < path.len() && ca != 1) {
                errors.push(X509Code::InvalidCa);
            }
        }
        if !x.purpose_ok(purpose, i > 0) {
            errors.push(X509Code::InvalidPurpose);
        }
        if i > 1 {
            if let Some((_, Some(max))) = x.bc {
                if plen > max {
                    errors.push(X509Code::PathLengthExceeded);
                }
            }
        }
        if i > 0 && x.subject != x.issuer {
            plen += 1;
        }
    }
}

/// OpenSSL's internal_verify: from the top down, each signature with its issuer's key
/// (a self-signed top is not checked), then each certificate's validity dates.
fn internal_verify(
    path: &[Node<'_>],
    now: i64,
    algs: &WebPkiSupportedAlgorithms,
    errors: &mut Vec<X509Code>,
) {
    let Some(top) = path.last() else { return };
    let n = path.len();
    let start = if top.info.self_signed() {
        n - 1
    } else if n == 1 {
        errors.push(X509Code::UnableToVerifyLeafSignature);
        check_time(&top.info, now, errors);
        return;
    } else {
        n - 2
    };
    for i in (0..=start).rev() {
        let xs = &path[i].info;
        if i + 1 < n {
            if let Err(code) = check_signature(xs, &path[i + 1].info, algs) {
                errors.push(code);
            }
        }
        check_time(xs, now, errors);
    }
}

fn check_time(x: &CertInfo<'_>, now: i64, errors: &mut Vec<X509Code>) {
    if now < x.not_before {
        errors.push(X509Code::CertNotYetValid);
    }
    if now > x.not_after {
        errors.push(X509Code::CertHasExpired);
    }
}

/// `child`'s signature, verified with `issuer`'s public key by a provider algorithm whose
/// (public key, signature) algorithm identifiers match the certificates'.
pub(crate) fn check_signature(
    child: &CertInfo<'_>,
    issuer: &CertInfo<'_>,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<(), X509Code> {
    let signed = der::signed_parts(child.der).ok_or(X509Code::CertSignatureFailure)?;
    let (key_alg, key) =
        der::spki_parts(&issuer.spki).ok_or(X509Code::UnableToDecodeIssuerPublicKey)?;
    let verified = algs
        .all
        .iter()
        .filter(|a| {
            a.public_key_alg_id().as_ref() == key_alg
                && a.signature_alg_id().as_ref() == signed.sig_alg
        })
        .any(|a| {
            a.verify_signature(key, signed.tbs, signed.signature)
                .is_ok()
        });
    if verified {
        Ok(())
    } else {
        Err(X509Code::CertSignatureFailure)
    }
}
